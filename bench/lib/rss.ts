import { readFileSync } from 'node:fs';

/** A process's resident set size in MiB, from /proc/<pid>/status (VmRSS); NaN when unreadable. */
export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.replace(/\D+/g, '')) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak and the last sample. */
export function sampleRss(pid: number | undefined, everyMs = 100) {
  let peak = rssMb(pid);
  let last = peak;
  const timer = setInterval(() => {
    last = rssMb(pid);
    if (Number.isNaN(peak) || last > peak) peak = last;
  }, everyMs);
  return {
    current: () => last,
    stop() {
      clearInterval(timer);
      last = rssMb(pid);
      if (Number.isNaN(peak) || last > peak) peak = last;
      return { peakMb: peak, lastMb: last };
    },
  };
}
