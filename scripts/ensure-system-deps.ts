/**
 * Runs before the tests: makes sure the system tools they need are present. Installs them with
 * apt-get when it can (root on Debian/Ubuntu), otherwise stops at once with the exact command.
 * Never skips silently.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** System packages the test suite needs, by the command that proves each is there. */
const REQUIRED: { command: string; aptPackage: string; why: string }[] = [
  { command: 'ffmpeg', aptPackage: 'ffmpeg', why: 'publishes, transcodes and plays streams in the end-to-end tests' },
  { command: 'redis-server', aptPackage: 'redis-server', why: 'the Redis coordinator and origin-cluster tests run against a real server' },
  { command: 'promtool', aptPackage: 'prometheus', why: 'unit-tests the alerting rules (promtool test rules infra/prometheus/alerts.test.yml)' },
  { command: 'chromium', aptPackage: 'chromium', why: 'the watch page and the players are tested in headless Chromium (playwright-core drives /usr/bin/chromium, never a downloaded browser)' },
];

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const missing = REQUIRED.filter((r) => !has(r.command));
if (missing.length === 0) process.exit(0);

const packages = missing.map((m) => m.aptPackage).join(' ');
const command = `apt-get update && apt-get install -y --no-install-recommends ${packages}`;
for (const m of missing) console.error(`missing: ${m.command} (${m.why})`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(`\nInstall them and run the tests again:\n  sudo sh -c '${command}'`);
  process.exit(1);
}
console.error(`installing: ${command}`);
try {
  execFileSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${command}`], { stdio: 'inherit' });
} catch {
  console.error(`\napt-get failed. Install by hand and run the tests again:\n  ${command}`);
  process.exit(1);
}
const still = missing.filter((m) => !has(m.command));
if (still.length > 0) {
  console.error(`still missing after apt-get: ${still.map((m) => m.command).join(', ')}`);
  process.exit(1);
}
