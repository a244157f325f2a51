import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** One line naming the machine a benchmark ran on, so figures are read in context (and ffmpeg's version, given its path). */
export function machineInfo(ffmpegPath?: string): string {
  const cpu = cpus();
  const machine = `${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`;
  if (ffmpegPath === undefined) return machine;
  let ffmpegVersion = 'unknown';
  try {
    ffmpegVersion = execFileSync(ffmpegPath, ['-version']).toString().split('\n')[0] ?? 'unknown';
  } catch {
    // keep 'unknown'
  }
  return `${machine}, ${ffmpegVersion}`;
}

/** The p-th percentile (0..100) of `values` by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
