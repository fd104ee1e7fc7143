/**
 * The host environment helpers read: clocks, randomness, the "current"
 * process and CPU. Tests use a fixed one (a clock that only moves when
 * told, a seeded generator) so runs are reproducible.
 */
export interface HostEnv {
  /** CLOCK_MONOTONIC in ns (bpf_ktime_get_ns). */
  monotonicNs(): bigint;
  /** CLOCK_BOOTTIME in ns. */
  bootNs(): bigint;
  /** CLOCK_REALTIME in ns (bpf_ktime_get_tai_ns approximates with it). */
  realtimeNs(): bigint;
  /** jiffies (bpf_jiffies64). */
  jiffies(): bigint;
  /** A pseudo-random u32 (bpf_get_prandom_u32). */
  randomU32(): number;
  /** The CPU the program runs on. */
  cpu: number;
  readonly pid: number;
  readonly tgid: number;
  readonly uid: number;
  readonly gid: number;
  /** Task name, at most 15 bytes are visible (TASK_COMM_LEN 16). */
  readonly comm: string;
  /** The kernel and user stacks bpf_get_stackid / bpf_get_stack report (innermost first; none when absent). */
  kernelStack?: bigint[];
  userStack?: bigint[];
  /** Signals programs sent with bpf_send_signal(_thread). */
  readonly signals: { readonly signal: number; readonly thread: boolean }[];
}

export interface HostEnvOptions {
  /** 'fixed' (default): time starts at startNs and moves by stepNs per read. 'real': performance.now(). */
  readonly clock?: 'fixed' | 'real';
  readonly startNs?: bigint;
  readonly stepNs?: bigint;
  /** Seed of the random generator (default 1). */
  readonly seed?: number;
  readonly cpu?: number;
  readonly pid?: number;
  readonly tgid?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly comm?: string;
  /** HZ for jiffies (default 250). */
  readonly hz?: number;
}

const perf = (globalThis as unknown as { performance?: { now(): number; timeOrigin?: number } }).performance;

/** An environment; by default fixed and seeded. */
export function createHostEnv(opts: HostEnvOptions = {}): HostEnv {
  const real = opts.clock === 'real';
  let now = opts.startNs ?? 1_000_000_000n;
  const step = opts.stepNs ?? 0n;
  const hz = BigInt(opts.hz ?? 250);
  let state = (opts.seed ?? 1) >>> 0;
  const mono = (): bigint => {
    if (real && perf !== undefined) return BigInt(Math.round(perf.now() * 1e6));
    const t = now;
    now += step;
    return t;
  };
  const pid = opts.pid ?? 1000;
  return {
    monotonicNs: mono,
    bootNs: mono,
    realtimeNs: () => (real ? BigInt(Date.now()) * 1_000_000n : mono() + 1_700_000_000_000_000_000n),
    jiffies: () => (mono() * hz) / 1_000_000_000n + 4294937296n,
    randomU32: () => {
      // mulberry32: small, seedable, well mixed.
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    },
    cpu: opts.cpu ?? 0,
    pid,
    tgid: opts.tgid ?? pid,
    uid: opts.uid ?? 0,
    gid: opts.gid ?? 0,
    comm: opts.comm ?? 'bpfkit',
    kernelStack: [],
    userStack: [],
    signals: [],
  };
}
