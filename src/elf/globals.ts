/**
 * Global data (.data, .rodata, .bss and their .data.* / .rodata.*
 * variants) as single-entry array maps with initial contents, and the
 * .kconfig / .ksyms externs. Also fills in the BTF datasec sizes and
 * variable offsets that clang leaves for the loader, as libbpf does.
 */
import type { Btf } from '../btf/spec.js';
import type { BtfDatasec } from '../btf/types.js';
import { ElfError } from './errors.js';
import { SHN, SHT, type ElfFile, type ElfSection } from './file.js';
import type { ExternSpec, GlobalVariable, MapOrigin, MapSpec } from './spec.js';

const BPF_F_RDONLY_PROG = 0x80;
const BPF_F_MMAPABLE = 0x400;
/** Largest global data section accepted (an array map value; the kernel's limit is lower). */
const MAX_GLOBAL_DATA = 1 << 30;

/** The origin of a global data section, or undefined for any other section. */
export function globalDataOrigin(name: string): MapOrigin | undefined {
  if (name === '.data' || name.startsWith('.data.')) return 'data';
  if (name === '.rodata' || name.startsWith('.rodata.')) return 'rodata';
  if (name === '.bss' || name.startsWith('.bss.')) return 'bss';
  return undefined;
}

/** Fill in datasec sizes and variable offsets from the ELF sections and symbols. */
export function fixupDatasecs(elf: ElfFile, btf: Btf, kconfigLayout: ReadonlyMap<string, { offset: number; size: number }>): void {
  const sectionsByName = new Map<string, ElfSection>();
  for (const s of elf.sections) sectionsByName.set(s.name, s);
  for (const t of btf.ownTypes()) {
    if (t.kind !== 'datasec') continue;
    const s = sectionsByName.get(t.name);
    if (!s && t.name !== '.kconfig') continue;
    const symOffsets = new Map<string, number>();
    if (s) for (const y of elf.symbols) if (y.section === s.index && y.name) symOffsets.set(y.name, y.value);
    let size = s ? s.size : 0;
    const vars = t.vars.map((v) => {
      const vt = btf.type(v.type);
      const name = vt.name;
      const k = kconfigLayout.get(name);
      if (t.name === '.kconfig' && k) {
        size = Math.max(size, k.offset + k.size);
        return { ...v, offset: k.offset };
      }
      const off = symOffsets.get(name);
      return off === undefined ? v : { ...v, offset: off };
    });
    const fixed: BtfDatasec = { ...t, size, vars };
    btf.override(fixed);
  }
}

function datasecVariables(btf: Btf | undefined, name: string): GlobalVariable[] {
  if (!btf) return [];
  const ds = btf.findByName(name, 'datasec')[0];
  if (!ds || ds.kind !== 'datasec') return [];
  return ds.vars.map((v) => {
    const t = btf.type(v.type);
    return { name: t.name, offset: v.offset, size: v.size, typeId: t.kind === 'var' ? t.type : 0 };
  });
}

export function readGlobalDataMaps(elf: ElfFile, btf: Btf | undefined): MapSpec[] {
  const out: MapSpec[] = [];
  for (const s of elf.sections) {
    const origin = globalDataOrigin(s.name);
    if (!origin || (s.type !== SHT.PROGBITS && s.type !== SHT.NOBITS)) continue;
    // NOBITS sections have no bytes in the file, so bound what we allocate.
    if (s.size > MAX_GLOBAL_DATA) throw new ElfError(`global data section of ${s.size} bytes is larger than ${MAX_GLOBAL_DATA}`, s.offset, s.name);
    const data = s.type === SHT.NOBITS ? new Uint8Array(s.size) : s.data.slice();
    const ds = btf?.findByName(s.name, 'datasec')[0];
    let variables = datasecVariables(btf, s.name);
    if (variables.length === 0) {
      variables = elf.symbols
        .filter((y) => y.section === s.index && y.type === 'object' && y.name)
        .map((y) => ({ name: y.name, offset: y.value, size: y.size, typeId: 0 }));
    }
    out.push({
      name: s.name, origin, type: 'array', keySize: 4, valueSize: s.size, maxEntries: 1,
      flags: origin === 'rodata' ? BPF_F_RDONLY_PROG | BPF_F_MMAPABLE : BPF_F_MMAPABLE,
      pinning: 'none', numaNode: undefined, mapExtra: 0n,
      btfKeyTypeId: 0, btfValueTypeId: ds ? ds.id : 0, innerMap: undefined, values: [], data, variables,
    });
  }
  return out;
}

/** Alignment of a kconfig value: its scalar size, or its element's for arrays (as libbpf lays them out). */
function alignOf(btf: Btf, id: number): number {
  const t = btf.resolve(id);
  switch (t.kind) {
    case 'int': case 'enum': case 'enum64': case 'float': return Math.min(t.size, 8) || 1;
    case 'ptr': return 8;
    case 'array': return alignOf(btf, t.elemType);
    default: return 1;
  }
}

/**
 * Externs: undefined symbols, classified by the BTF datasec that declares
 * them. kconfig externs get offsets in the .kconfig map, sorted the way
 * libbpf sorts them (larger alignment first, then by name).
 */
export function readExterns(elf: ElfFile, btf: Btf | undefined): ExternSpec[] {
  const undef = elf.symbols.filter((y) => y.section === SHN.UNDEF && y.name && y.type !== 'file' && y.index > 0);
  const declared = new Map<string, { kind: 'kconfig' | 'ksym'; typeId: number; varType: number }>();
  if (btf) {
    for (const sec of ['.kconfig', '.ksyms'] as const) {
      const ds = btf.findByName(sec, 'datasec')[0];
      if (!ds || ds.kind !== 'datasec') continue;
      for (const v of ds.vars) {
        const t = btf.type(v.type);
        declared.set(t.name, { kind: sec === '.kconfig' ? 'kconfig' : 'ksym', typeId: t.id, varType: t.kind === 'var' ? t.type : t.id });
      }
    }
    for (const y of undef) {
      if (declared.has(y.name)) continue;
      const f = btf.findByName(y.name, 'func')[0];
      if (f) declared.set(y.name, { kind: 'ksym', typeId: f.id, varType: f.id });
    }
  }
  const kconfig: { name: string; weak: boolean; typeId: number; size: number; align: number }[] = [];
  const out: ExternSpec[] = [];
  for (const y of undef) {
    const d = declared.get(y.name);
    const weak = y.binding === 'weak';
    if (d?.kind === 'kconfig' && btf) {
      let size: number;
      try {
        size = btf.sizeof(d.varType);
      } catch {
        throw new ElfError(`kconfig extern '${y.name}' has no size`, 0, '.kconfig');
      }
      kconfig.push({ name: y.name, weak, typeId: d.varType, size, align: alignOf(btf, d.varType) });
    } else {
      out.push({ name: y.name, kind: 'ksym', weak, typeId: d?.varType ?? 0, offset: -1, size: 0 });
    }
  }
  kconfig.sort((a, b) => b.align - a.align || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let off = 0;
  const laid: ExternSpec[] = kconfig.map((k) => {
    off = Math.ceil(off / k.align) * k.align;
    const e: ExternSpec = { name: k.name, kind: 'kconfig', weak: k.weak, typeId: k.typeId, offset: off, size: k.size };
    off += k.size;
    return e;
  });
  return [...laid, ...out];
}

export function kconfigMap(externs: readonly ExternSpec[], btf: Btf | undefined): MapSpec | undefined {
  const k = externs.filter((e) => e.kind === 'kconfig');
  if (k.length === 0) return undefined;
  const size = Math.max(...k.map((e) => e.offset + e.size));
  if (size > MAX_GLOBAL_DATA) throw new ElfError(`.kconfig externs need ${size} bytes`, 0, '.kconfig');
  const ds = btf?.findByName('.kconfig', 'datasec')[0];
  return {
    name: '.kconfig', origin: 'kconfig', type: 'array', keySize: 4, valueSize: size, maxEntries: 1,
    flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, pinning: 'none', numaNode: undefined, mapExtra: 0n,
    btfKeyTypeId: 0, btfValueTypeId: ds ? ds.id : 0, innerMap: undefined, values: [], data: new Uint8Array(size),
    variables: k.map((e) => ({ name: e.name, offset: e.offset, size: e.size, typeId: e.typeId })),
  };
}
