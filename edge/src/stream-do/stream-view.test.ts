import { describe, expect, it } from 'vitest';
import { eventPage } from './stream-view.ts';

const row = (seq: number) => ({ seq, ts: seq * 10, type: 'live', data: `{"epoch":${seq}}` });

describe('eventPage', () => {
  it('parses the rows and continues after the last seq; a full page may have more', () => {
    expect(eventPage([row(3), row(4)], 2, 2)).toEqual({
      events: [
        { seq: 3, ts: 30, type: 'live', data: { epoch: 3 } },
        { seq: 4, ts: 40, type: 'live', data: { epoch: 4 } },
      ],
      nextSince: 4,
      hasMore: true,
    });
    expect(eventPage([row(3)], 2, 100)).toMatchObject({ nextSince: 3, hasMore: false });
  });

  it('keeps `since` for an empty page', () => {
    expect(eventPage([], 7, 100)).toEqual({ events: [], nextSince: 7, hasMore: false });
  });
});
