/**
 * kprobes and kretprobes. They need a kernel built with CONFIG_KPROBES,
 * which exposes the kprobe PMU (/sys/bus/event_source/devices/kprobe) and
 * tracefs' kprobe_events; where neither exists, attaching reports
 * NotSupportedError saying so instead of a bare ENOENT.
 */
import { existsSync, readFileSync } from 'node:fs';
import { NotSupportedError } from '../../errors/index.js';
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import type { Sys } from '../sys.js';
import { attachPerfEvent } from './tracepoint.js';
import type { FdLink } from './link.js';
import { perfEventOpen } from './perf-event.js';
import { TRACEFS } from './tracefs.js';

const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe';

/** Why kprobes cannot be used here, or undefined. */
export function kprobeUnsupportedReason(): string | undefined {
  if (existsSync(`${KPROBE_PMU}/type`)) return undefined;
  const hasEvents = existsSync(`${TRACEFS}/kprobe_events`);
  return `this kernel has no kprobe PMU (${KPROBE_PMU})${hasEvents ? '' : ' and no kprobe_events in tracefs'}: it was built without CONFIG_KPROBES`;
}

/** Attach a kprobe (or, with `retprobe`, a kretprobe) program to kernel function `fn`. */
export function attachKprobe(prog: Program, fn: string, opts: { retprobe?: boolean; offset?: bigint; sys?: Sys } = {}): FdLink {
  const what = opts.retprobe ? 'kretprobe' : 'kprobe';
  const why = kprobeUnsupportedReason();
  if (why) throw new NotSupportedError(`${what} ${fn}`, why);
  const sys = opts.sys ?? nativeSys;
  const type = Number(readFileSync(`${KPROBE_PMU}/type`, 'utf8').trim());
  const fd = perfEventOpen({
    type,
    config: opts.retprobe ? 1n : 0n,
    config1: new TextEncoder().encode(`${fn}\0`),
    config2: opts.offset ?? 0n,
    pid: -1,
    cpu: 0,
  }, sys);
  return attachPerfEvent(prog, fd, 'kprobe', `${what}:${fn}`, sys);
}
