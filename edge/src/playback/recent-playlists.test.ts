import { describe, expect, it } from 'vitest';
import { RecentPlaylists } from './recent-playlists.ts';

const live = { body: '#EXTM3U\n', maxAge: 1 };
const ended = { body: '#EXTM3U\n#EXT-X-ENDLIST\n', maxAge: 30 };

describe('RecentPlaylists', () => {
  it('keeps a playlist for its max-age from when it was rendered, not from when it was kept', () => {
    const recent = new RecentPlaylists();
    recent.set('a', live, 1000, 1000);
    expect(recent.get('a', 1999)).toBe(live);
    expect(recent.get('a', 2000)).toBeUndefined();
    // Read from the Cache API 700 ms after another isolate rendered it: 300 ms left.
    recent.set('b', live, 5000, 5700);
    expect(recent.get('b', 5999)).toBe(live);
    expect(recent.get('b', 6000)).toBeUndefined();
    // Already stale when found: not kept.
    recent.set('c', live, 0, 1000);
    expect(recent.size).toBe(0);
  });

  it('keeps none longer than 6 s, forgets on request, and stays within its bound', () => {
    const recent = new RecentPlaylists(3);
    recent.set('ended', ended, 0, 0);
    expect(recent.get('ended', 5999)).toBe(ended);
    expect(recent.get('ended', 6000)).toBeUndefined();
    recent.set('x', live, 0, 0);
    recent.delete('x');
    expect(recent.get('x', 1)).toBeUndefined();
    for (const k of ['1', '2', '3', '4']) recent.set(k, ended, 0, 0);
    expect(recent.size).toBe(3);
    expect(recent.get('1', 1)).toBeUndefined();
    expect(recent.get('4', 1)).toBe(ended);
  });
});
