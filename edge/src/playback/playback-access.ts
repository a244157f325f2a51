/**
 * Access to a stream's playback: the request's token is checked statelessly (keys and clock, no
 * Durable Object) before anything else, and a `signed` stream refuses a request without one. The
 * stream's policy is learned from what the route reads anyway (the cached playlist, the cached
 * serving verdict), so no request pays an extra Durable Object call for it.
 */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import type { AppEnv } from '../app-env.ts';
import { refusalMessage, verifyPlaybackToken } from './playback-token.ts';

/** The query parameter carrying a playback token in every playback URL. */
export const TOKEN_PARAM = 'token';

/**
 * The request's playback token once verified for `streamId`, or null when it carries none.
 * Throws `forbidden` (403) for a token that is malformed, expired, for another stream or signed
 * with a key this edge does not hold, whatever the stream's policy: a bad token is never ignored.
 */
export async function verifiedPlaybackToken(c: Context<AppEnv>, streamId: string): Promise<string | null> {
  const token = new URL(c.req.url).searchParams.get(TOKEN_PARAM);
  if (token === null || token === '') return null;
  const keys = c.var.settings.playbackSigningKeys;
  if (keys === null) throw new EdgeliveError('forbidden', 'playback tokens are not configured on this edge (PLAYBACK_SIGNING_KEY)');
  const check = await verifyPlaybackToken(keys, token, streamId, Math.floor(Date.now() / 1000));
  if (!check.ok) throw new EdgeliveError('forbidden', refusalMessage(check.reason));
  return token;
}

/** Throws `unauthorized` (401) when a `signed` stream is asked for without a token. */
export function requireTokenIfSigned(policy: PlaybackPolicy | undefined, token: string | null, streamId: string): void {
  if (policy === 'signed' && token === null) {
    throw new EdgeliveError('unauthorized', `stream ${streamId} is signed: add ?${TOKEN_PARAM}= with a token from POST /v1/streams/${streamId}/playback-tokens`);
  }
}
