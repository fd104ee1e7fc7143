/**
 * BTF in the kernel: BPF_BTF_LOAD of an object's BTF (re-encoded from the
 * parsed model, with the strings line info needs appended), and the
 * running kernel's own BTF (/sys/kernel/btf/vmlinux), read once.
 */
import { readFileSync } from 'node:fs';
import { Btf, encodeBtf, type BtfType } from '../btf/index.js';
import { AttrWriter, BTF_LOAD_ATTR } from './attr.js';
import { KernelFd } from './fd.js';
import { nativeSys } from './native.js';
import { SyscallError, type Sys } from './sys.js';
import { BpfkitError, NotSupportedError } from '../errors/index.js';

/** The kernel refused a BTF blob; `.log` holds its whole log. */
export class BtfLoadError extends BpfkitError {
  readonly code = 'BTF_REJECTED';
  constructor(readonly log: string, cause: SyscallError) {
    const last = log.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '(empty log)';
    super(`BPF_BTF_LOAD: ${cause.errnoName}: ${last}`, { cause });
  }
}

/** BTF loaded into the kernel, owning its fd, with the offsets of the extra strings appended to it. */
export class KernelBtf implements Disposable {
  readonly #fd: KernelFd;
  constructor(
    fd: number,
    readonly stringOffsets: ReadonlyMap<string, number>,
    sys: Sys,
    /** What had to be rewritten for the kernel to take it. */
    readonly sanitised: BtfSanitisation = 'none',
  ) {
    this.#fd = new KernelFd(fd, 'btf', sys);
  }
  get fd(): number {
    return this.#fd.fd;
  }
  close(): void {
    this.#fd.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * How much of the object's BTF to rewrite for the kernel. 'none': only what
 * no kernel accepts (clang gives extern variables 'extern' linkage, which a
 * VAR may not have; like libbpf we declare them global). 'modern': also
 * replace kinds older kernels lack, keeping every type id: decl and type
 * tags (5.16, 5.17), floats (5.13), 64-bit enums (6.0). 'legacy': also
 * variables and data sections (5.2) and functions (5.0), as libbpf does.
 */
export type BtfSanitisation = 'none' | 'modern' | 'legacy';

const BYTE: Omit<Extract<BtfType, { kind: 'int' }>, 'id' | 'name'> = { kind: 'int', size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 };

export function sanitise(t: BtfType, level: BtfSanitisation): BtfType {
  if (t.kind === 'var' && t.linkage === 'extern') t = { ...t, linkage: 'global' };
  if (level === 'none') return t;
  switch (t.kind) {
    case 'decl_tag': return { ...BYTE, id: t.id, name: t.name };
    case 'type_tag': return { kind: 'const', id: t.id, name: '', type: t.type };
    case 'float': return { kind: 'struct', id: t.id, name: t.name, size: t.size, members: [] };
    case 'enum64': return { kind: 'union', id: t.id, name: t.name, size: t.size, members: [] };
  }
  if (level === 'modern') return t;
  switch (t.kind) {
    case 'var': return { ...BYTE, id: t.id, name: t.name };
    case 'datasec': return { kind: 'struct', id: t.id, name: t.name.replace(/\./g, '_'), size: t.size, members: [] };
    case 'func': return { kind: 'typedef', id: t.id, name: t.name, type: t.type };
    case 'func_proto': return { kind: 'enum', id: t.id, name: '', size: 4, signed: false, values: t.params.map((p) => ({ name: p.name || 'arg', value: 0 })) };
    default: return t;
  }
}

/**
 * The object's types with its extern declarations made acceptable to
 * BPF_BTF_LOAD, as libbpf does when it opens an object (ids unchanged, new
 * types appended): no kernel takes a VAR of type void, a FUNC with extern
 * linkage or unnamed parameters, a DATASEC entry that is not a VAR, or
 * entries out of offset order or past the section's size. So every .ksyms
 * entry becomes a 4-byte int VAR at its own offset (extern functions are
 * represented there by one dummy VAR and themselves become global, their
 * unnamed parameters named), and every DATASEC is sorted by offset (.kconfig
 * offsets come from our layout, not declaration order).
 */
export function fixExterns(btf: Btf): BtfType[] {
  const types: BtfType[] = [];
  for (let id = 1; id < btf.typeCount; id++) types.push(btf.type(id));
  const at = (id: number): BtfType => types[id - 1];
  const set = (t: BtfType): void => {
    types[t.id - 1] = t;
  };
  const add = (make: (id: number) => BtfType): number => {
    const id = types.length + 1;
    types.push(make(id));
    return id;
  };
  let int4: number | undefined;
  const int = (): number => (int4 ??= types.find((t) => t.kind === 'int' && t.size === 4 && t.bits === 32 && !t.bool && !t.char)?.id
    ?? add((id) => ({ kind: 'int', id, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 })));
  let dummy: number | undefined;
  const dummyVar = (): number => (dummy ??= add((id) => ({ kind: 'var', id, name: 'dummy_ksym', type: int(), linkage: 'global' })));
  // Every extern FUNC (kfuncs, whether or not .ksyms lists them).
  for (const t of [...types]) {
    if (t.kind !== 'func' || t.linkage !== 'extern') continue;
    set({ ...t, linkage: 'global' });
    const proto = at(t.type);
    if (proto?.kind === 'func_proto' && proto.params.some((p, i) => p.name === '' && !(p.type === 0 && i === proto.params.length - 1))) {
      set({ ...proto, params: proto.params.map((p, i) => (p.name === '' && p.type !== 0 ? { ...p, name: `arg${i}` } : p)) });
    }
  }
  for (const t of [...types]) {
    if (t.kind !== 'datasec') continue;
    if (t.name === '.ksyms') {
      const vars = t.vars.map((v, i) => {
        const vt = at(v.type);
        if (vt?.kind === 'var') {
          set({ ...vt, type: int(), linkage: 'global' });
          return { type: v.type, offset: i * 4, size: 4 };
        }
        return { type: dummyVar(), offset: i * 4, size: 4 };
      });
      set({ ...t, size: vars.length * 4, vars });
    } else if (t.vars.some((v, i) => i > 0 && v.offset < t.vars[i - 1].offset)) {
      set({ ...t, vars: [...t.vars].sort((a, b) => a.offset - b.offset) });
    }
  }
  return types;
}

/** BTF bytes for the kernel: every type re-encoded, plus `extraStrings` appended to the string section. */
export function encodeForKernel(btf: Btf, extraStrings: Iterable<string>, level: BtfSanitisation = 'none'): { bytes: Uint8Array; stringOffsets: Map<string, number> } {
  const types = fixExterns(btf).map((t) => sanitise(t, level));
  const base = encodeBtf(types, true);
  const v = new DataView(base.buffer);
  const hdrLen = v.getUint32(4, true);
  const strOff = v.getUint32(16, true);
  const strLen = v.getUint32(20, true);
  // Find existing strings first, so a file name used by many lines is stored once.
  const existing = new Map<string, number>();
  const strStart = hdrLen + strOff;
  const dec = new TextDecoder();
  for (let o = 0; o < strLen; ) {
    const end = base.indexOf(0, strStart + o);
    existing.set(dec.decode(base.subarray(strStart + o, end)), o);
    o = end - strStart + 1;
  }
  const extra: number[] = [];
  const enc = new TextEncoder();
  const stringOffsets = new Map<string, number>();
  for (const s of extraStrings) {
    if (stringOffsets.has(s)) continue;
    const have = existing.get(s);
    if (have !== undefined) {
      stringOffsets.set(s, have);
      continue;
    }
    stringOffsets.set(s, strLen + extra.length);
    for (const b of enc.encode(s)) extra.push(b);
    extra.push(0);
  }
  const bytes = new Uint8Array(base.length + extra.length);
  bytes.set(base);
  bytes.set(extra, base.length);
  new DataView(bytes.buffer).setUint32(20, strLen + extra.length, true);
  return { bytes, stringOffsets };
}

/**
 * BPF_BTF_LOAD. When the kernel refuses the object's BTF as it is, the
 * kinds older kernels lack are replaced ('modern', then 'legacy') and the
 * load retried, as libbpf does; the last refusal throws BtfLoadError with
 * the kernel's log. `sanitised` on the result says what was needed.
 */
export function loadBtf(btf: Btf, extraStrings: Iterable<string> = [], sys: Sys = nativeSys): KernelBtf {
  const levels: BtfSanitisation[] = ['none', 'modern', 'legacy'];
  for (let i = 0; ; i++) {
    try {
      return loadBtfAs(btf, extraStrings, sys, levels[i]);
    } catch (e) {
      if (!(e instanceof BtfLoadError) || i === levels.length - 1) throw e;
    }
  }
}

function loadBtfAs(btf: Btf, extraStrings: Iterable<string>, sys: Sys, level: BtfSanitisation): KernelBtf {
  const { bytes, stringOffsets } = encodeForKernel(btf, extraStrings, level);
  const attempt = (log: Uint8Array | undefined): number =>
    sys.call(
      new AttrWriter(BTF_LOAD_ATTR)
        .ptr('btf', bytes)
        .u32('btf_size', bytes.length)
        .ptr('btf_log_buf', log)
        .u32('btf_log_size', log?.length ?? 0)
        .u32('btf_log_level', log ? 1 : 0)
        .syscall('btf_load'),
    );
  try {
    return new KernelBtf(attempt(undefined), stringOffsets, sys, level);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    const log = new Uint8Array(1 << 20);
    try {
      const fd = attempt(log);
      return new KernelBtf(fd, stringOffsets, sys, level);
    } catch (e2) {
      if (!(e2 instanceof SyscallError)) throw e2;
      const end = log.indexOf(0);
      throw new BtfLoadError(new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end)), e2);
    }
  }
}

let vmlinux: Btf | undefined;

/** The running kernel's BTF, parsed once per process. */
export function kernelBtf(): Btf {
  if (!vmlinux) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux'));
    } catch (e) {
      throw new NotSupportedError('kernel BTF', '/sys/kernel/btf/vmlinux is missing (kernel built without CONFIG_DEBUG_INFO_BTF)', { cause: e });
    }
    vmlinux = Btf.parse(bytes);
  }
  return vmlinux;
}
