/** The first check on a playback request: a stream id the edge did not issue ends here, before any Durable Object. */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isSignedStreamId } from '../../../shared/src/keys/signed-stream-id.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { AppEnv } from '../app-env.ts';

/** True when `id` is well-formed and carries the edge's tag (when ids are signed). */
export async function isIssuedStreamId(c: Context<AppEnv>, id: string): Promise<boolean> {
  const secret = c.var.settings.streamIdSecret;
  return secret === null ? isStreamId(id) : await isSignedStreamId(secret, id);
}

/** Throws `stream_not_found` unless `id` is well-formed and carries the edge's tag (when ids are signed). */
export async function requireIssuedStreamId(c: Context<AppEnv>, id: string): Promise<void> {
  if (!(await isIssuedStreamId(c, id))) throw new EdgeliveError('stream_not_found', 'stream not found');
}
