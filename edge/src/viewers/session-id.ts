/** Viewer session ids in playback URLs (`?sid=`). */
import { sessionIdSchema } from '../../../shared/src/viewers/beacon.ts';
import { addQueryParamToPlaylist } from '../playback/playlist-query.ts';

/** The query parameter carrying the session id. */
export const SESSION_PARAM = 'sid';

/** The request's valid session id, or null (missing or malformed ids are not trusted). */
export function sessionIdOf(url: URL): string | null {
  const sid = url.searchParams.get(SESSION_PARAM);
  return sid !== null && sessionIdSchema.safeParse(sid).success ? sid : null;
}

/** The URL without its session id: what playlist caches are keyed by, so viewers share entries. */
export function withoutSessionId(url: URL): string {
  const copy = new URL(url);
  copy.searchParams.delete(SESSION_PARAM);
  return copy.toString();
}

/** Adds `?sid=` to every URI line of a playlist (lines not starting with `#`). Pure. */
export function addSessionId(playlist: string, sid: string): string {
  return addQueryParamToPlaylist(playlist, SESSION_PARAM, sid, false);
}
