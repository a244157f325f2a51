/** Paths of the origin → edge internal API (every call signed, see signing/). */
export const INTERNAL_API = {
  publish: '/internal/v1/publish',
  renditions: (streamId: string) => `/internal/v1/streams/${streamId}/renditions`,
  segments: (streamId: string) => `/internal/v1/streams/${streamId}/segments`,
  parts: (streamId: string) => `/internal/v1/streams/${streamId}/parts`,
  heartbeat: (streamId: string) => `/internal/v1/streams/${streamId}/heartbeat`,
  end: (streamId: string) => `/internal/v1/streams/${streamId}/end`,
} as const;

/** Object-store key of a rendition's file: `live/<streamId>/<rendition>/<file>`. */
export function mediaObjectKey(streamId: string, rendition: string, file: string): string {
  return `live/${streamId}/${rendition}/${file}`;
}

/** Init segment file name for an epoch. */
export function initFileName(epoch: number): string {
  return `init-${epoch}.mp4`;
}

/**
 * Media segment file name for a media sequence number, made in `epoch`. The epoch in the name is
 * the fencing token reaching storage: a fenced or stale owner writes only under its own epoch's
 * names, which no playlist of a newer epoch lists, so it can never overwrite a newer object.
 */
export function segmentFileName(msn: number, epoch: number): string {
  return `seg-${msn}-e${epoch}.m4s`;
}

/** LL-HLS part file name: fragment `part` of segment `msn`, made in `epoch` (kept in the origin's memory only). */
export function partFileName(msn: number, part: number, epoch: number): string {
  return `part-${msn}-${part}-e${epoch}.m4s`;
}

/** Pattern of LL-HLS part file names; groups: msn, part, epoch. */
export const PART_FILE_PATTERN = /^part-(\d{1,12})-(\d{1,3})-e(\d{1,10})\.m4s$/;

/** Pattern of the media file names the origin writes and the edge serves. */
export const MEDIA_FILE_PATTERN = /^(?:init-\d{1,10}\.mp4|seg-\d{1,12}-e\d{1,10}\.m4s|part-\d{1,12}-\d{1,3}-e\d{1,10}\.m4s)$/;
