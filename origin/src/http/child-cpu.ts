/**
 * CPU time of the origin's child processes (the ffmpegs), which prom-client's process metrics
 * leave out: Node's process.cpuUsage() counts this process only. Linux /proc; elsewhere 0.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc times: 100 on every mainstream Linux build (USER_HZ). */
const CLOCK_TICKS = 100;

/** Fields of /proc/<pid>/stat that matter here, in seconds. */
export interface ProcStat {
  ppid: number;
  /** User + system time of the process itself. */
  cpuSeconds: number;
  /** User + system time of its children that have exited and been waited for. */
  reapedChildrenSeconds: number;
}

/**
 * Parses one /proc/<pid>/stat line (proc(5)): the command name may hold spaces and parentheses,
 * so fields are counted from the last `)`. Pure.
 */
export function parseProcStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ")": state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17); index 0 here is field 3.
  const f = line.slice(close + 2).trim().split(/\s+/).map(Number);
  const [ppid, utime, stime, cutime, cstime] = [f[1], f[11], f[12], f[13], f[14]];
  if ([ppid, utime, stime, cutime, cstime].some((v) => v === undefined || Number.isNaN(v))) return undefined;
  return { ppid: ppid!, cpuSeconds: (utime! + stime!) / CLOCK_TICKS, reapedChildrenSeconds: (cutime! + cstime!) / CLOCK_TICKS };
}

function readStat(pid: string | number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone meanwhile, or no /proc
  }
}

/**
 * Seconds of CPU used by this process's children so far: the running ones (read from /proc) plus
 * the ones already reaped (which the kernel adds to our own cutime/cstime).
 */
export function childCpuSeconds(pid = process.pid): number {
  const self = readStat(pid);
  if (!self) return 0;
  let running = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return self.reapedChildrenSeconds;
  }
  for (const entry of entries) {
    const stat = readStat(entry);
    if (stat?.ppid === pid) running += stat.cpuSeconds + stat.reapedChildrenSeconds;
  }
  return self.reapedChildrenSeconds + running;
}
