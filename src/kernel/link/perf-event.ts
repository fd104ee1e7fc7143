/**
 * perf_event_open(2) attributes for the events bpfkit opens: tracepoints,
 * uprobes, CPU clock sampling, BPF output rings.
 */
import { AttrWriter, PERF_EVENT_ATTR } from '../attr.js';
import type { Sys } from '../sys.js';

export const PERF_TYPE = { hardware: 0, software: 1, tracepoint: 2 } as const;
export const PERF_COUNT_SW = { cpu_clock: 0, bpf_output: 10 } as const;
export const PERF_SAMPLE_RAW = 1n << 10n;
export const PERF_FLAG_FD_CLOEXEC = 8;
/** ioctl requests: _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32). */
export const PERF_EVENT_IOC = { enable: 0x2400, disable: 0x2401, set_bpf: 0x40042408 } as const;

/** Attribute flag bits (the bitfield after read_format). */
export const PERF_ATTR_FLAG = { disabled: 1n, freq: 1n << 10n, watermark: 1n << 14n } as const;

export interface PerfEventSpec {
  readonly type: number;
  readonly config: bigint;
  readonly samplePeriod?: bigint;
  /** Sample at this frequency (Hz) instead of a period. */
  readonly sampleFreq?: number;
  readonly sampleType?: bigint;
  readonly wakeupEvents?: number;
  readonly flags?: bigint;
  readonly config1?: Uint8Array | bigint;
  readonly config2?: bigint;
  readonly pid: number;
  readonly cpu: number;
}

export function perfEventOpen(s: PerfEventSpec, sys: Sys): number {
  const w = new AttrWriter(PERF_EVENT_ATTR)
    .u32('type', s.type)
    .u32('size', PERF_EVENT_ATTR.size)
    .u64('config', s.config)
    .u64('sample_period', s.sampleFreq !== undefined ? BigInt(s.sampleFreq) : (s.samplePeriod ?? 1n))
    .u64('sample_type', s.sampleType ?? 0n)
    .u64('flags', (s.flags ?? 0n) | (s.sampleFreq !== undefined ? PERF_ATTR_FLAG.freq : 0n))
    .u32('wakeup_events', s.wakeupEvents ?? 1)
    .u64('config2', s.config2 ?? 0n);
  if (s.config1 instanceof Uint8Array) w.ptr('config1', s.config1);
  else w.u64('config1', s.config1 ?? 0n);
  return sys.call({ kind: 'perf_event_open', attr: w.attr, pointers: w.pointerFields, pid: s.pid, cpu: s.cpu, groupFd: -1, flags: PERF_FLAG_FD_CLOEXEC });
}
