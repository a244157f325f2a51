/** Viewer session ids (`?sid=`): the default key CDN ranking hashes. */

/** Accepted session ids: URL-safe, so they go into playlists and query strings unescaped. */
export const SESSION_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

/** The request's `sid` when well-formed, else null. */
export function sessionIdFrom(url: URL): string | null {
  const sid = url.searchParams.get('sid');
  return sid !== null && SESSION_ID_RE.test(sid) ? sid : null;
}

/** A new random session id (128 bits, base64url). */
export function mintSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
