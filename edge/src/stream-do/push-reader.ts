import type { PlaylistPushMessage } from './playlist-push.ts';

/**
 * Reads a playlist push subscription (newline-delimited JSON) to its end, calling `onMessage` for
 * each message; after each chunk read, `stop()` may end it early (the stream is then cancelled, so
 * the sender stops writing to it). Used by isolates (pushed-playlists.ts) and shards (playlist-relay.ts).
 */
export async function readPush(stream: ReadableStream<Uint8Array>, onMessage: (message: PlaylistPushMessage) => void, stop: () => boolean = () => false): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      onMessage(JSON.parse(line) as PlaylistPushMessage);
    }
    if (stop()) {
      await reader.cancel();
      return;
    }
  }
}
