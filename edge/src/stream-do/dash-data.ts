/** What the DASH route reads from a StreamDO: every rendition's segment window. */
import type { DashRenditionRows, DashSegmentRow } from '../../../shared/src/manifest/dash-periods.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import type { SegmentRow, StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import { renditionView } from './stream-view.ts';

/** The reads behind the MPD: a StreamStore, or an object literal in unit tests. */
export type DashStore = Pick<StreamStore, 'renditions' | 'segmentWindow'>;

/** What the MPD route needs from the StreamDO. */
export interface DashManifestData {
  status: StreamStatus;
  createdAt: number;
  endedAt: number | null;
  dvrWindowSeconds: number;
  targetDuration: number;
  renditions: DashRenditionRows[];
}

function dashRow(row: SegmentRow): DashSegmentRow {
  return {
    msn: row.msn,
    epoch: row.epoch,
    timelineOrigin: row.timeline_origin,
    runStart: row.run_start,
    programDateTime: row.program_date_time,
    duration: row.duration,
    gap: row.gap === 1,
  };
}

/** The last `windowSegments` rows of every rendition, with the status and timing the MPD needs. */
export function dashManifestData(row: StreamRow, store: DashStore, windowSegments: number): DashManifestData {
  const renditions = store.renditions().map((r): DashRenditionRows => {
    const view = renditionView(r);
    return {
      name: view.name,
      width: view.width,
      height: view.height,
      codecs: view.codecs,
      frameRate: view.frameRate,
      bandwidth: view.bandwidth,
      rows: store.segmentWindow(r.name, windowSegments).map(dashRow),
    };
  });
  return {
    status: row.status as StreamStatus,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    dvrWindowSeconds: row.dvr_window_seconds,
    targetDuration: row.target_duration,
    renditions,
  };
}
