/** Paths of the origin → edge internal API (every call signed, see signing/). */
export const INTERNAL_API = {
  publish: '/internal/v1/publish',
  renditions: (streamId: string) => `/internal/v1/streams/${streamId}/renditions`,
  segments: (streamId: string) => `/internal/v1/streams/${streamId}/segments`,
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

/** Media segment file name for a media sequence number. */
export function segmentFileName(msn: number): string {
  return `seg-${msn}.m4s`;
}
