/** Opaque pagination cursors of the stream listing: the position of the last row shown. */

/** Where a page ended. */
export interface CursorPosition {
  createdAt: number;
  id: string;
}

/** Encodes a position as URL-safe base64 of `<createdAt>.<id>`. */
export function encodeCursor(p: CursorPosition): string {
  return btoa(`${p.createdAt}.${p.id}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The position in a cursor, or `undefined` when the string is not one of ours. */
export function decodeCursor(cursor: string): CursorPosition | undefined {
  let text: string;
  try {
    text = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return undefined;
  }
  const m = /^(\d{1,15})\.([a-z0-9]{1,64})$/.exec(text);
  return m ? { createdAt: Number(m[1]), id: m[2]! } : undefined;
}
