/** Workers allow 6 simultaneous outgoing connections per invocation; fan out in batches of at most that. */
export const MAX_CONNECTIONS = 6;

/** Runs `fn` over `items`, at most `size` at a time, and returns the results in order. */
export async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}
