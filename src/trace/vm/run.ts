/**
 * Running a compiled script on the userspace VM, driven by events (a
 * recording or a synthetic generator): no kernel and no root, in Node or a
 * browser. The same programs the kernel would run execute on the VM with
 * its maps and helpers; contexts (tracepoint records, pt_regs) are built
 * from each event, and output goes through the same TraceSession.
 */
import type { CollectionSpec, MapSpec, ProgramSpec, ProgramRelocation } from '../../elf/index.js';
import type { HostEnv } from '../../helpers/index.js';
import { RingBufMap, type VmMap } from '../../maps/index.js';
import { loadCollection } from '../../runtime/index.js';
import { JOIN_RECORD_SIZE, type CompiledScript } from '../compiled.js';
import type { MapEntry, OutputMode, Resolver } from '../output.js';
import { basicResolver, TraceSession, type MapAccess, type SessionHooks } from '../session.js';
import { parseTracepointFormat, type TracepointFormat } from '../tracepoint-format.js';
import { frameAddress, type RecordedSymbol, type TraceEvent } from './events.js';
import { recordedResolvers } from './recorded-symbols.js';
import { stackFrames, stackKey, stackMapOf } from '../stack-frames.js';
import { hexPointer } from '../user-symbols.js';

export interface VmRunOptions {
  readonly mode: OutputMode;
  readonly write: (text: string) => void;
  /** tracefs format text, to lay out tracepoint records. */
  readonly tracepointFormat?: (category: string, name: string) => string | undefined;
  readonly resolver?: Partial<Resolver>;
  readonly hooks?: SessionHooks;
  /** The recording's symbol table (see parseSymbols): names for ksym, usym and stack frames. */
  readonly symbols?: readonly RecordedSymbol[];
}

const PT_REGS_SIZE = 168;
const PT_REGS_ARGS = [112, 104, 96, 88, 72, 64];

class Task {
  comm = 'bpfkit';
  pid = 1;
  tid = 1;
  uid = 0;
  gid = 0;
  cpu = 0;
  now = 1_000_000_000n;
  kernelStack: bigint[] | undefined;
  userStack: bigint[] | undefined;
}

function envFor(t: Task): HostEnv {
  const signals: { signal: number; thread: boolean }[] = [];
  return {
    monotonicNs: () => t.now,
    bootNs: () => t.now,
    realtimeNs: () => t.now + 1_700_000_000_000_000_000n,
    jiffies: () => (t.now * 250n) / 1_000_000_000n,
    randomU32: () => 4,
    get cpu() { return t.cpu; },
    set cpu(v: number) { t.cpu = v; },
    get pid() { return t.tid; },
    get tgid() { return t.pid; },
    get uid() { return t.uid; },
    get gid() { return t.gid; },
    get comm() { return t.comm; },
    get kernelStack() { return t.kernelStack; },
    get userStack() { return t.userStack; },
    signals,
  };
}

function mapSpec(name: string, type: MapSpec['type'], keySize: number, valueSize: number, maxEntries: number): MapSpec {
  return {
    name, origin: 'legacy', type, keySize, valueSize, maxEntries, flags: 0, pinning: 'none', numaNode: undefined,
    mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId: 0, innerMap: undefined, values: [], data: undefined, variables: [],
  };
}

class VmMaps implements MapAccess {
  constructor(private readonly maps: readonly VmMap[]) {}
  entries(index: number): MapEntry[] {
    return [...this.maps[index]].map(([key, value]) => ({ key: key.slice(), value: value.slice() }));
  }
  clear(index: number): void {
    const m = this.maps[index];
    for (const [k] of [...m]) m.delete(k);
  }
  zero(index: number): void {
    const m = this.maps[index];
    for (const [k, v] of [...m]) m.update(k, new Uint8Array(v.length), 'exist');
  }
}

/** Run BEGIN, the events in order, then END; print as bpftrace would. Returns the exit code. */
export function runOnVm(script: CompiledScript, events: Iterable<TraceEvent>, opts: VmRunOptions): number {
  const maps = new Map<string, MapSpec>();
  const mapNames = script.maps.map((m, i) => `m${i}`);
  script.maps.forEach((m, i) => maps.set(mapNames[i], mapSpec(mapNames[i], 'hash', m.keySize, m.valueSize, 4096)));
  maps.set('ringbuf', mapSpec('ringbuf', 'ringbuf', 0, 0, 1 << 18));
  if (script.internal.exitFlag !== undefined) maps.set('exited', mapSpec('exited', 'array', 4, 8, 1));
  if (script.internal.join !== undefined) maps.set('joinbuf', mapSpec('joinbuf', 'percpu_array', 4, JOIN_RECORD_SIZE, 1));
  // Smaller than the kernel's 131072 entries: the VM allocates every bucket up front.
  for (const st of script.internal.stacks) maps.set(`stack${st.index}`, mapSpec(`stack${st.index}`, 'stack_trace', 4, st.limit * 8, 4096));
  const refName = (idx: number) =>
    idx < script.maps.length ? mapNames[idx] : idx === script.internal.ringbuf ? 'ringbuf' : idx === script.internal.exitFlag ? 'exited' : idx === script.internal.join ? 'joinbuf'
      : script.internal.stacks.some((st) => st.index === idx) ? `stack${idx}` : undefined;

  const programs = new Map<string, ProgramSpec>();
  script.programs.forEach((p, i) => {
    const relocations: ProgramRelocation[] = [];
    p.insns.forEach((insn, k) => {
      if (insn.kind === 'lddw' && insn.pseudo === 'map_fd') {
        const map = refName(Number(insn.imm));
        if (map) relocations.push({ kind: 'map', insn: k, map });
      }
    });
    programs.set(`p${i}`, {
      name: `p${i}`, section: p.name, type: p.progType, attachType: 'none', attachTarget: undefined, sleepable: false, xdpFrags: false,
      license: 'GPL', kernelVersion: 0, insns: p.insns, functions: [], relocations, funcInfo: [], lineInfo: [], coreRelocations: [],
    });
  });
  const spec: CollectionSpec = { littleEndian: true, license: 'GPL', kernelVersion: 0, programs, maps, externs: [], btf: undefined };
  const task = new Task();
  const coll = loadCollection(spec, { env: envFor(task) });
  const vmMaps = mapNames.map((n) => coll.maps.get(n)!);
  const ring = coll.maps.get('ringbuf') as RingBufMap;
  const recorded = recordedResolvers(opts.symbols ?? []);
  const base = basicResolver(script, { ksym: recorded.ksym, ...opts.resolver });
  const resolver: Resolver = {
    ...base,
    ...(opts.resolver?.usym ? {} : { usym: (addr: bigint, pid: number) => recorded.userSymbols(pid, [addr])[0]?.name ?? hexPointer(addr) }),
    stack: (value, t) => {
      const spec = stackMapOf(script.internal.stacks, t);
      const map = spec && coll.maps.get(`stack${spec.index}`);
      return map ? stackFrames(value, t, (id) => map.lookup(stackKey(id)), recorded.ksymOffset, recorded.userSymbols) : undefined;
    },
  };
  const session = new TraceSession(script, opts.mode, opts.write, new VmMaps(vmMaps), resolver, opts.hooks);

  // User memory the events' strings live in (char * arguments point here).
  const user = coll.space.map('user', 1 << 16);
  let userTop = user.start;
  const userString = (s: string): bigint => {
    const bytes = new TextEncoder().encode(`${s}\0`);
    if (userTop + bytes.length > user.start + user.size) userTop = user.start;
    coll.space.write(userTop, bytes);
    const at = userTop;
    userTop += (bytes.length + 7) & ~7;
    return BigInt(at);
  };
  const toU64 = (v: number | string): bigint => (typeof v === 'string' ? (/^-?[0-9]+$/.test(v) ? BigInt(v) : userString(v)) : BigInt(Math.trunc(v)));

  const formats = new Map<string, TracepointFormat>();
  const tracepointRecord = (cat: string, name: string, ev: TraceEvent): Uint8Array => {
    const key = `${cat}:${name}`;
    let f = formats.get(key);
    if (!f) {
      const text = opts.tracepointFormat?.(cat, name);
      f = text === undefined ? { id: undefined, fields: [] } : parseTracepointFormat(text);
      formats.set(key, f);
    }
    const size = f.fields.reduce((n, x) => Math.max(n, x.offset + x.size), 8);
    const rec = new Uint8Array(size + 256);
    const dv = new DataView(rec.buffer);
    dv.setInt32(4, task.pid, true);
    let tail = size;
    for (const field of f.fields) {
      const v = ev.args?.[field.name];
      if (v === undefined) continue;
      if (field.dataLoc) {
        const bytes = new TextEncoder().encode(`${v}\0`).subarray(0, 255 - (tail - size));
        rec.set(bytes, tail);
        dv.setUint32(field.offset, (bytes.length << 16) | tail, true);
        tail += bytes.length;
      } else if (field.type.kind === 'string') {
        rec.set(new TextEncoder().encode(String(v)).subarray(0, field.size - 1), field.offset);
      } else {
        const n = toU64(v);
        if (field.size === 8) dv.setBigUint64(field.offset, BigInt.asUintN(64, n), true);
        else if (field.size === 4) dv.setUint32(field.offset, Number(BigInt.asUintN(32, n)), true);
        else if (field.size === 2) dv.setUint16(field.offset, Number(BigInt.asUintN(16, n)), true);
        else rec[field.offset] = Number(BigInt.asUintN(8, n));
      }
    }
    return rec;
  };
  const context = (provider: string, target: string, func: string, ev: TraceEvent): Uint8Array => {
    if (provider === 'tracepoint') return tracepointRecord(target, func, ev);
    if (provider === 'kprobe' || provider === 'kretprobe' || provider === 'uprobe' || provider === 'uretprobe') {
      const regs = new Uint8Array(PT_REGS_SIZE);
      const dv = new DataView(regs.buffer);
      (ev.argv ?? []).forEach((a, i) => { if (i < PT_REGS_ARGS.length) dv.setBigUint64(PT_REGS_ARGS[i], BigInt.asUintN(64, toU64(a)), true); });
      if (ev.retval !== undefined) dv.setBigUint64(80, BigInt.asUintN(64, BigInt(ev.retval)), true);
      return regs;
    }
    const args = new Uint8Array(Math.max(8, (ev.argv?.length ?? 0) * 8 + 8));
    const dv = new DataView(args.buffer);
    (ev.argv ?? []).forEach((a, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, toU64(a)), true));
    if (ev.retval !== undefined) dv.setBigUint64((ev.argv?.length ?? 0) * 8, BigInt.asUintN(64, BigInt(ev.retval)), true);
    return args;
  };

  const drain = () => {
    for (const r of ring.consume()) session.handleEvent(r);
  };
  const runWhere = (match: (p: CompiledScript['programs'][number]['probes'][number]) => boolean, ev: TraceEvent) => {
    script.programs.forEach((p, i) => {
      const spec = p.probes.find(match);
      if (!spec) return;
      coll.programs.get(`p${i}`)!.run({ context: context(spec.provider, spec.target, spec.func, ev) });
      drain();
    });
  };

  session.attached();
  task.comm = 'bpftrace';
  runWhere((s) => s.provider === 'BEGIN', { probe: 'BEGIN' });
  for (const ev of events) {
    if (session.exitRequested) break;
    for (let n = 0; n < (ev.repeat ?? 1) && !session.exitRequested; n++) {
      task.comm = (ev.comm ?? 'bpfkit').slice(0, 15);
      task.pid = ev.pid ?? 1;
      task.tid = ev.tid ?? task.pid;
      task.uid = ev.uid ?? 0;
      task.gid = ev.gid ?? 0;
      task.cpu = 0;
      task.now = ev.nsecs !== undefined ? BigInt(ev.nsecs) : task.now + 1_000_000n;
      task.kernelStack = ev.kstack?.map(frameAddress);
      task.userStack = ev.ustack?.map(frameAddress);
      const name = canonical(ev.probe);
      runWhere((s) => s.name === name, ev);
    }
  }
  task.comm = 'bpftrace';
  task.kernelStack = task.userStack = undefined;
  session.runningEnd();
  runWhere((s) => s.provider === 'END', { probe: 'END' });
  session.finish();
  return 0;
}

const ALIASES: Record<string, string> = { t: 'tracepoint', rt: 'rawtracepoint', k: 'kprobe', kr: 'kretprobe', u: 'uprobe', ur: 'uretprobe', f: 'fentry', fr: 'fexit', p: 'profile', i: 'interval', s: 'software', h: 'hardware' };

function canonical(probe: string): string {
  const [head, ...rest] = probe.split(':');
  return [ALIASES[head] ?? head, ...rest].join(':');
}
