/** Paths of the origin → edge internal API (every call signed, see signing/). */
export const INTERNAL_API = {
  publish: '/internal/v1/publish',
  /** Does this key open its stream? Asked before the origin takes any lease or capacity slot. */
  keyCheck: '/internal/v1/key-check',
  renditions: (streamId: string) => `/internal/v1/streams/${streamId}/renditions`,
  segments: (streamId: string) => `/internal/v1/streams/${streamId}/segments`,
  parts: (streamId: string) => `/internal/v1/streams/${streamId}/parts`,
  heartbeat: (streamId: string) => `/internal/v1/streams/${streamId}/heartbeat`,
  end: (streamId: string) => `/internal/v1/streams/${streamId}/end`,
} as const;

/** Edge → origin (signed with the same secret): delete these media objects from the origin's store. */
export const ORIGIN_MEDIA_DELETE_PATH = '/internal/v1/media/delete';

/** Folder of a stream's JPEG thumbnails; a leading `_` no rendition name can take. */
export const THUMBNAIL_DIR = '_thumbs';

/** The latest thumbnail (`latest.jpg`, overwritten) or an epoch's first one (`poster-e<epoch>.jpg`, kept as recording posters). */
export const THUMBNAIL_FILE_PATTERN = /^(?:latest|poster-e\d{1,10})\.jpg$/;

/** Object key of a thumbnail file: `live/<streamId>/_thumbs/<file>`. */
export function thumbnailObjectKey(streamId: string, file: string): string {
  return `live/${streamId}/${THUMBNAIL_DIR}/${file}`;
}

/** The poster kept for an epoch: its first thumbnail. */
export function posterFileName(epoch: number): string {
  return `poster-e${epoch}.jpg`;
}

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
