import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { PublishGrant } from '../../../shared/src/schemas.ts';
import type { EdgeClient } from '../announce/edge-client.ts';
import { StreamOutbox } from '../announce/stream-outbox.ts';
import { SegmentStoreError } from '../store/segment-store-error.ts';
import type { SegmentStore } from '../store/segment-store.ts';
import { OriginMetrics } from './origin-metrics.ts';

/** The sample lines of one metric as /metrics shows them. */
async function samples(metrics: OriginMetrics, name: string): Promise<string[]> {
  return (await metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
}

describe('OriginMetrics: operations block', () => {
  it('exports the seed names next to the edgelive_* ones, from the same counts', async () => {
    const m = new OriginMetrics();
    m.activeStreams.set(3);
    m.ffmpegRestarted();
    m.ffmpegRestarted();
    m.coordinatorError();
    m.publishRefusals.inc({ code: 'stream_key_invalid' });
    m.segmentStoreFailed('store_unavailable');
    expect(await samples(m, 'livestream_active_streams_total')).toEqual(['livestream_active_streams_total 3']);
    expect(await samples(m, 'livestream_errors_total')).toEqual([
      'livestream_errors_total{type="publish_refused"} 1',
      'livestream_errors_total{type="ffmpeg_restart"} 2',
      'livestream_errors_total{type="redis"} 1',
      'livestream_errors_total{type="upload"} 1',
    ]);
    expect(await samples(m, 'edgelive_segment_upload_failures_total')).toEqual(['edgelive_segment_upload_failures_total{code="store_unavailable"} 1']);
    // Scraped twice, the seed counter does not double.
    expect(await samples(m, 'livestream_errors_total')).toContain('livestream_errors_total{type="ffmpeg_restart"} 2');
  });

  it('reports the node capacity and readiness as /readyz answers', async () => {
    const m = new OriginMetrics();
    expect(await samples(m, 'edgelive_node_ready')).toEqual(['edgelive_node_ready 0']);
    let ready = true;
    m.watchNode({ capacity: 4, ready: () => ready });
    expect(await samples(m, 'edgelive_node_capacity_streams')).toEqual(['edgelive_node_capacity_streams 4']);
    expect(await samples(m, 'edgelive_node_ready')).toEqual(['edgelive_node_ready 1']);
    ready = false;
    expect(await samples(m, 'edgelive_node_ready')).toEqual(['edgelive_node_ready 0']);
  });

  it('counts an upload the store gave up on, by its error code', async () => {
    const m = new OriginMetrics();
    const store = {
      put: async () => {
        throw new SegmentStoreError('store_rejected', 'access denied', { key: 'live/x/240p/seg-1-e1.m4s', attempts: 1 });
      },
    } as unknown as SegmentStore;
    const silent = pino({ level: 'silent' });
    const outbox = new StreamOutbox({
      streamId: 'str1',
      edge: { announceSegments: async () => {} } as unknown as EdgeClient,
      store,
      metrics: m,
      settings: { maxQueuedBytes: 1_000_000, retryBaseMs: 5, retryMaxMs: 20 },
      logger: silent,
      onRefused: () => {},
    });
    const grant: PublishGrant = { streamId: 'str1', epoch: 1, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 500 }], audioKbps: 64 }, segmentSeconds: 2, firstMsn: 1, partSeconds: null };
    outbox.begin(grant, { renditions: [{ name: '240p', height: 240, videoKbps: 500, passthrough: false }], audioKbps: 64 }, { videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 240, fps: 15, videoKbps: 300 }, silent);
    outbox.segment(1, '240p', { msn: 1, duration: 2, startSeconds: 0, programDateTime: 1, timelineOrigin: 1, bytes: new Uint8Array([1]) });
    await outbox.whenIdle();
    expect(await samples(m, 'edgelive_segment_upload_failures_total')).toEqual(['edgelive_segment_upload_failures_total{code="store_rejected"} 1']);
    expect(await samples(m, 'edgelive_segments_dropped_total')).toEqual(['edgelive_segments_dropped_total{reason="store_rejected"} 1']);
  });
});
