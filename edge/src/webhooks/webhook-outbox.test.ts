import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createStream } from '../test-support/edge-client.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { StreamStore } from '../stream-do/stream-store.ts';
import type { WebhookEvent } from './webhook-events.ts';
import { WebhookOutbox, type WebhookSink } from './webhook-outbox.ts';

function stub(id: string) {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

/** A hub that refuses while `down` is set; every hand-over it sees is kept. */
function fakeHub() {
  const calls: WebhookEvent[][] = [];
  const hub = {
    down: true,
    calls,
    sink: {
      accept: async (events: readonly WebhookEvent[]) => {
        calls.push([...events]);
        if (hub.down) throw new Error('hub unavailable');
        return events.length;
      },
    } satisfies WebhookSink,
  };
  return hub;
}

interface HandoverRow extends Record<string, SqlStorageValue> {
  handed_seq: number;
  retry_at: number | null;
  failures: number;
}

describe('the StreamDO’s webhook outbox', () => {
  it('keeps a failed hand-over pending, arms the stream’s alarm for its retry, and hands the same message over when the hub is back', async () => {
    const { id } = await createStream({ name: 'outbox' });
    const result = await runInDurableObject(stub(id), async (_do: StreamDO, state) => {
      const store = new StreamStore(state.storage.sql);
      store.migrate({ reconnectWindowSeconds: 60 });
      const hub = fakeHub();
      // Re-arms as StreamUpkeep does for this one duty: the alarm at its next time.
      const rearm = async () => {
        const at = outbox.nextAlarmAt();
        if (at !== null) await state.storage.setAlarm(at);
      };
      const outbox: WebhookOutbox = new WebhookOutbox({ sql: state.storage.sql, source: store, sink: () => hub.sink, rearm });
      outbox.migrate(); // the stream's own outbox already handed `created` over: nothing pending
      await outbox.settled();
      const callsAtStart = hub.calls.length;
      const handed = state.storage.sql.exec<HandoverRow>('SELECT * FROM webhook_handover').one().handed_seq;

      const now = Date.now();
      const event = store.appendEvent(now, 'ended', { epoch: 0, reason: 'ended_by_api' });
      store.appendEvent(now, 'viewer_milestone', { viewers: 10, peak: 10 }); // not a webhook
      outbox.committed([event]);
      await outbox.settled();
      const failed = state.storage.sql.exec<HandoverRow>('SELECT * FROM webhook_handover').one();
      const alarm = await state.storage.getAlarm();
      const pendingAt = outbox.nextAlarmAt();
      const doneWhileFailed = outbox.doneWith();

      hub.down = false;
      await outbox.runAlarm(store.stream()!, failed.retry_at!);
      await outbox.settled();
      const after = state.storage.sql.exec<HandoverRow>('SELECT * FROM webhook_handover').one();
      return { callsAtStart, handed, event, failed, alarm, now, pendingAt, doneWhileFailed, calls: hub.calls, after, doneAfter: outbox.doneWith(), nextAfter: outbox.nextAlarmAt() };
    });

    expect(result.callsAtStart).toBe(0);
    expect(result.failed.handed_seq).toBe(result.handed);
    expect(result.failed.failures).toBe(1);
    // The first retry waits 1 s (handoverRetryMs); the stream's alarm fires by then.
    expect(result.failed.retry_at! - result.now).toBeGreaterThanOrEqual(1_000);
    expect(result.failed.retry_at! - result.now).toBeLessThan(2_000);
    expect(result.alarm).toBeLessThanOrEqual(result.failed.retry_at!);
    expect(result.pendingAt).toBe(result.failed.retry_at);
    expect(result.doneWhileFailed).toBe(false);
    // Both hand-overs carried the same message: the hub drops the repeat by its id.
    const message = { messageId: `msg_${id}_${result.event.seq}`, type: 'stream.ended', ts: result.now, body: expect.stringContaining('"type":"stream.ended"') };
    expect(result.calls).toEqual([[message], [message]]);
    expect(result.after).toEqual({ singleton: 1, handed_seq: result.event.seq + 1, retry_at: null, failures: 0 });
    expect([result.doneAfter, result.nextAfter]).toEqual([true, null]);
  });

  it('after a restart, hands over what the log holds past the cursor', async () => {
    const { id } = await createStream({ name: 'restart' });
    const calls = await runInDurableObject(stub(id), async (_do: StreamDO, state) => {
      const store = new StreamStore(state.storage.sql);
      store.migrate({ reconnectWindowSeconds: 60 });
      store.appendEvent(Date.now(), 'error', { epoch: 1, reason: 'origin_silent', message: 'gone' });
      const hub = fakeHub();
      hub.down = false;
      // A fresh outbox over the same storage, as after an eviction in the middle of a hand-over.
      const outbox = new WebhookOutbox({ sql: state.storage.sql, source: store, sink: () => hub.sink, rearm: async () => {} });
      outbox.migrate();
      await outbox.settled();
      return hub.calls.map((c) => c.map((e) => e.type));
    });
    expect(calls).toEqual([['stream.error']]);
  });
});
