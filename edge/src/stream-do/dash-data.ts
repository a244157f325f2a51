/** What the DASH route reads from a StreamDO: every rendition's segment window. */
import type { DashRenditionRows, DashSegmentRow } from '../../../shared/src/manifest/dash-periods.ts';
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import { dvrRowsToRead, dvrWindow } from '../recordings/dvr-window.ts';
import type { SegmentRow, StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import { playbackPolicyOf, renditionView } from './stream-view.ts';

/** The reads behind the MPD: a StreamStore, or an object literal in unit tests. */
export type DashStore = Pick<StreamStore, 'renditions' | 'segmentWindow'>;

/** What the MPD route needs from the StreamDO. */
export interface DashManifestData {
  status: StreamStatus;
  playbackPolicy: PlaybackPolicy;
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

/**
 * Every rendition's window, with the status and timing the MPD needs: the last `windowSegments`
 * rows, or with a DVR window the newest rows holding up to `dvrWindowSeconds` of media, as the HLS
 * media playlists list (so the MPD's timeShiftBufferDepth is the DVR window).
 */
export function dashManifestData(row: StreamRow, store: DashStore, windowSegments: number): DashManifestData {
  const dvr = row.dvr_window_seconds;
  const rowsToRead = dvrRowsToRead(windowSegments, dvr, row.segment_seconds);
  const renditions = store.renditions().map((r): DashRenditionRows => {
    const view = renditionView(r);
    return {
      name: view.name,
      width: view.width,
      height: view.height,
      codecs: view.codecs,
      frameRate: view.frameRate,
      bandwidth: view.bandwidth,
      rows: dvrWindow(store.segmentWindow(r.name, rowsToRead), dvr, windowSegments).map(dashRow),
    };
  });
  return {
    status: row.status as StreamStatus,
    playbackPolicy: playbackPolicyOf(row),
    createdAt: row.created_at,
    endedAt: row.ended_at,
    dvrWindowSeconds: row.dvr_window_seconds,
    targetDuration: row.target_duration,
    renditions,
  };
}
