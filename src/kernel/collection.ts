/**
 * loadCollection: a CollectionSpec (src/elf) turned into live kernel
 * objects. Maps first (global data with its initial contents, .rodata
 * frozen, inner map templates, BTF when the kernel takes the object's),
 * then programs (map fds and global data addresses patched in, CO-RE
 * applied against the running kernel's BTF, func and line info), then prog
 * arrays and map-in-map slots filled. All or nothing: a failure closes
 * whatever was already opened and removes the pins it made, and the error
 * says which object failed.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Btf } from '../btf/index.js';
import { applyCoreRelocations, ATTACH_TYPES, type CollectionSpec, type MapSpec, type ProgramSpec } from '../elf/index.js';
import { BpfkitError, NotSupportedError } from '../errors/index.js';
import { slotIndex, type Insn } from '../isa/index.js';
import { kernelBtf, loadBtf, type KernelBtf } from './btf.js';
import { encodeKconfigValue, kernelConfig } from './kconfig.js';
import { MAP_FLAG } from './constants.js';
import { KernelArgumentError, VerifierError } from './errors.js';
import { BpfMap, createMap, openPinnedMap } from './map.js';
import { hasBpfCapability, nativeSys } from './native.js';
import { ERRNO } from './errno.js';
import { BPFFS } from './object.js';
import { loadProgram, type Program } from './program.js';
import { SyscallError, type Sys } from './sys.js';
import { possibleCpus } from './cpus.js';
import { kernelSymbolAddress } from './kallsyms.js';
import { release } from 'node:os';

export interface LoadOptions {
  /** Load only these programs (default: all). Maps are all created. */
  readonly programs?: readonly string[];
  /** Use these maps instead of creating the spec's maps of the same name. */
  readonly mapReplacements?: ReadonlyMap<string, BpfMap>;
  /** Directory for maps with `pinning: by_name` (default /sys/fs/bpf): reused when present, else pinned there. */
  readonly pinPath?: string;
  /** Verifier log level for successful loads (kept on Program.log). */
  readonly logLevel?: 0 | 1 | 2;
  /** BTF to apply CO-RE against (default: /sys/kernel/btf/vmlinux). */
  readonly targetBtf?: Btf;
  readonly sys?: Sys;
}

/** Loading a collection failed at a named object; `cause` holds the kernel's error (VerifierError, SyscallError). */
export class CollectionLoadError extends BpfkitError {
  readonly code = 'COLLECTION_LOAD';
  constructor(readonly object: string, cause: Error) {
    super(`${object}: ${cause.message}`, { cause });
  }
}

/** A loaded object: its programs and maps, closed together. */
export class Collection implements Disposable {
  constructor(
    readonly programs: ReadonlyMap<string, Program>,
    readonly maps: ReadonlyMap<string, BpfMap>,
    /** The object's BTF in the kernel, when it loaded. */
    readonly btf: KernelBtf | undefined,
    /** Why the object's BTF was not loaded, when it was not. */
    readonly btfError: Error | undefined,
    private readonly spec: CollectionSpec,
    private readonly owned: ReadonlySet<BpfMap>,
  ) {}

  program(name: string): Program {
    const p = this.programs.get(name);
    if (!p) throw new KernelArgumentError(`no program '${name}' (have: ${[...this.programs.keys()].join(', ')})`);
    return p;
  }

  map(name: string): BpfMap {
    const m = this.maps.get(name);
    if (!m) throw new KernelArgumentError(`no map '${name}' (have: ${[...this.maps.keys()].join(', ')})`);
    return m;
  }

  /**
   * A global variable's bytes, live: .data and .bss are memory-mapped, so
   * reads see what programs wrote and writes reach them; .rodata is
   * read-only. Valid until close().
   */
  variable(name: string): Uint8Array {
    for (const ms of this.spec.maps.values()) {
      const v = ms.variables.find((x) => x.name === name);
      if (!v) continue;
      const mem = this.map(ms.name).memory();
      return mem.subarray(v.offset, v.offset + v.size);
    }
    throw new KernelArgumentError(`no global variable '${name}'`);
  }

  close(): void {
    let first: unknown;
    for (const p of this.programs.values()) {
      try {
        p.close();
      } catch (e) {
        first ??= e;
      }
    }
    for (const m of this.maps.values()) {
      if (!this.owned.has(m)) continue;
      try {
        m.close();
      } catch (e) {
        first ??= e;
      }
    }
    try {
      this.btf?.close();
    } catch (e) {
      first ??= e;
    }
    if (first) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Types whose creation takes BTF for key and value (others refuse it or ignore it). */
const NO_BTF_TYPES = new Set(['perf_event_array', 'ringbuf', 'user_ringbuf', 'prog_array', 'array_of_maps', 'hash_of_maps', 'cgroup_array', 'stack_trace', 'devmap', 'devmap_hash', 'cpumap', 'xskmap', 'sockmap', 'sockhash', 'queue', 'stack', 'bloom_filter']);

/** Attach types that run through a BPF trampoline. */
const TRAMPOLINE_ATTACH = new Set(['trace_fentry', 'trace_fexit', 'modify_return', 'lsm_mac']);

/** LINUX_KERNEL_VERSION as the kernel encodes it: (major << 16) | (minor << 8) | min(patch, 255). */
function kernelVersionCode(): number {
  const [a, b, c] = (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release()) ?? ['', '0', '0', '0']).slice(1).map((x) => Number(x ?? 0));
  return (a << 16) | (b << 8) | Math.min(c, 255);
}

function kconfigValue(ms: MapSpec, spec: CollectionSpec): Uint8Array {
  const data = new Uint8Array(ms.valueSize);
  const v = new DataView(data.buffer);
  for (const e of spec.externs) {
    if (e.kind !== 'kconfig') continue;
    if (e.name === 'LINUX_KERNEL_VERSION' && e.size >= 4) {
      v.setUint32(e.offset, kernelVersionCode(), true);
      continue;
    }
    const raw = kernelConfig().get(e.name);
    const value = raw === undefined ? undefined : encodeKconfigValue(raw, e.size);
    if (value) data.set(value, e.offset);
    else if (raw !== undefined) throw new KernelArgumentError(`kconfig extern ${e.name}: value ${raw} does not fit its ${e.size}-byte type`);
    else if (!e.weak) throw new NotSupportedError(`kconfig extern ${e.name}`, 'the running kernel\'s config (/proc/config.gz or /boot/config-*) does not set it; declare it __weak');
  }
  return data;
}

function createFromSpec(ms: MapSpec, btf: KernelBtf | undefined, sys: Sys): BpfMap {
  let maxEntries = ms.maxEntries;
  // A perf event array needs a slot per CPU; libbpf sizes it likewise.
  if (ms.type === 'perf_event_array' && maxEntries === 0) maxEntries = possibleCpus();
  let inner: BpfMap | undefined;
  try {
    if (ms.innerMap) inner = createFromSpec({ ...ms.innerMap, name: `${ms.name}.inner` }, btf, sys);
    const base = {
      type: ms.type,
      keySize: ms.keySize,
      valueSize: ms.valueSize,
      maxEntries,
      flags: ms.flags,
      name: kernelMapName(ms.name),
      innerMap: inner,
      numaNode: ms.numaNode,
      mapExtra: ms.mapExtra,
      sys,
    };
    const withBtf = btf && !NO_BTF_TYPES.has(ms.type) && ms.btfValueTypeId !== 0
      ? { ...base, btf: { fd: btf.fd, keyTypeId: ms.btfKeyTypeId, valueTypeId: ms.btfValueTypeId } }
      : undefined;
    if (withBtf) {
      try {
        return createMap(withBtf);
      } catch (e) {
        // Some map types refuse BTF they cannot check; retry without as libbpf does.
        if (!(e instanceof SyscallError)) throw e;
      }
    }
    return createMap(base);
  } finally {
    inner?.close();
  }
}

/** Kernel map names allow [A-Za-z0-9_.] and 15 bytes. */
function kernelMapName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15);
}

/** The attach BTF id a tracing or LSM program needs, from vmlinux. */
function attachBtfId(p: ProgramSpec, target: Btf): number | undefined {
  if (p.type !== 'tracing' && p.type !== 'lsm') return undefined;
  const t = p.attachTarget;
  if (!t) throw new KernelArgumentError(`program '${p.name}': section '${p.section}' names no attach target`);
  let name: string;
  let kind: 'func' | 'typedef' = 'func';
  if (p.attachType === 'trace_raw_tp') {
    name = `btf_trace_${t}`;
    kind = 'typedef';
  } else if (p.type === 'lsm') {
    name = `bpf_lsm_${t}`;
  } else if (p.attachType === 'trace_iter') {
    name = `bpf_iter_${t}`;
  } else {
    name = t;
  }
  const found = target.findByName(name, kind);
  if (found.length === 0) throw new NotSupportedError(`attach target ${name}`, `no ${kind} '${name}' in the kernel's BTF`);
  return found[0].id;
}

/** Whether a .ksyms extern has a type (libbpf: its type, modifiers and typedefs skipped, is not void). */
function typedKsym(spec: CollectionSpec, name: string): boolean {
  const e = spec.externs.find((x) => x.name === name && x.kind === 'ksym');
  if (!e || !spec.btf) return false;
  let id = e.typeId;
  for (let hops = 0; id !== 0 && hops < 32; hops++) {
    const t = spec.btf.type(id);
    if (t.kind !== 'const' && t.kind !== 'volatile' && t.kind !== 'typedef' && t.kind !== 'restrict' && t.kind !== 'type_tag') return true;
    id = t.type;
  }
  return false;
}

function relocate(spec: CollectionSpec, p: ProgramSpec, insns: Insn[], maps: ReadonlyMap<string, BpfMap>, target: () => Btf): void {
  for (const r of p.relocations) {
    const at = insns[r.insn];
    const where = `program '${p.name}' instruction ${r.insn}`;
    switch (r.kind) {
      case 'map':
      case 'map_value': {
        const m = maps.get(r.map);
        if (!m) throw new KernelArgumentError(`${where}: map '${r.map}' was not created`);
        if (at.kind !== 'lddw') throw new KernelArgumentError(`${where}: map relocation on a ${at.kind} instruction`);
        insns[r.insn] = r.kind === 'map'
          ? { ...at, pseudo: 'map_fd', imm: BigInt(m.fd) }
          : { ...at, pseudo: 'map_value', imm: (BigInt(r.offset) << 32n) | BigInt(m.fd) };
        break;
      }
      case 'kfunc': {
        const fns = target().findByName(r.name, 'func');
        if (fns.length === 0) {
          if (!r.weak) throw new NotSupportedError(`kfunc ${r.name}`, 'not in the kernel BTF');
          insns[r.insn] = { kind: 'call', helper: 0x0bad2310 };
        } else {
          insns[r.insn] = { kind: 'call_kfunc', btfId: fns[0].id, module: 0 };
        }
        break;
      }
      case 'ksym': {
        if (at.kind !== 'lddw') throw new KernelArgumentError(`${where}: ksym relocation on a ${at.kind} instruction`);
        if (!typedKsym(spec, r.name)) {
          // An untyped ksym is an address from kallsyms (src_reg 0); libbpf gives a missing weak one 0.
          const addr = kernelSymbolAddress(r.name);
          if (addr === undefined && !r.weak) throw new NotSupportedError(`ksym ${r.name}`, 'not in /proc/kallsyms');
          insns[r.insn] = { ...at, pseudo: 'imm', imm: addr ?? 0n };
          break;
        }
        // A typed ksym is the kernel's VAR: BPF_PSEUDO_BTF_ID with its vmlinux BTF id (object fd 0 in the high half).
        const vars = target().findByName(r.name, 'var');
        if (vars.length === 0) {
          if (!r.weak) throw new NotSupportedError(`ksym ${r.name}`, 'not in the kernel BTF');
          insns[r.insn] = { ...at, pseudo: 'imm', imm: 0n };
        } else {
          insns[r.insn] = { ...at, pseudo: 'btf_id', imm: BigInt(vars[0].id) };
        }
        break;
      }
      case 'call':
      case 'func_addr':
        break;
    }
  }
}

function funcLineInfo(p: ProgramSpec, btf: KernelBtf): { fd: number; funcInfo: Uint8Array; lineInfo: Uint8Array } {
  const slots = slotIndex(p.insns);
  const func = new Uint8Array(p.funcInfo.length * 8);
  const fv = new DataView(func.buffer);
  p.funcInfo.forEach((f, i) => {
    fv.setUint32(i * 8, slots[f.insn], true);
    fv.setUint32(i * 8 + 4, f.typeId, true);
  });
  const line = new Uint8Array(p.lineInfo.length * 16);
  const lv = new DataView(line.buffer);
  p.lineInfo.forEach((l, i) => {
    lv.setUint32(i * 16, slots[l.insn], true);
    lv.setUint32(i * 16 + 4, btf.stringOffsets.get(l.fileName) ?? 0, true);
    lv.setUint32(i * 16 + 8, btf.stringOffsets.get(l.line) ?? 0, true);
    lv.setUint32(i * 16 + 12, ((l.lineNumber << 10) | (l.column & 0x3ff)) >>> 0, true);
  });
  return { fd: btf.fd, funcInfo: func, lineInfo: line };
}

/** Create the spec's maps and load its programs; see the module comment. */
export function loadCollection(spec: CollectionSpec, opts: LoadOptions = {}): Collection {
  const sys = opts.sys ?? nativeSys;
  const owned = new Set<BpfMap>();
  const maps = new Map<string, BpfMap>();
  const programs = new Map<string, Program>();
  let btf: KernelBtf | undefined;
  let btfError: Error | undefined;
  /** Pins this load made: a failed load removes them, so a retry does not find half an object. */
  const pins: string[] = [];
  const cleanup = (): void => {
    for (const path of pins) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone (someone else removed it): nothing left to undo.
      }
    }
    for (const p of programs.values()) p.close();
    for (const m of owned) m.close();
    btf?.close();
  };
  let target: Btf | undefined = opts.targetBtf;
  const targetBtf = (): Btf => (target ??= kernelBtf());
  let current = 'collection';
  try {
    const selected = [...spec.programs.values()].filter((p) => !opts.programs || opts.programs.includes(p.name));
    if (opts.programs) {
      for (const n of opts.programs) if (!spec.programs.has(n)) throw new KernelArgumentError(`no program '${n}' in the object`);
    }
    if (spec.btf) {
      current = 'BTF';
      const strings = new Set<string>();
      for (const p of selected) for (const l of p.lineInfo) strings.add(l.fileName).add(l.line);
      try {
        btf = loadBtf(spec.btf, strings, sys);
      } catch (e) {
        // The kernel refusing the object's BTF is not fatal (libbpf goes on without it).
        if (!(e instanceof BpfkitError)) throw e;
        btfError = e;
      }
    }

    for (const ms of spec.maps.values()) {
      current = `map '${ms.name}'`;
      const replacement = opts.mapReplacements?.get(ms.name);
      if (replacement) {
        maps.set(ms.name, replacement);
        continue;
      }
      const pinned = ms.pinning === 'by_name' ? join(opts.pinPath ?? BPFFS, ms.name) : undefined;
      if (pinned && existsSync(pinned)) {
        const m = openPinnedMap(pinned, sys);
        owned.add(m);
        if (m.type !== ms.type || m.keySize !== ms.keySize || m.valueSize !== ms.valueSize || m.maxEntries !== ms.maxEntries) {
          throw new KernelArgumentError(`pinned map at ${pinned} is ${m.type} ${m.keySize}/${m.valueSize}/${m.maxEntries}, the object wants ${ms.type} ${ms.keySize}/${ms.valueSize}/${ms.maxEntries}`);
        }
        maps.set(ms.name, m);
        continue;
      }
      const m = createFromSpec(ms, btf, sys);
      owned.add(m);
      maps.set(ms.name, m);
      const initial = ms.origin === 'kconfig' ? kconfigValue(ms, spec) : ms.data;
      // .bss starts zeroed in the kernel; copy it only when the caller set something before load.
      if (initial && (ms.origin !== 'bss' || initial.some((b) => b !== 0))) m.update(new Uint8Array(4), initial);
      if (ms.origin === 'rodata' || ms.origin === 'kconfig') m.freeze();
      if (pinned) {
        m.pin(pinned);
        pins.push(pinned);
      }
    }
    // Map-in-map slots name other maps of the object.
    for (const ms of spec.maps.values()) {
      if (ms.type !== 'array_of_maps' && ms.type !== 'hash_of_maps') continue;
      current = `map '${ms.name}'`;
      for (const v of ms.values) {
        const inner = maps.get(v.name);
        if (!inner) throw new KernelArgumentError(`slot ${v.index} names map '${v.name}', which the object does not define`);
        maps.get(ms.name)!.updateFd(u32(v.index), inner.fd);
      }
    }

    for (const p of selected) {
      current = `program '${p.name}'`;
      if (p.type === 'unspec') throw new KernelArgumentError(`section '${p.section}' has no known program type`);
      let insns = p.insns.slice();
      if (p.coreRelocations.length > 0) {
        if (!spec.btf) throw new KernelArgumentError('CO-RE relocations without BTF');
        insns = applyCoreRelocations(p, spec.btf, targetBtf()).insns;
      }
      relocate(spec, p, insns, maps, targetBtf);
      const flags = (p.sleepable ? 1 << 4 : 0) | (p.xdpFrags ? 1 << 5 : 0);
      const load = (withBtf: boolean): Program =>
        loadProgram({
          type: p.type,
          insns,
          license: p.license || 'GPL',
          name: p.name,
          expectedAttachType: p.attachType === 'none' ? 0 : ATTACH_TYPES[p.attachType],
          attachBtfId: attachBtfId(p, targetBtf()),
          flags,
          logLevel: opts.logLevel,
          // 'legacy' BTF has no FUNC kinds left for func info to name.
          btf: withBtf && btf && btf.sanitised !== 'legacy' && p.funcInfo.length > 0 ? funcLineInfo(p, btf) : undefined,
          sys,
        });
      let prog: Program;
      try {
        prog = load(true);
      } catch (e) {
        if (e instanceof SyscallError && e.errno === ERRNO.EPERM && TRAMPOLINE_ATTACH.has(p.attachType) && hasBpfCapability()) {
          // Privileged, yet refused before verification: this kernel will not build BPF trampolines.
          throw new NotSupportedError(`${p.section.split('/')[0]} programs (BPF trampolines)`, `the kernel refuses to load '${p.name}' with EPERM although we are privileged`, { cause: e });
        }
        // Func/line info the kernel refuses must not cost the program: retry bare.
        if (!(e instanceof VerifierError && btf && /func[_ ]info|line[_ ]info|BTF/i.test(e.log.split('\n').slice(0, 3).join('\n')))) throw e;
        prog = load(false);
      }
      programs.set(p.name, prog);
    }

    for (const ms of spec.maps.values()) {
      if (ms.type !== 'prog_array') continue;
      current = `map '${ms.name}'`;
      for (const v of ms.values) {
        const prog = programs.get(v.name);
        if (prog) maps.get(ms.name)!.updateFd(u32(v.index), prog.fd);
      }
    }
  } catch (e) {
    try {
      cleanup();
    } catch {
      // The original error is the one worth reporting.
    }
    if (e instanceof NotSupportedError) throw e;
    throw new CollectionLoadError(current, e as Error);
  }
  return new Collection(programs, maps, btf, btfError, spec, owned);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

