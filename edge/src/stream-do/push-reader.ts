import type { PlaylistPushMessage, PushDelta } from './playlist-push.ts';
import { applyPatch } from './push-patch.ts';

/**
 * Turns one subscription's lines back into whole messages: a `delta` is applied to the state it
 * was made from, which must be the last state this subscription brought (one subscription's lines
 * arrive in order, so anything else is a broken stream and throws).
 */
type StateMessage = Extract<PlaylistPushMessage, { type: 'state' }>;

export class PushStates {
  #last: StateMessage | null = null;

  take(wire: PlaylistPushMessage | PushDelta): PlaylistPushMessage {
    if (wire.type === 'delta') {
      if (this.#last?.seq !== wire.base) throw new Error(`playlist push: change ${wire.seq} is made from state ${wire.base}, but the last state here is ${this.#last?.seq ?? 'none'}`);
      this.#last = { ...(applyPatch(this.#last, wire.patch) as StateMessage), seq: wire.seq, heardAt: wire.heardAt };
      return this.#last;
    }
    if (wire.type === 'state') this.#last = wire;
    else if (wire.type !== 'feed') this.#last = null;
    return wire;
  }

  /** The last state taken (null before the first, or after a `gone` or `direct`). */
  get last(): StateMessage | null {
    return this.#last;
  }
}

/**
 * Reads a playlist push subscription (newline-delimited JSON) to its end, calling `onMessage` for
 * each message (changes already applied: always a whole state); after each chunk read, `stop()` may
 * end it early (the stream is then cancelled, so the sender stops writing to it). Used by isolates
 * (pushed-playlists.ts).
 */
export async function readPush(stream: ReadableStream<Uint8Array>, onMessage: (message: PlaylistPushMessage) => void, stop: () => boolean = () => false): Promise<void> {
  const states = new PushStates();
  await readPushLines(stream, (line) => onMessage(states.take(JSON.parse(line) as PlaylistPushMessage | PushDelta)), stop);
}

/**
 * Reads a playlist push subscription to its end, calling `onLine` with each line's text, unparsed
 * (a shard passes most lines on as they are: playlist-relay.ts); `stop` as for `readPush`.
 */
export async function readPushLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void, stop: () => boolean = () => false): Promise<void> {
  // Decoded here rather than through a TextDecoderStream: one stream stage less per chunk for every subscriber.
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      onLine(line);
    }
    if (stop()) {
      await reader.cancel();
      return;
    }
  }
}
