/**
 * Copies the players the watch page loads from their npm packages into the Worker's assets
 * directory (edge/public/vendor, git-ignored). Run by wrangler's `[build]` before `dev` and
 * `deploy`, and by `npm run build:assets`; players are never loaded from a CDN.
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Package file → name under edge/public/vendor. */
export const PLAYER_ASSETS: readonly { from: string; to: string }[] = [
  { from: 'node_modules/hls.js/dist/hls.min.js', to: 'hls.min.js' },
  { from: 'node_modules/dashjs/dist/modern/umd/dash.all.min.js', to: 'dash.all.min.js' },
];

/** Copies every player file whose copy is missing or older; returns the files copied. */
export function copyPlayerAssets(root = ROOT): string[] {
  const copied: string[] = [];
  for (const { from, to } of PLAYER_ASSETS) {
    const source = join(root, from);
    const target = join(root, 'edge/public/vendor', to);
    let fresh = false;
    try {
      fresh = statSync(target).mtimeMs >= statSync(source).mtimeMs;
    } catch {
      // no copy yet
    }
    if (fresh) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
    copied.push(to);
  }
  return copied;
}

if (import.meta.main) {
  const copied = copyPlayerAssets();
  console.log(copied.length > 0 ? `player assets copied: ${copied.join(', ')}` : 'player assets up to date');
}
