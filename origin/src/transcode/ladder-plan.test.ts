import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER } from '../../../shared/src/ladder/default-ladder.ts';
import type { Ladder, SourceInfo } from '../../../shared/src/types.ts';
import { PASSTHROUGH_BITRATE_SLACK, planLadder } from './ladder-plan.ts';

function source(overrides: Partial<SourceInfo>): SourceInfo {
  return { videoCodec: 'h264', audioCodec: 'aac', width: 1920, height: 1080, fps: 30, videoKbps: 4500, ...overrides };
}

const R1080 = { name: '1080p', height: 1080, videoKbps: 5000 };
const R720 = { name: '720p', height: 720, videoKbps: 2800 };
const R480 = { name: '480p', height: 480, videoKbps: 1400 };
const R360 = { name: '360p', height: 360, videoKbps: 800 };
const enc = (r: { name: string; height: number; videoKbps: number }) => ({ ...r, passthrough: false });
const copy = (r: { name: string; height: number; videoKbps: number }) => ({ ...r, passthrough: true });

describe('planLadder with the default ladder', () => {
  it('keeps every rung for a 1080p source and copies the top one', () => {
    expect(planLadder(DEFAULT_LADDER, source({ height: 1080, videoKbps: 4500 }))).toEqual({
      renditions: [copy(R1080), enc(R720), enc(R480), enc(R360)],
      audioKbps: 128,
    });
  });

  it('drops the 1080p rung for a 720p source and copies 720p', () => {
    expect(planLadder(DEFAULT_LADDER, source({ width: 1280, height: 720, videoKbps: 2500 }))).toEqual({
      renditions: [copy(R720), enc(R480), enc(R360)],
      audioKbps: 128,
    });
  });

  it('starts at 480p for a 480p source', () => {
    expect(planLadder(DEFAULT_LADDER, source({ width: 854, height: 480, videoKbps: 1200 }))).toEqual({
      renditions: [copy(R480), enc(R360)],
      audioKbps: 128,
    });
  });

  it('re-encodes every rung of a 540p source: no rung has its height', () => {
    expect(planLadder(DEFAULT_LADDER, source({ width: 960, height: 540, videoKbps: 1000 }))).toEqual({
      renditions: [enc(R480), enc(R360)],
      audioKbps: 128,
    });
  });

  it('gives a 240p source one rung at its own height with the smallest rung bitrate', () => {
    expect(planLadder(DEFAULT_LADDER, source({ width: 426, height: 240, videoKbps: 1000 }))).toEqual({
      renditions: [{ name: '240p', height: 240, videoKbps: 800, passthrough: false }],
      audioKbps: 128,
    });
  });

  it('never plans a rung above the source height', () => {
    for (const height of [240, 360, 479, 480, 481, 540, 719, 720, 1079, 1080, 1440, 2160]) {
      const plan = planLadder(DEFAULT_LADDER, source({ height }));
      for (const r of plan.renditions) expect(r.height).toBeLessThanOrEqual(height);
    }
  });

  it('keeps every rung of a 4K source, re-encoding the top since no rung is 2160p', () => {
    expect(planLadder(DEFAULT_LADDER, source({ width: 3840, height: 2160, videoKbps: 4000 }))).toEqual({
      renditions: [enc(R1080), enc(R720), enc(R480), enc(R360)],
      audioKbps: 128,
    });
  });
});

describe('passthrough', () => {
  it('allows the declared bitrate to exceed the rung by PASSTHROUGH_BITRATE_SLACK', () => {
    expect(PASSTHROUGH_BITRATE_SLACK).toBe(1.1);
    expect(planLadder(DEFAULT_LADDER, source({ videoKbps: 5500 })).renditions[0]).toEqual(copy(R1080));
    expect(planLadder(DEFAULT_LADDER, source({ height: 720, videoKbps: 3080 })).renditions[0]).toEqual(copy(R720));
  });

  it('re-encodes a source just over the slack', () => {
    expect(planLadder(DEFAULT_LADDER, source({ videoKbps: 5501 })).renditions[0]).toEqual(enc(R1080));
    expect(planLadder(DEFAULT_LADDER, source({ height: 720, videoKbps: 3081 })).renditions[0]).toEqual(enc(R720));
  });

  it('re-encodes a source that declares no bitrate', () => {
    expect(planLadder(DEFAULT_LADDER, source({ videoKbps: 0 })).renditions[0]).toEqual(enc(R1080));
  });

  it.each(['hevc', 'av1', 'vp9', 'unknown:4'])('re-encodes a %s source', (videoCodec) => {
    expect(planLadder(DEFAULT_LADDER, source({ videoCodec, videoKbps: 3000 })).renditions).toEqual([enc(R1080), enc(R720), enc(R480), enc(R360)]);
  });

  it('copies a tiny H.264 source within the smallest rung bitrate, since its own rung has its height', () => {
    expect(planLadder(DEFAULT_LADDER, source({ height: 240, videoKbps: 880 })).renditions).toEqual([
      { name: '240p', height: 240, videoKbps: 800, passthrough: true },
    ]);
    expect(planLadder(DEFAULT_LADDER, source({ height: 240, videoKbps: 881 })).renditions).toEqual([
      { name: '240p', height: 240, videoKbps: 800, passthrough: false },
    ]);
    expect(planLadder(DEFAULT_LADDER, source({ height: 240, videoKbps: 0 })).renditions).toEqual([
      { name: '240p', height: 240, videoKbps: 800, passthrough: false },
    ]);
  });
});

describe('planLadder with a custom ladder', () => {
  it('sorts rungs by height, highest first, and carries the audio bitrate', () => {
    const ladder: Ladder = {
      rungs: [
        { name: 'low', height: 360, videoKbps: 600 },
        { name: 'high', height: 720, videoKbps: 3000 },
        { name: 'mid', height: 540, videoKbps: 1800 },
      ],
      audioKbps: 96,
    };
    expect(planLadder(ladder, source({ height: 720, videoKbps: 2000 }))).toEqual({
      renditions: [
        { name: 'high', height: 720, videoKbps: 3000, passthrough: true },
        { name: 'mid', height: 540, videoKbps: 1800, passthrough: false },
        { name: 'low', height: 360, videoKbps: 600, passthrough: false },
      ],
      audioKbps: 96,
    });
    expect(ladder.rungs.map((r) => r.name)).toEqual(['low', 'high', 'mid']);
  });
});
