/**
 * Weighted rendezvous (highest random weight) hashing, pure. Each (key, node) pair gets the score
 * `-weight / ln(u)` with `u = hash01(key + "\n" + node id)` uniform in (0, 1): the node with the
 * highest score wins with probability weight / total weight (Schindelhauer & Schomaker, "Weighted
 * distributed hash tables", 2005; the logarithmic method). Removing a node moves only its keys;
 * adding one takes only the keys it now wins.
 */
import { hash01 } from './murmur3.ts';

/** Anything with a stable id and a positive weight. */
export interface WeightedNode {
  readonly id: string;
  readonly weight: number;
}

/** The rendezvous score of `node` for `key`; higher wins. */
export function rendezvousScore(key: string, node: WeightedNode): number {
  return -node.weight / Math.log(hash01(`${key}\n${node.id}`));
}

/** `nodes` ordered best first for `key` (ties, which need equal 53-bit hashes, fall back to id order). */
export function rankNodes<T extends WeightedNode>(key: string, nodes: readonly T[]): T[] {
  const scored = nodes.map((node) => ({ node, score: rendezvousScore(key, node) }));
  scored.sort((a, b) => b.score - a.score || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0));
  return scored.map((s) => s.node);
}

/** The best node for `key`, or undefined when there is none. */
export function pickNode<T extends WeightedNode>(key: string, nodes: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestScore = -Infinity;
  for (const node of nodes) {
    const score = rendezvousScore(key, node);
    if (score > bestScore) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}
