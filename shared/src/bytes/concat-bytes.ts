/**
 * Joins byte chunks into one array (the only chunk itself when there is one: no copy). Pure; used
 * wherever a stream of chunks becomes one body, on the origin and at the edge.
 */
export function concatBytes(parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.byteLength, 0)): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
