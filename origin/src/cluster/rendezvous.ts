import { createHash } from 'node:crypto';

/** Score of one (stream, node) pair: the first 48 bits of SHA-256 over both ids. Pure. */
export function rendezvousScore(streamId: string, nodeId: string): number {
  return createHash('sha256').update(`${streamId}\u0000${nodeId}`).digest().readUIntBE(0, 6);
}

/**
 * Nodes ordered by rendezvous (highest-random-weight) hashing for `streamId`: the first is the
 * stream's transcoding node, the rest its fallbacks in order. A node joining or leaving moves
 * only the streams it wins or held. Ties break on the node id. Pure.
 */
export function rendezvousRank(streamId: string, nodeIds: readonly string[]): string[] {
  return [...new Set(nodeIds)]
    .map((id) => ({ id, score: rendezvousScore(streamId, id) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .map((s) => s.id);
}
