import type { Btf } from '../btf/index.js';
import type { CollectionSpec, MapSpec, ProgramSpec } from '../elf/index.js';
import {
  allowedHelpers, createHostEnv, helperName, helperTable, HelperNotAllowedError, newRunState,
  type HelperHost, type HostEnv, type HostEnvOptions, type RunState,
} from '../helpers/index.js';
import type { Insn } from '../isa/index.js';
import {
  ArrayMap, createVmMap, dumpMap, HashMap, MapDefinitionError, MapOfMaps, ProgArrayMap, RingBufMap, TypedMap,
  type DumpedEntry, type MapContext, type VmMap,
} from '../maps/index.js';
import { inlineMapHelpers } from '../jit/inline-maps.js';
import type { MapLayout } from '../maps/layout.js';
import { SkbContext, XdpContext } from '../progtypes/index.js';
import { AddressSpace, HelperArgumentError, prepare, resolveEngine, type Engine, type Helper, type Region } from '../vm/index.js';
import { RuntimeLoadError } from './errors.js';
import { VmProgram } from './program.js';

export interface LoadCollectionOptions {
  /** The host environment, or options for a fixed one (the default: fixed clock, seed 1, CPU 0). */
  readonly env?: HostEnv | HostEnvOptions;
  /** Possible CPUs, for per-CPU maps (default 1; the env's cpu must be below it). */
  readonly cpus?: number;
  /** 'jit' (default; a program the JIT cannot compile runs on the interpreter, see PreparedProgram.fallback) or 'interp'. */
  readonly engine?: Engine;
  /** Instruction budget per program run. */
  readonly budget?: number;
  /** Only these programs (default: all). */
  readonly programs?: readonly string[];
}

/** One map's contents as `bpfkit run` prints them. */
export interface MapDump {
  readonly name: string;
  readonly type: string;
  readonly entries: DumpedEntry[];
}

function isEnv(e: HostEnv | HostEnvOptions): e is HostEnv {
  return typeof (e as HostEnv).monotonicNs === 'function';
}

/**
 * A CollectionSpec made live on the VM: maps created in one address space,
 * programs relocated against them (lddw of a map gives the map's pointer,
 * lddw of a global gives the address inside its value) and prepared with
 * the helpers their type may call.
 */
export class VmCollection {
  readonly space = new AddressSpace();
  readonly env: HostEnv;
  readonly cpus: number;
  readonly engine: Engine;
  readonly state: RunState = newRunState('unspec');
  readonly maps = new Map<string, VmMap>();
  readonly programs = new Map<string, VmProgram>();
  readonly btf: Btf | undefined;
  private readonly mapSpecs = new Map<string, MapSpec>();
  private readonly byHandlePage = new Map<number, VmMap>();
  private readonly byId: VmProgram[] = [];
  private readonly mapIds: VmMap[] = [];
  private readonly ringbufs: RingBufMap[] = [];
  private xdp: XdpContext | undefined;
  private skb: SkbContext | undefined;
  private ctxRegion: Region | undefined;

  constructor(readonly spec: CollectionSpec, opts: LoadCollectionOptions = {}) {
    this.env = opts.env !== undefined && isEnv(opts.env) ? opts.env : createHostEnv(opts.env ?? {});
    this.cpus = opts.cpus ?? 1;
    if (!(Number.isInteger(this.cpus) && this.cpus >= 1 && this.cpus <= 1024)) throw new RuntimeLoadError(undefined, `cpus must be 1..1024, not ${this.cpus}`);
    if (this.env.cpu >= this.cpus) throw new RuntimeLoadError(undefined, `the environment's CPU ${this.env.cpu} is not below cpus (${this.cpus})`);
    this.engine = resolveEngine(opts.engine);
    this.btf = spec.btf;
    const env = this.env;
    const mapCtx: MapContext = { space: this.space, cpus: this.cpus, cpu: () => env.cpu };
    for (const [name, ms] of spec.maps) {
      let m: VmMap;
      try {
        m = createVmMap(ms, mapCtx, {
          initial: ms.data,
          resolveProgram: (id) => this.byId[id - 1],
          resolveMap: (id) => this.mapIds[id - 1],
        });
      } catch (e) {
        if (e instanceof MapDefinitionError) throw e;
        throw new RuntimeLoadError(undefined, `map '${name}': ${(e as Error).message}`, { cause: e });
      }
      this.maps.set(name, m);
      this.mapSpecs.set(name, ms);
      this.mapIds.push(m);
      this.byHandlePage.set(m.handle, m);
      if (m instanceof RingBufMap) this.ringbufs.push(m);
    }
    const host: HelperHost = {
      env,
      state: this.state,
      mapAt: (addr) => this.byHandlePage.get(addr),
      ringbufs: this.ringbufs,
    };
    // The JIT runs lookups and updates of these maps inside its module (keys and values
    // on the stack or in map values, which stay mapped); any other pointer goes to the host.
    const layouts: MapLayout[] = [];
    const readable: Region[] = [];
    for (const m of this.maps.values()) {
      if (!(m instanceof HashMap || m instanceof ArrayMap)) continue;
      const l = m.layout;
      if (l !== undefined) layouts.push(l);
      readable.push(m.values);
    }
    const inlineHelpers = this.engine === 'jit' ? inlineMapHelpers(layouts, readable) : undefined;
    const wanted = opts.programs === undefined ? undefined : new Set(opts.programs);
    for (const [name, ps] of spec.programs) {
      if (wanted !== undefined && !wanted.has(name)) continue;
      const insns = this.relocate(ps);
      const helpers = this.helpersFor(host, ps, insns);
      // Only programs that call them get them: others keep sharing modules with plain compiles.
      const inline = inlineHelpers !== undefined && insns.some((i) => i.kind === 'call' && inlineHelpers.has(i.helper)) ? inlineHelpers : undefined;
      const prepared = prepare(insns, { helpers, space: this.space, budget: opts.budget, engine: this.engine, inlineHelpers: inline });
      const p = new VmProgram(this, ps, this.byId.length + 1, insns, prepared);
      this.byId.push(p);
      this.programs.set(name, p);
    }
    if (wanted !== undefined) {
      for (const w of wanted) if (!this.programs.has(w)) throw new RuntimeLoadError(w, `no such program (the object has ${[...spec.programs.keys()].join(', ') || 'none'})`);
    }
    // Initial slots of prog arrays and map-in-maps, as libbpf fills them.
    for (const [name, ms] of spec.maps) {
      const m = this.maps.get(name)!;
      for (const v of ms.values) {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, v.index, true);
        if (m instanceof ProgArrayMap) {
          const p = this.programs.get(v.name);
          if (p !== undefined) m.setProgram(v.index, p);
        } else if (m instanceof MapOfMaps) {
          const inner = this.maps.get(v.name);
          if (inner === undefined) throw new RuntimeLoadError(undefined, `map '${name}': slot ${v.index} names unknown map '${v.name}'`);
          m.setMap(key, inner);
        }
      }
    }
  }

  /** Replace lddw of maps and globals with their VM addresses. */
  private relocate(ps: ProgramSpec): Insn[] {
    const insns = ps.insns.slice();
    for (const r of ps.relocations) {
      if (r.kind === 'map' || r.kind === 'map_value') {
        const m = this.maps.get(r.map);
        if (m === undefined) throw new RuntimeLoadError(ps.name, `insn ${r.insn}: relocation to unknown map '${r.map}'`);
        const old = insns[r.insn];
        if (old === undefined || old.kind !== 'lddw') throw new RuntimeLoadError(ps.name, `insn ${r.insn}: map relocation on a ${old?.kind ?? 'missing'} instruction`);
        let addr: number;
        if (r.kind === 'map') addr = m.handle;
        else {
          if (!(m instanceof ArrayMap)) throw new RuntimeLoadError(ps.name, `insn ${r.insn}: map_value relocation into ${m.type} map '${r.map}'`);
          if (r.offset < 0 || r.offset >= m.valueSize) throw new RuntimeLoadError(ps.name, `insn ${r.insn}: offset ${r.offset} outside map '${r.map}' value`);
          addr = m.values.start + r.offset;
        }
        insns[r.insn] = { kind: 'lddw', dst: old.dst, pseudo: 'imm', imm: BigInt(addr) };
      } else if (r.kind === 'ksym') {
        if (!r.weak) throw new RuntimeLoadError(ps.name, `insn ${r.insn}: kernel symbol '${r.name}' does not exist on the VM`);
        const old = insns[r.insn];
        if (old?.kind === 'lddw') insns[r.insn] = { kind: 'lddw', dst: old.dst, pseudo: 'imm', imm: 0n };
      }
    }
    return insns;
  }

  /** The helper table of one program; refuses helpers its type may not call. */
  private helpersFor(host: HelperHost, ps: ProgramSpec, insns: readonly Insn[]): Helper[] {
    const table = helperTable(host, ps.type);
    const allowed = allowedHelpers(ps.type);
    insns.forEach((insn, i) => {
      if (insn.kind !== 'call') return;
      const name = helperName(insn.helper);
      const short = name.replace(/^bpf_/, '');
      if (allowed !== undefined && !allowed.has(short)) throw new HelperNotAllowedError(ps.name, ps.type, name, i);
      if (table[insn.helper] === undefined) {
        table[insn.helper] = () => {
          throw new HelperArgumentError(`${name} is not implemented by the VM`);
        };
      }
    });
    return table;
  }

  program(name: string): VmProgram {
    const p = this.programs.get(name);
    if (p === undefined) throw new RuntimeLoadError(name, `no such program (the object has ${[...this.programs.keys()].join(', ') || 'none'})`);
    return p;
  }

  map(name: string): VmMap {
    const m = this.maps.get(name);
    if (m === undefined) throw new RuntimeLoadError(undefined, `no map named '${name}' (the object has ${[...this.maps.keys()].join(', ') || 'none'})`);
    return m;
  }

  /** A map with keys and values as JS values, through the object's BTF. */
  typedMap(name: string): TypedMap {
    const m = this.map(name);
    const ms = this.mapSpecs.get(name)!;
    if (this.btf === undefined) throw new RuntimeLoadError(undefined, `map '${name}': the object has no BTF`);
    return new TypedMap(m, this.btf, ms.btfKeyTypeId, ms.btfValueTypeId);
  }

  programById(id: number): VmProgram {
    const p = this.byId[id - 1];
    if (p === undefined) throw new RuntimeLoadError(undefined, `no program with id ${id}`);
    return p;
  }

  /** The XDP context (created on first use, reused across runs). */
  xdpContext(): XdpContext {
    return (this.xdp ??= new XdpContext(this.space));
  }

  skbContext(): SkbContext {
    return (this.skb ??= new SkbContext(this.space));
  }

  /** Copy a raw context into its region (reused while the size stays); its address. */
  contextRegion(bytes: Uint8Array): number {
    let r = this.ctxRegion;
    if (r === undefined || r.size !== bytes.length || !this.space.isMapped(r)) {
      if (r !== undefined && this.space.isMapped(r)) this.space.unmap(r);
      r = this.ctxRegion = this.space.map('ctx', Math.max(bytes.length, 1));
    }
    this.space.bytes.set(bytes, r.start);
    return r.start;
  }

  /** The packet as the last run left it (data .. data_end, or the skb frame). */
  packetAfter(): Uint8Array | undefined {
    if (this.state.xdp !== undefined) return this.state.xdp.packet.contents();
    if (this.state.skb !== undefined) return this.state.skb.frameAfter();
    return undefined;
  }

  /** The packet as the last run left it, without copying (valid until the next run). */
  packetView(): Uint8Array | undefined {
    const x = this.state.xdp;
    if (x !== undefined) return this.space.bytes.subarray(x.packet.data, x.packet.end);
    return this.state.skb?.frameView();
  }

  /** Every map's entries, formatted through BTF where the object has it. */
  dumpMaps(): MapDump[] {
    const out: MapDump[] = [];
    for (const [name, m] of this.maps) {
      const ms = this.mapSpecs.get(name)!;
      out.push({ name, type: m.type, entries: dumpMap(m, { btf: this.btf, keyTypeId: ms.btfKeyTypeId, valueTypeId: ms.btfValueTypeId }) });
    }
    return out;
  }
}

/** Turn a CollectionSpec into live VM maps and programs. */
export function loadCollection(spec: CollectionSpec, opts: LoadCollectionOptions = {}): VmCollection {
  return new VmCollection(spec, opts);
}
