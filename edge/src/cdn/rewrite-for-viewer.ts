/** A shared media playlist rewritten for one viewer onto its CDN. Pure, so the benchmark runs the same code. */
import type { CdnConfig } from './cdn-config.ts';
import { rankNodes } from '../../../shared/src/hashing/rendezvous.ts';
import { firstHealthyCdn } from './cdn-ranking.ts';
import { rewriteMediaPlaylist } from './rewrite-media-playlist.ts';

/** Where a CDN serves a rendition's files. */
export function renditionBase(cdn: CdnConfig, streamId: string, rendition: string): string {
  return `${cdn.baseUrl}/live/${streamId}/${rendition}/`;
}

/** Per CDN list, the ranking of each file path seen (segment mode); bounded, cleared when full. */
const fileRankings = new WeakMap<readonly CdnConfig[], Map<string, readonly CdnConfig[]>>();
const MAX_FILE_RANKINGS = 10_000;

/**
 * The full ranking of one file. Every viewer of a stream asks for the same few files, so each is
 * hashed once per isolate; the result depends only on the path and the CDN list, never on health.
 */
function fileRanking(path: string, cdns: readonly CdnConfig[]): readonly CdnConfig[] {
  let memo = fileRankings.get(cdns);
  if (!memo) fileRankings.set(cdns, (memo = new Map()));
  let ranked = memo.get(path);
  if (!ranked) {
    if (memo.size >= MAX_FILE_RANKINGS) memo.clear();
    ranked = rankNodes(path, cdns);
    memo.set(path, ranked);
  }
  return ranked;
}

/** What a media playlist rewrite depends on; pure input, so the benchmark runs the same code. */
export interface MediaRewrite {
  streamId: string;
  rendition: string;
  sid: string | null;
  cdns: readonly CdnConfig[];
  down: ReadonlySet<string>;
  hashKey: 'session' | 'stream' | 'segment';
}

/** Rewrites a shared media playlist for one viewer; unchanged when every CDN is down (served from the edge). */
export function rewriteForViewer(playlist: string, r: MediaRewrite): string {
  if (r.hashKey === 'segment') {
    // Each file on its own CDN: every viewer names the same CDN for a segment, so each CDN caches a share.
    return rewriteMediaPlaylist(playlist, (uri) => {
      const cdn = fileRanking(`${r.streamId}/${r.rendition}/${uri}`, r.cdns).find((c) => !r.down.has(c.id));
      return cdn ? `${renditionBase(cdn, r.streamId, r.rendition)}${uri}` : uri;
    });
  }
  const cdn = firstHealthyCdn(r.hashKey === 'stream' || r.sid === null ? r.streamId : r.sid, r.cdns, r.down);
  if (!cdn) return playlist;
  const base = renditionBase(cdn, r.streamId, r.rendition);
  return rewriteMediaPlaylist(playlist, (uri) => base + uri);
}

