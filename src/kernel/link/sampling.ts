/**
 * perf_event programs: sampling on the CPU clock, one perf event per
 * online CPU, each attached through a bpf_link; one Link for all.
 */
import { onlineCpus } from '../cpus.js';
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import type { Sys } from '../sys.js';
import { MultiLink, track, type Link } from './link.js';
import { PERF_COUNT_SW, PERF_TYPE, perfEventOpen } from './perf-event.js';
import { attachPerfEvent } from './tracepoint.js';

export interface SamplingOptions {
  /** Samples per second per CPU (default 99). */
  readonly frequency?: number;
  /** Sample every this many nanoseconds of CPU clock instead. */
  readonly periodNs?: bigint;
  readonly cpus?: readonly number[];
  /** Only this process (default: everything on the CPU). */
  readonly pid?: number;
  readonly sys?: Sys;
}

export function attachPerfSampling(prog: Program, opts: SamplingOptions = {}): MultiLink {
  const sys = opts.sys ?? nativeSys;
  const links: Link[] = [];
  try {
    for (const cpu of opts.cpus ?? onlineCpus()) {
      const fd = perfEventOpen({
        type: PERF_TYPE.software,
        config: BigInt(PERF_COUNT_SW.cpu_clock),
        ...(opts.periodNs !== undefined ? { samplePeriod: opts.periodNs } : { sampleFreq: opts.frequency ?? 99 }),
        pid: opts.pid ?? -1,
        cpu,
      }, sys);
      links.push(attachPerfEvent(prog, fd, 'perf_event', `cpu-clock on CPU ${cpu}`, sys));
    }
  } catch (e) {
    for (const l of links) l.close();
    throw e;
  }
  return track(new MultiLink('perf_event', 'cpu-clock', links));
}
