/**
 * Running a compiled script on the Linux kernel: create its maps and ring
 * buffer, load every program (a refusal names the script line), attach
 * the probes, run BEGIN, print events as they arrive, and at the end run
 * END and print the maps. Everything Linux-specific goes through
 * src/kernel; process and signal handling stay with the caller.
 */
import type { Insn } from '../../isa/index.js';
import { Btf, encodeBtf, type BtfType } from '../../btf/index.js';
import { loadBtf, type KernelBtf } from '../../kernel/btf.js';
import { createMap, type BpfMap } from '../../kernel/map.js';
import { loadProgram, type Program } from '../../kernel/program.js';
import { VerifierError } from '../../kernel/errors.js';
import { SyscallError } from '../../kernel/sys.js';
import { ERRNO } from '../../kernel/errno.js';
import { MAP_FLAG } from '../../kernel/constants.js';
import { NotSupportedError } from '../../errors/index.js';
import { nativeSys } from '../../kernel/native.js';
import type { Link } from '../../kernel/link/link.js';
import { attachTracepoint } from '../../kernel/link/tracepoint.js';
import { RingBufferReader } from '../../kernel/output/ringbuf.js';
import { JOIN_RECORD_SIZE, type CompiledScript, type StackMapSpec, type TraceProgram } from '../compiled.js';
import { TraceLoadError, renderDiagnostic } from '../errors.js';
import type { MapEntry, OutputMode, Resolver } from '../output.js';
import { stackFrames, stackKey, stackMapOf, type UserSymbols } from '../stack-frames.js';
import { hexPointer } from '../user-symbols.js';
import type { ProbeSpec } from '../probes.js';
import { basicResolver, TraceSession, type MapAccess, type SessionHooks } from '../session.js';

export interface KernelRunOptions {
  readonly mode: OutputMode;
  readonly write: (text: string) => void;
  /** Diagnostics (-v verifier logs). */
  readonly writeErr: (text: string) => void;
  /** The script text and its name, to render load errors. */
  readonly source: string;
  readonly file: string;
  /** Print each program's verifier log (-v). */
  readonly verbose?: boolean;
  /** Resolves when the run should end (Ctrl-C, the -c command exited, a timeout). */
  readonly stop: Promise<void>;
  /** Called once everything is attached (start the -c command here). */
  readonly onAttached?: () => void;
  /** -p PID: uprobes only fire in this process. */
  readonly pid?: number;
  readonly resolver?: Partial<Resolver>;
  readonly hooks?: SessionHooks;
  /**
   * Create hash maps without preallocating their 4096 entries: creation drops
   * from ~9 ms to ~0.1 ms (start-up), at the cost of an allocation when a new
   * key is first inserted. Tracing programs accept such maps from Linux 6.1.
   */
  readonly noPrealloc?: boolean;
  /** A kernel address as `symbol+offset`, as kstack frames print (default: resolver.ksym). */
  readonly ksymOffset?: (addr: bigint) => string;
  /**
   * Names user addresses of a process (usym, ustack frames); without it they
   * print in hex. Called only when such a value is printed.
   */
  readonly userSymbols?: UserSymbols;
  /**
   * Called once the probes are detached, before END runs and the maps print
   * (bpftrace ends the -c command there: user stacks of a process that is gone print in hex).
   */
  readonly beforeEnd?: () => Promise<void>;
}

const SOFTWARE_CONFIG: Record<string, [number, bigint]> = {
  'cpu-clock': [0, 1000000n], cpu: [0, 1000000n], 'task-clock': [1, 1000000n], 'page-faults': [2, 100n], faults: [2, 100n],
  'context-switches': [3, 1000n], cs: [3, 1000n], 'cpu-migrations': [4, 1n], migrations: [4, 1n],
  'minor-faults': [5, 100n], 'major-faults': [6, 1n], 'alignment-faults': [7, 1n], 'emulation-faults': [8, 1n], dummy: [9, 1n], 'bpf-output': [10, 1n],
};
const HARDWARE_CONFIG: Record<string, [number, bigint]> = {
  'cpu-cycles': [0, 1000000n], cycles: [0, 1000000n], instructions: [1, 1000000n], 'cache-references': [2, 1000000n],
  'cache-misses': [3, 1000000n], 'branch-instructions': [4, 100000n], branches: [4, 100000n], 'branch-misses': [5, 100000n],
  'bus-cycles': [6, 100000n], 'frontend-stalls': [7, 1000000n], 'backend-stalls': [8, 1000000n], 'ref-cycles': [9, 1000000n],
};

function patchMaps(insns: readonly Insn[], fds: readonly number[]): Insn[] {
  return insns.map((i) => (i.kind === 'lddw' && i.pseudo === 'map_fd' ? { ...i, imm: BigInt(fds[Number(i.imm)]) } : i));
}

class KernelMaps implements MapAccess {
  constructor(private readonly maps: readonly BpfMap[]) {}
  entries(index: number): MapEntry[] {
    const m = this.maps[index];
    const out: MapEntry[] = [];
    if (!m.perCpu) {
      for (const [key, value] of m.entries()) out.push({ key, value });
      return out;
    }
    // Per-CPU aggregations (count, sum, hist and lhist buckets) are one u64 each: the total is their sum.
    for (const key of m.keys()) {
      const values = m.lookupPerCpu(key);
      if (!values) continue;
      let total = 0n;
      for (const v of values) total += new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0, true);
      const value = new Uint8Array(m.valueSize);
      new DataView(value.buffer).setBigUint64(0, BigInt.asUintN(64, total), true);
      out.push({ key, value });
    }
    return out;
  }
  clear(index: number): void {
    const m = this.maps[index];
    for (const k of [...m.keys()]) m.delete(k);
  }
  zero(index: number): void {
    const m = this.maps[index];
    const z = new Uint8Array(m.valueSize);
    for (const k of [...m.keys()]) m.update(k, z, 'exist');
  }
}

function loadOne(p: TraceProgram, fds: readonly number[], opts: KernelRunOptions): Program {
  // The verifier gives up with EAGAIN when a signal is pending (a profiler's SIGPROF,
  // a busy machine's timers); libbpf retries such loads, and so do we.
  for (let attempt = 1; ; attempt++) {
    try {
      return loadOnce(p, fds, opts);
    } catch (e) {
      const errno = e instanceof VerifierError || e instanceof SyscallError ? e.errno : undefined;
      const cause = e instanceof TraceLoadError ? e.cause : e;
      const causeErrno = cause instanceof VerifierError || cause instanceof SyscallError ? cause.errno : errno;
      if (causeErrno !== ERRNO.EAGAIN || attempt >= 5) throw e;
    }
  }
}

/**
 * BTF describing a program's functions, which the kernel requires once a
 * program has callbacks (bpf_for_each_map_elem): every function static,
 * `long f(void)` (static functions' arguments are not checked against it).
 */
let functionBtf: KernelBtf | undefined;
function funcInfo(p: TraceProgram): { fd: number; funcInfo: Uint8Array } | undefined {
  if (p.functions.length === 0) return undefined;
  if (!functionBtf) {
    const types: BtfType[] = [
      { kind: 'int', id: 1, name: 'long', size: 8, signed: true, char: false, bool: false, bitOffset: 0, bits: 64 },
      { kind: 'func_proto', id: 2, name: '', returnType: 1, params: [] },
      { kind: 'func', id: 3, name: 'probe', type: 2, linkage: 'static' },
      { kind: 'func', id: 4, name: 'for_body', type: 2, linkage: 'static' },
    ];
    functionBtf = loadBtf(Btf.parse(encodeBtf(types)));
  }
  const starts = [0, ...p.functions];
  const rec = new Uint8Array(starts.length * 8);
  const dv = new DataView(rec.buffer);
  starts.forEach((slot, i) => {
    dv.setUint32(i * 8, slot, true);
    dv.setUint32(i * 8 + 4, i === 0 ? 3 : 4, true);
  });
  return { fd: functionBtf.fd, funcInfo: rec };
}

function loadOnce(p: TraceProgram, fds: readonly number[], opts: KernelRunOptions): Program {
  try {
    const btf = funcInfo(p);
    const prog = loadProgram({
      ...(btf ? { btf } : {}),
      type: p.progType, insns: patchMaps(p.insns, fds), name: p.name, license: 'GPL', logLevel: opts.verbose ? 1 : 0,
      ...(p.attach ? { attachBtfId: p.attach.btfId, expectedAttachType: p.attach.expectedAttachType } : {}),
    });
    if (opts.verbose && prog.log) opts.writeErr(`${p.probes.map((s) => s.name).join(', ')}: verifier log\n${prog.log}\n`);
    return prog;
  } catch (e) {
    if (p.progType === 'tracing' && e instanceof SyscallError && (e.errno === ERRNO.EPERM || e.errno === ERRNO.ENOTSUPP || e.errno === ERRNO.EINVAL)) {
      throw new NotSupportedError(`${p.probes[0].provider} probes`, `this kernel refused a BPF trampoline program for ${p.probes[0].func} (${e.errnoName}): it needs CONFIG_FUNCTION_TRACER and CONFIG_DEBUG_INFO_BTF`, { cause: e });
    }
    if (e instanceof VerifierError) {
      const loc = e.insnIndex !== undefined ? p.slotLocs[e.insnIndex] : undefined;
      const where = renderDiagnostic('ERROR', `the kernel's verifier refused the program for ${p.probes[0].name}: ${e.message.replace(/^.*?verifier refused the program \([A-Z0-9]+\): /, '')}`, loc, opts.source, opts.file);
      throw new TraceLoadError(where.trimEnd(), e.log, loc, { cause: e });
    }
    throw e;
  }
}

/** Attach one probe; the modules of the rarer hooks load only when a script uses them (start-up time). */
async function attach(prog: Program, spec: ProbeSpec, opts: KernelRunOptions): Promise<Link> {
  switch (spec.provider) {
    case 'tracepoint': return attachTracepoint(prog, spec.target, spec.func);
    case 'rawtracepoint': {
      const { attachRawTracepoint } = await import('../../kernel/link/raw-tracepoint.js');
      return attachRawTracepoint(prog, spec.func);
    }
    case 'kprobe': case 'kretprobe': {
      const { attachKprobe } = await import('../../kernel/link/kprobe.js');
      return attachKprobe(prog, spec.func, { retprobe: spec.provider === 'kretprobe' });
    }
    case 'uprobe': case 'uretprobe': {
      const { attachUprobe } = await import('../../kernel/link/uprobe.js');
      return attachUprobe(prog, spec.target, spec.func, { retprobe: spec.provider === 'uretprobe', ...(opts.pid !== undefined ? { pid: opts.pid } : {}) });
    }
    case 'profile': case 'interval': {
      const { attachPerfSampling } = await import('../../kernel/link/sampling.js');
      const n = BigInt(spec.func);
      const unitNs: Record<string, bigint> = { s: 1000000000n, ms: 1000000n, us: 1000n };
      const cpus = spec.provider === 'interval' ? [0] : undefined;
      if (spec.target === 'hz') return attachPerfSampling(prog, { frequency: Number(n), ...(cpus ? { cpus } : {}) });
      return attachPerfSampling(prog, { periodNs: n * unitNs[spec.target], ...(cpus ? { cpus } : {}) });
    }
    case 'software': case 'hardware': {
      const { perfEventOpen, PERF_TYPE } = await import('../../kernel/link/perf-event.js');
      const { attachPerfEvent } = await import('../../kernel/link/tracepoint.js');
      const table = spec.provider === 'software' ? SOFTWARE_CONFIG : HARDWARE_CONFIG;
      const [config, period] = table[spec.target];
      let fd: number;
      try {
        fd = perfEventOpen({ type: spec.provider === 'software' ? PERF_TYPE.software : PERF_TYPE.hardware, config: BigInt(config), samplePeriod: spec.func ? BigInt(spec.func) : period, pid: -1, cpu: 0 }, nativeSys);
      } catch (e) {
        // A virtual machine often has no PMU: the kernel then knows no hardware events.
        if (spec.provider === 'hardware' && e instanceof SyscallError && (e.errno === ERRNO.ENOENT || e.errno === ERRNO.EOPNOTSUPP || e.errno === ERRNO.ENODEV)) {
          throw new NotSupportedError(`${spec.name}`, `this machine has no hardware performance counter for ${spec.target} (perf_event_open: ${e.errnoName})`, { cause: e });
        }
        throw e;
      }
      return attachPerfEvent(prog, fd, 'perf_event', spec.name, nativeSys);
    }
    case 'fentry': case 'fexit': {
      const { attachTracing } = await import('../../kernel/link/raw-tracepoint.js');
      return attachTracing(prog, spec.name);
    }
    case 'BEGIN': case 'END':
      throw new Error('internal: BEGIN/END are run, not attached');
  }
}

/** Entries of each stack trace map (bpftrace 0.17's). */
const STACK_MAP_ENTRIES = 131072;

/** Run the script until it exits or `stop` resolves; returns the exit code. */
export async function runOnKernel(script: CompiledScript, opts: KernelRunOptions): Promise<number> {
  const maps: BpfMap[] = [];
  const programs: Program[] = [];
  const links: Link[] = [];
  let reader: RingBufferReader | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    for (const m of script.maps) {
      maps.push(createMap({
        type: m.perCpu ? 'percpu_hash' : 'hash', keySize: m.keySize, valueSize: m.valueSize, maxEntries: 4096,
        name: m.name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15) || 'AT_',
        ...(opts.noPrealloc ? { flags: MAP_FLAG.no_prealloc } : {}),
      }));
    }
    const ring = createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 1 << 20, name: 'printf' });
    maps.push(ring);
    // Programs name maps by index: the script's, the ring buffer, then the optional internal ones.
    const fds = maps.map((m) => m.fd);
    const stackMaps: { spec: StackMapSpec; map: BpfMap }[] = [];
    for (const spec of script.internal.stacks) {
      // bpftrace 0.17's size: get_stackid fails (the stack is lost) when a different stack holds the hash bucket.
      const map = createMap({ type: 'stack_trace', keySize: 4, valueSize: spec.limit * 8, maxEntries: STACK_MAP_ENTRIES, name: 'stack' });
      maps.push(map);
      stackMaps.push({ spec, map });
      fds[spec.index] = map.fd;
    }
    if (script.internal.exitFlag !== undefined) {
      const flag = createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'exited' });
      maps.push(flag);
      fds[script.internal.exitFlag] = flag.fd;
    }
    if (script.internal.join !== undefined) {
      const buf = createMap({ type: 'percpu_array', keySize: 4, valueSize: JOIN_RECORD_SIZE, maxEntries: 1, name: 'join' });
      maps.push(buf);
      fds[script.internal.join] = buf.fd;
    }
    const loaded = script.programs.map((p) => {
      const prog = loadOne(p, fds, opts);
      programs.push(prog);
      return { p, prog };
    });

    const access = new KernelMaps(maps.slice(0, script.maps.length));
    const base = basicResolver(script, opts.resolver);
    const resolver: Resolver = {
      ...base,
      ...(opts.userSymbols && !opts.resolver?.usym ? { usym: (addr: bigint, pid: number) => opts.userSymbols?.(pid, [addr])[0]?.name ?? hexPointer(addr) } : {}),
      stack: (value, t) => {
        const spec = stackMapOf(script.internal.stacks, t);
        const map = stackMaps.find((m) => m.spec === spec)?.map;
        return map ? stackFrames(value, t, (id) => map.lookup(stackKey(id)), opts.ksymOffset ?? base.ksym, opts.userSymbols) : undefined;
      },
    };
    const session = new TraceSession(script, opts.mode, opts.write, access, resolver, opts.hooks);
    reader = new RingBufferReader(ring);
    const drain = () => reader?.consume((r) => session.handleEvent(r));

    let wake: () => void = () => {};
    const exited = new Promise<void>((resolve) => { wake = resolve; });
    const check = () => { if (session.exitRequested) wake(); };

    // As bpftrace: the message, then BEGIN, then the other probes, so an exit() in BEGIN
    // (the exit flag) stops them from their first event; BEGIN's output prints once all are attached.
    session.attached();
    for (const { p, prog } of loaded) if (p.probes.some((s) => s.provider === 'BEGIN')) prog.testRun({ repeat: 0 });
    for (const { p, prog } of loaded) {
      for (const spec of p.probes) if (spec.provider !== 'BEGIN' && spec.provider !== 'END') links.push(await attach(prog, spec, opts));
    }
    drain();
    check();
    reader.start((r) => { session.handleEvent(r); check(); });
    timer = setInterval(() => { drain(); check(); }, 100);
    if (!session.exitRequested) {
      opts.onAttached?.();
      await Promise.race([exited, opts.stop]);
    }
    for (const l of links.splice(0)) l.close();
    drain();
    await opts.beforeEnd?.();
    session.runningEnd();
    for (const { p, prog } of loaded) if (p.probes.some((s) => s.provider === 'END')) prog.testRun({ repeat: 0 });
    drain();
    session.finish();
    return 0;
  } finally {
    if (timer) clearInterval(timer);
    reader?.close();
    for (const l of links) l.close();
    for (const p of programs) p.close();
    for (const m of maps) m.close();
  }
}
