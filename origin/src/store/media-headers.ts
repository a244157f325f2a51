/** Segments, parts and init sections never change once written, so caches may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Manifests change every part/segment; the edge renders and caches its own, so a stored copy must
 * be revalidated on every use rather than served stale.
 */
export const MANIFEST_CACHE_CONTROL = 'no-cache';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4', // CMAF init section (and progressive MP4)
  '.m4s': 'video/iso.segment', // CMAF media segment or LL-HLS part (RFC 8216bis §3.3)
  '.m4a': 'audio/mp4',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
};

const IMMUTABLE_EXTENSIONS = new Set(['.mp4', '.m4s', '.m4a']);

function extensionOf(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot).toLowerCase();
}

/** The Content-Type to store with a media file, by extension; unknown ones are octet-stream. */
export function contentTypeFor(fileName: string): string {
  return CONTENT_TYPES[extensionOf(fileName)] ?? 'application/octet-stream';
}

/** The Cache-Control to store with a media file: immutable for media, `no-cache` otherwise. */
export function cacheControlFor(fileName: string): string {
  return IMMUTABLE_EXTENSIONS.has(extensionOf(fileName)) ? IMMUTABLE_CACHE_CONTROL : MANIFEST_CACHE_CONTROL;
}
