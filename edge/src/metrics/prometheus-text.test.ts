import { describe, expect, it } from 'vitest';
import { Histogram, prometheusText } from './prometheus-text.ts';

describe('prometheusText', () => {
  it('writes HELP, TYPE and samples, escaping label values', () => {
    const text = prometheusText([
      { name: 'a_total', help: 'Things\nsaid', type: 'counter', samples: [{ value: 3 }, { labels: { cdn: 'x"y\\z' }, value: 1.5 }] },
      { name: 'b', help: 'Empty', type: 'gauge', samples: [] },
    ]);
    expect(text).toBe(['# HELP a_total Things\\nsaid', '# TYPE a_total counter', 'a_total 3', 'a_total{cdn="x\\"y\\\\z"} 1.5', '# HELP b Empty', '# TYPE b gauge', ''].join('\n'));
  });
});

describe('Histogram', () => {
  it('keeps cumulative buckets with +Inf, sum and count', () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.5, 3]) h.observe(v);
    expect(prometheusText([{ name: 'h_seconds', help: 'H', type: 'histogram', samples: h.samples({ source: 'cache' }) }])).toBe(
      [
        '# HELP h_seconds H',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{source="cache",le="0.1"} 1',
        'h_seconds_bucket{source="cache",le="1"} 2',
        'h_seconds_bucket{source="cache",le="+Inf"} 3',
        'h_seconds_sum{source="cache"} 3.55',
        'h_seconds_count{source="cache"} 3',
        '',
      ].join('\n'),
    );
  });
});
