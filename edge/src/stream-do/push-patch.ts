/**
 * The difference between two pushed states, as the playlist push sends it (issue 14): a part adds
 * one entry to a few lists of a state that is tens of KB, so a subscriber (every isolate and shard
 * of a watched stream, three times a second) reads and parses the change instead of the whole state.
 *
 * Plain JSON values in, a patch out that `applyPatch` turns the older value into the newer one with.
 * Arrays are read as the windows they are in a playlist: entries leave at the front and arrive at the
 * back, and the last entry both had may have grown (a segment's parts). Anything else is replaced.
 * A key whose value is `undefined` counts as absent, as JSON has it.
 */

/**
 * A patch: `{ "=": v }` replaces the value with v; `{ o: { key: patch }, x: [keys] }` patches an
 * object's keys and deletes keys `x`; `{ d: n, p?: patch, n?: [...] }` drops n entries from an
 * array's front, patches the last remaining entry with `p` and appends `n`.
 */
export type Patch = { '=': unknown } | { o?: Record<string, Patch>; x?: string[] } | { d: number; p?: Patch; n?: unknown[] };

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether two JSON values are equal (undefined-valued keys absent). */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (!isObject(a) || !isObject(b)) return false;
  let keys = 0;
  for (const k in a) {
    if (a[k] === undefined) continue;
    keys++;
    if (!jsonEqual(a[k], b[k])) return false;
  }
  for (const k in b) if (b[k] !== undefined) keys--;
  return keys === 0;
}

/**
 * What turns `from` into `to`; undefined when they are equal. One walk over both: objects are not
 * compared whole before their keys are (that made every node be compared once per level above it).
 */
export function diff(from: Json, to: Json): Patch | undefined {
  if (from === to) return undefined;
  if (Array.isArray(from) && Array.isArray(to)) return diffArrays(from, to);
  if (isObject(from) && isObject(to)) {
    let o: Record<string, Patch> | undefined;
    let x: string[] | undefined;
    for (const k in to) {
      if (to[k] === undefined) continue;
      const p = from[k] === undefined ? { '=': to[k] } : diff(from[k], to[k]);
      if (p) (o ??= {})[k] = p;
    }
    for (const k in from) if (from[k] !== undefined && to[k] === undefined) (x ??= []).push(k);
    return o || x ? { ...(o ? { o } : {}), ...(x ? { x } : {}) } : undefined;
  }
  return { '=': to };
}

/**
 * An array as a window that slid: drop `d` from the front so that what remains is the start of `to`,
 * but for the last remaining entry, which may be patched (it grew). The smallest such `d` is taken
 * (0 first: equal arrays give undefined); with none, the array is replaced.
 */
function diffArrays(from: Json[], to: Json[]): Patch | undefined {
  for (let d = 0; d < from.length; d++) {
    const kept = from.length - d;
    if (kept > to.length) continue;
    let same = true;
    for (let i = 0; i < kept - 1 && same; i++) same = jsonEqual(from[d + i], to[i]);
    if (!same) continue;
    const p = diff(from[from.length - 1], to[kept - 1]);
    if (d === 0 && !p && to.length === kept) return undefined;
    // A patch that turns an entry into another is correct but seldom smaller than the entry: taken only when it is.
    if (p && ('=' in p || JSON.stringify(p).length >= JSON.stringify(to[kept - 1]).length)) continue;
    return { d, ...(p ? { p } : {}), ...(to.length > kept ? { n: to.slice(kept) } : {}) };
  }
  return from.length === 0 && to.length === 0 ? undefined : { '=': to };
}

/** `value` with `patch` applied: new objects and arrays along the patched paths, the rest shared. */
export function applyPatch(value: Json, patch: Patch): Json {
  if ('=' in patch) return patch['='];
  if ('d' in patch) {
    if (!Array.isArray(value) || patch.d > value.length) throw new Error('push patch: not an array of the expected length');
    const out = value.slice(patch.d);
    if (patch.p) {
      if (out.length === 0) throw new Error('push patch: no entry to patch');
      out[out.length - 1] = applyPatch(out[out.length - 1], patch.p);
    }
    if (patch.n) out.push(...patch.n);
    return out;
  }
  if (!isObject(value)) throw new Error('push patch: not an object');
  const out: JsonObject = { ...value };
  for (const k in patch.o ?? {}) out[k] = applyPatch(out[k], patch.o![k]!);
  for (const k of patch.x ?? []) delete out[k];
  return out;
}
