import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { formatStreamKey, newKeySecret, newStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { PublishGrant, PublishRequest } from '../../../shared/src/schemas.ts';
import type { EdgeClient } from '../announce/edge-client.ts';
import { StreamOutbox } from '../announce/stream-outbox.ts';
import { LeaseKeeper } from '../cluster/lease-keeper.ts';
import { MemoryCoordinator } from '../cluster/memory-coordinator.ts';
import { flvTag } from '../ingest/flv-test-tags.ts';
import type { IngestPublish } from '../ingest/rtmp-ingest-server.ts';
import { MemorySegmentStore } from '../store/memory-segment-store.ts';
import { SegmentStoreError } from '../store/segment-store-error.ts';
import type { MediaSink, TranscoderEvents } from '../transcode/transcoder.ts';
import { PublishRun, type PublishRunDeps, type StreamTranscoder } from './publish-run.ts';

const silent = pino({ level: 'silent' });
const LADDER = { rungs: [{ name: '240p', height: 240, videoKbps: 500 }], audioKbps: 64 };
const INIT_INFO = { tracks: [{ trackId: 1, kind: 'video' as const, timescale: 15360, codec: 'avc1.64000d', width: 320, height: 240, defaultSampleDuration: 0, defaultSampleFlags: 0 }] };
const AAC_SEQUENCE_HEADER = flvTag(8, [0xaf, 0x00, 0x12, 0x10]);
const AVC_KEYFRAME = flvTag(9, [0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x65]);
/** Segment files announced, in order, whatever batches they came in. */
const announcedFiles = (calls: string[]) => calls.filter((c) => c.startsWith('segments ')).flatMap((c) => c.split(' ').slice(2));
const tick = (ms = 40) => new Promise((r) => setTimeout(r, ms));

/** The edge as a recording fake: grants epochs like the StreamDO, and can be down or refuse. */
function fakeEdge() {
  const calls: string[] = [];
  const state = { slowPublishMs: 0, epoch: 0, nextMsn: 0, down: false, refuse: undefined as EdgeliveError | undefined, publishRefusal: undefined as EdgeliveError | undefined };
  const check = () => {
    if (state.refuse) throw state.refuse;
    if (state.down) throw new EdgeliveError('upstream_failed', 'edge unreachable: ECONNREFUSED');
  };
  const edge: EdgeClient = {
    // Refused like the publish itself (a wrong key); not recorded in `calls`, which follow the grant.
    checkKey: async (req) => {
      if (state.publishRefusal?.code === 'stream_key_invalid') throw state.publishRefusal;
      check();
      return { streamId: req.streamKey.split('_')[0]! };
    },
    publish: async (req: PublishRequest): Promise<PublishGrant> => {
      if (state.slowPublishMs) await tick(state.slowPublishMs);
      if (state.publishRefusal) throw state.publishRefusal;
      check();
      state.epoch++;
      calls.push(`publish takeover=${req.takeover?.previousEpoch ?? '-'} minMsn=${req.minMsn ?? 0}`);
      return { streamId: req.streamKey.split('_')[0]!, epoch: state.epoch, ladder: LADDER, segmentSeconds: 2, firstMsn: Math.max(state.nextMsn, req.minMsn ?? 0), partSeconds: null };
    },
    announceRendition: async (_id, b) => {
      check();
      calls.push(`rendition ${b.epoch} ${b.rendition.initFile}`);
    },
    announceSegments: async (_id, b) => {
      check();
      for (const s of b.segments) state.nextMsn = Math.max(state.nextMsn, s.msn + 1);
      calls.push(`segments ${b.epoch} ${b.segments.map((s) => s.file).join(' ')}`);
    },
    heartbeat: async (_id, b) => {
      check();
      calls.push(`heartbeat ${b.epoch}`);
    },
    end: async (_id, b) => {
      check();
      calls.push(`end ${b.epoch} ${b.reason} next=${b.nextMsn}`);
    },
  };
  return { edge, calls, state };
}

/** ffmpeg as a fake: records what the run asks of it; `emit` sends media down to the sink like ffmpeg's outputs. */
function fakeTranscoder() {
  const log: string[] = [];
  let sink: MediaSink | undefined;
  let grant: PublishGrant | undefined;
  let events: TranscoderEvents | undefined;
  let msn = 0;
  let rendition = '';
  const transcoder: StreamTranscoder = {
    started: false,
    progress: undefined,
    async start(g, plan, s, _logger, firstInput) {
      rendition = plan.renditions[0]!.name;
      (transcoder as { started: boolean }).started = true;
      grant = g;
      sink = s;
      msn = g.firstMsn;
      await tick(20); // spawning ffmpeg takes a while: tags keep arriving meanwhile
      log.push(`start epoch=${g.epoch} firstMsn=${g.firstMsn} input=${firstInput().length}`);
      s.init(g.epoch, rendition, new Uint8Array([g.epoch]), INIT_INFO);
    },
    fed: () => {},
    write: (tag) => {
      // Like the real one, writing before an ffmpeg was started is a bug.
      if (!transcoder.started) throw new Error('write before start');
      log.push(`write ${tag.length}`);
      return 0;
    },
    stalledFor: () => undefined,
    async drain() {
      log.push('drain');
      emit(); // ffmpeg flushes its last segment
    },
    async stop(reason) {
      log.push(`stop ${reason}`);
    },
    kill(reason) {
      log.push(`kill ${reason}`);
    },
  };
  const emit = () => sink!.segment(grant!.epoch, rendition, { msn: msn++, duration: 2, startSeconds: 0, programDateTime: 1_000_000 + msn * 2000, timelineOrigin: 1_000_000, bytes: new Uint8Array(10) });
  return { transcoder, log, emit, fail: (message: string) => events!.onFailed({ code: 'ffmpeg_exited', message }), bind: (e: TranscoderEvents) => (events = e) };
}

/** A broadcaster's publish as the ingest server hands it over: sends codecs at tap, records its disconnect. */
function fakePublish(streamKey: string) {
  const rejected: string[] = [];
  let deliver: ((tag: Buffer) => void) | undefined;
  const publish: IngestPublish = {
    sessionId: `s-${Math.random()}`,
    app: 'live',
    streamKey,
    remoteAddress: '127.0.0.1',
    tap(onTag) {
      deliver = onTag;
      queueMicrotask(() => {
        onTag(AAC_SEQUENCE_HEADER);
        onTag(AVC_KEYFRAME);
      });
      return () => {};
    },
    reject: (_reason, code) => void rejected.push(code ?? ''),
  };
  return { publish, rejected, send: (tag: Buffer) => deliver?.(tag) };
}

class FlakyStore extends MemorySegmentStore {
  down = false;
  override async put(key: string, body: Uint8Array, opts: { contentType: string; cacheControl: string }): Promise<void> {
    if (this.down) throw new SegmentStoreError('store_unavailable', 'ECONNREFUSED');
    return super.put(key, body, opts);
  }
}

/** One node's worth of collaborators around one stream, all real but ffmpeg and the edge. */
function setup() {
  const streamId = newStreamId();
  const key = formatStreamKey(streamId, newKeySecret());
  const edge = fakeEdge();
  const store = new FlakyStore();
  const coordinator = new MemoryCoordinator();
  const leases = new LeaseKeeper({ coordinator, settings: { nodeId: 'node-a', leaseTtlMs: 5_000, nodeCapacity: 4, clusterCapacity: 10 }, logger: silent, onCoordinatorError: () => {} });
  let outbox: StreamOutbox | undefined;
  let current: PublishRun | undefined;
  const start = (takeoverFrom?: string) => {
    const pub = fakePublish(key);
    const ffmpeg = fakeTranscoder();
    const deps: PublishRunDeps = {
      publish: pub.publish,
      settings: { nodeId: 'node-a', heartbeatMs: 30, probeTimeoutMs: 500, drainTimeoutMs: 500, maxRestarts: 2, restartBackoffMs: 10, healthyResetMs: 60_000, grantPatienceMs: 300, handoverSettleMs: 500 },
      edge: edge.edge,
      metrics: { ingestBitrate: () => {}, ffmpegRestarted: () => {}, coordinatorError: () => {} },
      ownership: leases,
      ...(takeoverFrom ? { takeoverFrom } : {}),
      logger: silent,
      outboxFor: (id) =>
        (outbox ??= new StreamOutbox({
          streamId: id,
          store,
          edge: edge.edge,
          metrics: { segmentStored: () => {}, segmentAnnounced: () => {}, uploadBacklog: () => {}, segmentsDropped: () => {} },
          settings: { maxQueuedBytes: 1_000_000, retryBaseMs: 5, retryMaxMs: 20 },
          logger: silent,
          onRefused: (r) => current?.fence(r.code),
        })),
      claim: () => {
        const older = current;
        current = run;
        if (older && older !== run) older.supersede();
      },
      earlierPublishesDone: async () => {},
      createTranscoder: (events) => {
        ffmpeg.bind(events);
        return ffmpeg.transcoder;
      },
    };
    const run: PublishRun = new PublishRun(deps);
    const done = run.run();
    return { run, done, ffmpeg, rejected: pub.rejected, send: pub.send };
  };
  /** Waits until the publish is live and its (fake) ffmpeg for the current epoch has started. */
  const live = async (r: { run: PublishRun; ffmpeg: { log: string[] } }) => {
    const started = () => r.run.state === 'live' && r.ffmpeg.log.some((l) => l.startsWith(`start epoch=${r.run.epoch} `));
    for (let i = 0; i < 100 && !started(); i++) await tick(10);
    expect(r.run.state).toBe('live');
    expect(started()).toBe(true);
  };
  return { streamId, edge, store, coordinator, leases, start, live, outbox: () => outbox! };
}

describe('PublishRun', () => {
  it('publisher leaves (reconnect): drains ffmpeg, announces the end with the next msn, releases the lease, stays resumable', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    a.ffmpeg.emit();
    a.run.unpublish();
    expect(await a.done).toEqual({ kind: 'stopped' });
    expect(a.ffmpeg.log).toEqual(['start epoch=1 firstMsn=0 input=2', 'drain']);
    expect(a.rejected).toEqual([]); // already gone
    await s.outbox().whenIdle();
    // The end goes out at once (the stream shows `reconnecting` within 2 s); queued segments follow whenever stored.
    expect(s.edge.calls.filter((c) => c.startsWith('publish') || c.startsWith('rendition') || c.startsWith('end'))).toEqual(['publish takeover=- minMsn=0', 'rendition 1 init-1.mp4', 'end 1 publisher_stopped next=2']);
    expect(announcedFiles(s.edge.calls)).toEqual(['seg-0-e1.m4s', 'seg-1-e1.m4s']);
    expect((await s.coordinator.lease(s.streamId))?.nodeId ?? '').toBe('');

    // The broadcaster comes back with the same key: a new epoch numbered after everything made.
    const b = s.start();
    await s.live(b);
    expect(b.ffmpeg.log).toEqual(['start epoch=2 firstMsn=2 input=2']);
    b.run.unpublish();
    await b.done;
  });

  it('tags arriving while the edge admits the publish and ffmpeg starts become its first input, in order', async () => {
    const s = setup();
    s.edge.state.slowPublishMs = 50;
    const a = s.start();
    await tick(20); // probed; the grant is on its way
    a.send(flvTag(9, [0x27, 0x01, 0, 0, 0, 1]));
    await tick(40); // granted; ffmpeg is starting
    a.send(flvTag(9, [0x27, 0x01, 0, 0, 0, 2]));
    await s.live(a);
    await tick(40);
    a.send(flvTag(9, [0x27, 0x01, 0, 0, 0, 3]));
    expect(a.ffmpeg.log).toEqual(['start epoch=1 firstMsn=0 input=4', 'write 21']);
    a.run.unpublish();
    await a.done;
  });

  it('the edge refuses the key: refused with its code, publisher disconnected, nothing announced', async () => {
    const s = setup();
    s.edge.state.publishRefusal = new EdgeliveError('stream_key_invalid', 'stream key is not valid');
    const a = s.start();
    expect(await a.done).toEqual({ kind: 'refused', code: 'stream_key_invalid', message: 'stream key is not valid' });
    expect(a.rejected).toEqual(['stream_key_invalid']);
    expect(a.ffmpeg.log).toEqual([]);
    expect(s.edge.calls).toEqual([]);
  });

  it('checks the key before it takes the lease: a wrong key never holds a lease or a capacity slot, and the live publish goes on', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    const acquire = vi.spyOn(s.leases, 'acquire');
    s.edge.state.publishRefusal = new EdgeliveError('stream_key_invalid', 'stream key is not valid');
    const results = await Promise.all(Array.from({ length: 20 }, () => s.start().done));
    expect(results.every((r) => r.kind === 'refused' && r.code === 'stream_key_invalid')).toBe(true);
    expect(acquire).not.toHaveBeenCalled();
    expect(a.run.state).toBe('live');
    expect(a.run.epoch).toBe(1);
    a.run.unpublish();
    await a.done;
  });

  it('fenced (key rotated, stream ended or taken over): kills ffmpeg, drops the queue, keeps the lease, announces nothing', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    s.store.down = true;
    a.ffmpeg.emit();
    s.edge.state.refuse = new EdgeliveError('stale_epoch', 'epoch 1 is not the current epoch 2');
    expect(await a.done).toEqual({ kind: 'fenced', reason: 'edge refused: stale_epoch: epoch 1 is not the current epoch 2' });
    expect(a.ffmpeg.log.at(-1)).toBe('kill fenced: edge refused: stale_epoch: epoch 1 is not the current epoch 2');
    expect(a.rejected).toEqual(['fenced']);
    expect(s.outbox().cancelled).toBe('fenced: edge refused: stale_epoch: epoch 1 is not the current epoch 2');
    expect(s.edge.calls.some((c) => c.startsWith('end'))).toBe(false);
    expect((await s.coordinator.lease(s.streamId))?.nodeId).toBe('node-a');
  });

  it('edge outage: heartbeats fail but the broadcast goes on, and what was made meanwhile is announced after', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    await s.outbox().whenIdle();
    s.edge.state.down = true;
    a.ffmpeg.emit();
    a.ffmpeg.emit();
    await tick(200);
    expect(a.run.state).toBe('live');
    expect(a.rejected).toEqual([]);
    s.edge.state.down = false;
    await s.outbox().whenIdle();
    await tick(80);
    expect(announcedFiles(s.edge.calls)).toEqual(['seg-0-e1.m4s', 'seg-1-e1.m4s']);
    expect(s.edge.calls.at(-1)).toBe('heartbeat 1');
    a.run.unpublish();
    await a.done;
  });

  it('storage outage: segments wait in the queue, the broadcast goes on, and they are listed in order after', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    await s.outbox().whenIdle();
    s.store.down = true;
    a.ffmpeg.emit();
    a.ffmpeg.emit();
    await tick(150);
    expect(a.run.state).toBe('live');
    expect(s.outbox().queuedBytes).toBe(20);
    s.store.down = false;
    await s.outbox().whenIdle();
    expect(s.store.keys().map((k) => k.split('/').pop())).toEqual(['init-1.mp4', 'seg-0-e1.m4s', 'seg-1-e1.m4s']);
    expect(announcedFiles(s.edge.calls)).toEqual(['seg-0-e1.m4s', 'seg-1-e1.m4s']);
    a.run.unpublish();
    await a.done;
  });

  it('handover: stops ffmpeg, lets the queue settle, releases the lease and ends nothing', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    a.ffmpeg.emit();
    a.run.close('node draining', 'handover');
    expect(await a.done).toEqual({ kind: 'handover', reason: 'node draining' });
    expect(a.ffmpeg.log.at(-1)).toBe('stop handover: node draining');
    expect(a.rejected).toEqual(['handover']);
    expect(s.outbox().idle).toBe(true);
    expect(s.edge.calls.some((c) => c.startsWith('end'))).toBe(false);
    expect((await s.coordinator.lease(s.streamId))?.nodeId ?? '').toBe('');
  });

  it('shutdown with no node to hand over to: ends the epoch as node_shutdown (resumable error)', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    a.run.close('SIGTERM', 'end');
    expect(await a.done).toEqual({ kind: 'shutdown', reason: 'SIGTERM' });
    expect(a.rejected).toEqual(['node_shutdown']);
    expect(s.edge.calls.filter((c) => c.startsWith('end'))).toEqual(['end 1 node_shutdown next=0']);
  });

  it('ffmpeg fails: restarted under a takeover of its own epoch, numbering on; gives up after maxRestarts', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    a.ffmpeg.emit();
    a.ffmpeg.fail('ffmpeg exited with code 1');
    for (let i = 0; i < 50 && a.run.epoch !== 2; i++) await tick(10);
    await s.live(a);
    expect(a.ffmpeg.log).toEqual(['start epoch=1 firstMsn=0 input=2', 'stop ffmpeg exited with code 1', 'start epoch=2 firstMsn=1 input=2']);
    expect(s.edge.calls.filter((c) => c.startsWith('publish'))).toEqual(['publish takeover=- minMsn=0', 'publish takeover=1 minMsn=1']);
    a.ffmpeg.fail('again');
    await tick(100);
    a.ffmpeg.fail('and again');
    const outcome = await a.done;
    expect(outcome).toEqual({ kind: 'failed', failure: { code: 'ffmpeg_exited', message: 'and again (gave up after 2 restarts)' } });
    expect(a.rejected).toEqual(['transcoder_failed']);
    expect(s.edge.calls.filter((c) => c.startsWith('end'))).toEqual(['end 3 transcoder_failed next=1']);
  });

  it('a newer publish of the same stream on this node supersedes the old one (half-open reconnect)', async () => {
    const s = setup();
    const a = s.start();
    await s.live(a);
    const b = s.start();
    expect(await a.done).toEqual({ kind: 'superseded' });
    await s.live(b);
    expect(a.rejected).toEqual(['superseded']);
    expect(a.ffmpeg.log.at(-1)).toBe('kill superseded by a newer publish of the same stream');
    expect(s.edge.calls.filter((c) => c.startsWith('publish'))).toEqual(['publish takeover=- minMsn=0', 'publish takeover=1 minMsn=0']);
    expect((await s.coordinator.lease(s.streamId))?.nodeId).toBe('node-a');
    b.run.unpublish();
    await b.done;
  });
});
