/** Reads a StreamDO's metrics summary from its own store and audience. */
import type { StreamAudience } from '../stream-do/stream-audience.ts';
import type { StreamStore } from '../stream-do/stream-store.ts';
import { streamMetricsSummary, type StreamMetricsSummary } from './stream-metrics-summary.ts';

/** What the summary is read from: the StreamDO's own store and audience. */
export interface StreamMetricsSources {
  store: Pick<StreamStore, 'stream' | 'renditions' | 'segmentWindow'>;
  audience: Pick<StreamAudience, 'summary'>;
}

/** The summary of the stream as its StreamDO holds it now (a few indexed reads). */
export function readStreamMetrics({ store, audience }: StreamMetricsSources, now: number): StreamMetricsSummary {
  const row = store.stream()!;
  const ends = store.renditions().flatMap((r) => store.segmentWindow(r.name, 1).map((s) => s.program_date_time + s.duration * 1000));
  return streamMetricsSummary(audience.summary(row, now), ends.length ? Math.max(...ends) : null, now);
}
