/**
 * Test reader of a playlist push subscription: each line as sent, parsed, and the state a
 * subscriber holds after it (changes applied, push-reader.ts). A read that loses the race to the
 * timeout is kept for the next call, so its chunk is not lost.
 */
import type { PlaylistPushMessage, PushDelta } from '../stream-do/playlist-push.ts';
import { PushStates } from '../stream-do/push-reader.ts';

export type PushLine = { line: string; wire: PlaylistPushMessage | PushDelta; state: PlaylistPushMessage };

/** `next(ms)`: the next line, `done` when the subscription closed, or `none` if nothing came within `ms`. */
export function pushLines(stream: ReadableStream<Uint8Array>): (ms?: number) => Promise<PushLine | 'none' | 'done'> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const states = new PushStates();
  let buffer = '';
  let pending: Promise<ReadableStreamReadResult<string>> | null = null;
  return async (ms = 500) => {
    for (;;) {
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const wire = JSON.parse(line) as PlaylistPushMessage | PushDelta;
        return { line, wire, state: states.take(wire) };
      }
      pending ??= reader.read();
      const read = await Promise.race([pending, new Promise<'none'>((r) => setTimeout(() => r('none'), ms))]);
      if (read === 'none') return 'none';
      pending = null;
      if (read.done) return 'done';
      buffer += read.value;
    }
  };
}
