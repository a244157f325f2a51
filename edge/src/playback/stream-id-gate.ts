/** The first check on a playback request: a stream id the edge did not issue ends here, before any Durable Object. */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isSignedStreamId } from '../../../shared/src/keys/signed-stream-id.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { AppEnv } from '../app-env.ts';

/** Throws `stream_not_found` unless `id` is well-formed and carries the edge's tag (when ids are signed). */
export async function requireIssuedStreamId(c: Context<AppEnv>, id: string): Promise<void> {
  const secret = c.var.settings.streamIdSecret;
  const issued = secret === null ? isStreamId(id) : await isSignedStreamId(secret, id);
  if (!issued) throw new EdgeliveError('stream_not_found', 'stream not found');
}
