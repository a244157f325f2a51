import { describe, expect, it } from 'vitest';
import { hash01, murmur3 } from './murmur3.ts';
import { pickNode, rankNodes, type WeightedNode } from './rendezvous.ts';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `session-${i}`);
const CDNS: WeightedNode[] = [
  { id: 'alpha', weight: 1 },
  { id: 'bravo', weight: 2 },
  { id: 'charlie', weight: 3 },
  { id: 'delta', weight: 4 },
];

function owners(nodes: readonly WeightedNode[]): string[] {
  return KEYS.map((k) => pickNode(k, nodes)!.id);
}

function shares(assigned: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of assigned) counts[id] = (counts[id] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([id, n]) => [id, n / assigned.length]));
}

describe('murmur3', () => {
  it('matches the reference MurmurHash3_x86_32 vectors', () => {
    expect(murmur3('', 0)).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3('test', 0)).toBe(0xba6bd213);
    expect(murmur3('Hello, world!', 1234)).toBe(0xfaf6cdb3);
    expect(murmur3('The quick brown fox jumps over the lazy dog', 0x9747b28c)).toBe(0x2fa826cd);
    // UTF-8 bytes, not UTF-16 code units (vector from the reference implementation's tests).
    expect(murmur3('ππππππππ', 0x9747b28c)).toBe(0xd58063c1);
    expect(murmur3('aaaa', 0x9747b28c)).toBe(0x5a97808a);
  });

  it('hash01 stays strictly inside (0, 1)', () => {
    for (const k of KEYS.slice(0, 1000)) {
      const u = hash01(k);
      expect(u).toBeGreaterThan(0);
      expect(u).toBeLessThan(1);
    }
  });
});

describe('weighted rendezvous hashing', () => {
  it('is deterministic and ranks every node once', () => {
    expect(rankNodes('viewer-42', CDNS).map((n) => n.id)).toEqual(rankNodes('viewer-42', [...CDNS].reverse()).map((n) => n.id));
    expect(new Set(rankNodes('viewer-42', CDNS).map((n) => n.id)).size).toBe(4);
    expect(rankNodes('viewer-42', CDNS)[0]).toBe(pickNode('viewer-42', CDNS));
    expect(pickNode('x', [])).toBeUndefined();
  });

  it('gives each node its weight share within ±2 percentage points over 100,000 keys', () => {
    const got = shares(owners(CDNS));
    for (const node of CDNS) expect(Math.abs(got[node.id]! - node.weight / 10)).toBeLessThan(0.02);
  });

  it('moves only the removed node’s keys when one of N is removed', () => {
    const before = owners(CDNS);
    const after = owners(CDNS.filter((n) => n.id !== 'bravo'));
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== after[i]) {
        expect(before[i]).toBe('bravo');
        moved++;
      } else {
        expect(before[i]).not.toBe('bravo');
      }
    }
    expect(moved).toBe(before.filter((id) => id === 'bravo').length);
  });

  it('lets an added node take only its own share, every moved key going to it', () => {
    const before = owners(CDNS);
    const after = owners([...CDNS, { id: 'echo', weight: 2.5 }]);
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== after[i]) {
        expect(after[i]).toBe('echo');
        moved++;
      }
    }
    expect(Math.abs(moved / KEYS.length - 2.5 / 12.5)).toBeLessThan(0.02);
  });
});
