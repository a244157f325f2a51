import { describe, expect, it } from 'vitest';
import { rendezvousRank } from './rendezvous.ts';

const nodes = ['origin-0', 'origin-1', 'origin-2'];

describe('rendezvousRank', () => {
  it('ranks every node once, the same way whatever the input order', () => {
    const a = rendezvousRank('abcdefghijklmnop', nodes);
    expect([...a].sort()).toEqual(nodes);
    expect(rendezvousRank('abcdefghijklmnop', [...nodes].reverse())).toEqual(a);
    expect(rendezvousRank('abcdefghijklmnop', [...nodes, 'origin-1'])).toEqual(a);
  });

  it('moves only the streams of a node that leaves, to their next choice', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `stream${String(i).padStart(10, '0')}`);
    for (const id of ids) {
      const before = rendezvousRank(id, nodes);
      const after = rendezvousRank(id, nodes.filter((n) => n !== 'origin-1'));
      expect(after).toEqual(before.filter((n) => n !== 'origin-1'));
    }
  });

  it('spreads streams roughly evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const top = rendezvousRank(`s${i}`, nodes)[0]!;
      counts.set(top, (counts.get(top) ?? 0) + 1);
    }
    for (const n of nodes) expect(counts.get(n)).toBeGreaterThan(850);
  });
});
