/** The LL-HLS delivery directives of a media playlist request (RFC 8216bis §6.2.5). Pure. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { BlockingRequest } from '../stream-do/low-latency-playlist.ts';

/** What a playlist request asks for beyond the playlist itself. */
export interface PlaylistDirectives {
  /** `_HLS_msn` (and `_HLS_part`): hold the answer until the playlist holds them. */
  block?: BlockingRequest;
  /** `_HLS_skip=YES` (or `v2`; we list no date ranges): a delta update. */
  skip: boolean;
}

const INDEX = /^\d{1,12}$/;

function index(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  if (!INDEX.test(value)) throw new EdgeliveError('bad_request', `${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

/** Reads `_HLS_msn`, `_HLS_part` and `_HLS_skip`; `_HLS_part` without `_HLS_msn` is 400 (§6.2.5.2). */
export function playlistDirectives(url: URL): PlaylistDirectives {
  const msn = index(url, '_HLS_msn');
  const part = index(url, '_HLS_part');
  if (part !== undefined && msn === undefined) throw new EdgeliveError('bad_request', '_HLS_part requires _HLS_msn');
  const skipValue = url.searchParams.get('_HLS_skip');
  const skip = skipValue === 'YES' || skipValue === 'v2';
  return { ...(msn === undefined ? {} : { block: part === undefined ? { msn } : { msn, part } }), skip };
}
