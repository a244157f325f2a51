/** Which rows of the segment index a live media playlist lists when the stream keeps a DVR window. Pure. */

/** Rows to read from the index for a playlist: the playlist window, or the DVR window's worth of nominal segments. */
export function dvrRowsToRead(playlistWindowSegments: number, dvrWindowSeconds: number, segmentSeconds: number): number {
  return dvrWindowSeconds > 0 ? Math.max(playlistWindowSegments, Math.ceil(dvrWindowSeconds / segmentSeconds)) : playlistWindowSegments;
}

/**
 * The newest rows holding at most `dvrWindowSeconds` of media (never fewer than
 * `minSegments`): a player can seek back that far and no further. `rows` are oldest first.
 */
export function dvrWindow<T extends { duration: number }>(rows: readonly T[], dvrWindowSeconds: number, minSegments: number): T[] {
  if (dvrWindowSeconds <= 0 || rows.length <= minSegments) return rows.slice(Math.max(0, rows.length - Math.max(minSegments, 0)));
  let total = 0;
  let first = rows.length;
  while (first > 0 && (rows.length - first < minSegments || total + rows[first - 1]!.duration <= dvrWindowSeconds + 1e-6)) {
    total += rows[first - 1]!.duration;
    first--;
  }
  return rows.slice(first);
}

/** CAN-SKIP-UNTIL of a DVR playlist: six target durations, the least RFC 8216bis §4.4.3.8 allows. */
export function canSkipUntil(targetDuration: number): number {
  return 6 * targetDuration;
}
