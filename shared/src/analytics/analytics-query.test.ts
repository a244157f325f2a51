import { describe, expect, it } from 'vitest';
import { analyticsQuerySchema, analyticsRange } from './analytics-query.ts';

const NOW = Date.UTC(2026, 10, 30, 12, 30, 20);
const MINUTE = Date.UTC(2026, 10, 30, 12, 30);

describe('analyticsQuerySchema', () => {
  it('takes epoch ms or ISO 8601 with a zone, and a step (1m by default)', () => {
    expect(analyticsQuerySchema.parse({ from: '1764504000000', to: '2026-11-30T12:00:00+01:00' })).toEqual({ from: 1764504000000, to: Date.UTC(2026, 10, 30, 11), step: '1m' });
    expect(analyticsQuerySchema.parse({ step: '1d' })).toEqual({ step: '1d' });
  });

  it('refuses other times and steps, naming the field', () => {
    expect(analyticsQuerySchema.safeParse({ from: 'yesterday' }).error?.issues.map((i) => [i.path, i.message])).toEqual([[['from'], 'must be ms since epoch or an ISO 8601 date-time with a zone']]);
    expect(analyticsQuerySchema.safeParse({ to: '2026-11-30T12:00:00' }).success).toBe(false);
    expect(analyticsQuerySchema.safeParse({ step: '10m' }).success).toBe(false);
  });
});

describe('analyticsRange', () => {
  it('defaults to the hour before the current minute at 1m', () => {
    expect(analyticsRange({ step: '1m' }, NOW)).toEqual({ from: MINUTE - 3_600_000, to: MINUTE, step: '1m', stepMs: 60_000 });
  });

  it('clamps `to` to the start of the current minute', () => {
    expect(analyticsRange({ from: MINUTE - 120_000, to: NOW + 3_600_000, step: '1m' }, NOW)).toMatchObject({ from: MINUTE - 120_000, to: MINUTE });
  });

  it('refuses an empty range and one of more than 1,440 points', () => {
    expect(analyticsRange({ from: MINUTE, step: '1m' }, NOW)).toEqual({ error: 'from: must be before to (2026-11-30T12:30:00.000Z; to is at most the start of the current minute)' });
    expect(analyticsRange({ from: MINUTE - 1440 * 60_000, step: '1m' }, NOW)).toMatchObject({ stepMs: 60_000 });
    expect(analyticsRange({ from: MINUTE - 1441 * 60_000, step: '1m' }, NOW)).toEqual({ error: 'step: 1441 points of 1m from..to; at most 1440 (use a larger step or a shorter range)' });
    expect(analyticsRange({ from: MINUTE - 30 * 86_400_000, step: '1h' }, NOW)).toMatchObject({ stepMs: 3_600_000 });
  });
});
