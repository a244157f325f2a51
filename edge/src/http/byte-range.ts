/** Single byte-range requests (RFC 9110 §14.1.2, §14.2). Pure. */

/** What a Range header asks of a representation of `size` bytes. */
export type RangeAnswer =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/**
 * Interprets `header` for a body of `size` bytes. No header, a malformed one or several ranges
 * answer the full body (§14.2 lets a server ignore Range); `end` is inclusive and clamped.
 */
export function parseRange(header: string | null | undefined, size: number): RangeAnswer {
  if (!header) return { kind: 'full' };
  const m = SINGLE.exec(header.trim());
  if (!m) return { kind: 'full' };
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  // last < first is syntactically invalid (§14.1.1): ignore the header.
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
