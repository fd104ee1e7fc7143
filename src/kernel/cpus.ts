/**
 * CPU sets the kernel uses to size per-CPU values and per-CPU rings:
 * /sys/devices/system/cpu/possible and .../online ("0-3,5").
 */
import { readFileSync } from 'node:fs';

/** Parse a kernel CPU list ("0-3,5") into CPU numbers. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

let possible: number | undefined;

/** How many CPUs per-CPU map values hold: the highest possible CPU plus one. */
export function possibleCpus(): number {
  possible ??= Math.max(...parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'))) + 1;
  return possible;
}

/** The CPUs online now (per-CPU perf rings and sampling events go on these). */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}
