import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childCpuSeconds, parseProcStat } from './child-cpu.ts';

describe('parseProcStat', () => {
  it('reads ppid and CPU ticks, counting fields after the last parenthesis', () => {
    const line = '4242 (ffmpeg (x) y) S 1000 4242 3805 0 -1 4194304 100 0 0 0 250 50 7 3 20 0 1 0 112567 3133440 383';
    expect(parseProcStat(line)).toEqual({ ppid: 1000, cpuSeconds: 3, reapedChildrenSeconds: 0.1 });
  });

  it('returns undefined for something else', () => {
    expect(parseProcStat('not a stat line')).toBeUndefined();
    expect(parseProcStat('1 (init) S')).toBeUndefined();
  });
});

describe('childCpuSeconds', () => {
  it('counts the CPU a child used, once it has exited too', async () => {
    const before = childCpuSeconds();
    // Burns 300 ms of its own CPU whatever the machine's load (a wall-clock loop would not).
    const burn = 'const used = () => { const u = process.cpuUsage(); return u.user + u.system; }; while (used() < 300_000);';
    const child = spawn(process.execPath, ['-e', burn]);
    await new Promise((resolve) => child.once('exit', resolve));
    // /proc counts user and system time each in whole 10 ms ticks.
    expect(childCpuSeconds() - before).toBeGreaterThanOrEqual(0.28);
  });
});
