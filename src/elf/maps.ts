/**
 * Map definitions: BTF-defined maps in `.maps` (the struct of __uint,
 * __type and __array members bpf_helpers.h declares) and legacy
 * `struct bpf_map_def` entries in `maps`.
 */
import { BtfError } from '../btf/errors.js';
import type { Btf } from '../btf/spec.js';
import type { BtfType } from '../btf/types.js';
import { ByteReader } from './bytes.js';
import { ElfError } from './errors.js';
import { BPF_RELOC, type ElfFile, type ElfSection, type ElfSymbol } from './file.js';
import { mapTypeFromNumber, type MapType } from './kinds.js';
import type { MapInitialValue, MapSpec } from './spec.js';

const PIN_BY_NAME = 1;

function mapType(n: number, where: number, section: string, name: string): MapType {
  const t = mapTypeFromNumber(n);
  if (t === undefined) throw new ElfError(`map '${name}': unknown map type ${n}`, where, section);
  return t;
}

/** Legacy maps: each symbol in the `maps` section is a struct bpf_map_def (at least 5 u32 fields). */
export function readLegacyMaps(elf: ElfFile, section: ElfSection): MapSpec[] {
  const r = new ByteReader(section.data, elf.littleEndian);
  const syms = elf.symbols.filter((s) => s.section === section.index && s.type !== 'section' && s.name !== '');
  return syms.map((s) => {
    const size = s.size || 20;
    if (size < 20 || s.value + size > section.size) throw new ElfError(`legacy map '${s.name}' (${s.value}+${size}) does not fit`, section.offset + s.value, section.name);
    const o = s.value;
    return {
      name: s.name, origin: 'legacy', type: mapType(r.u32(o), section.offset + o, section.name, s.name),
      keySize: r.u32(o + 4), valueSize: r.u32(o + 8), maxEntries: r.u32(o + 12), flags: r.u32(o + 16),
      pinning: size >= 28 && r.u32(o + 24) === PIN_BY_NAME ? 'by_name' : 'none',
      numaNode: undefined, mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId: 0, innerMap: undefined,
      values: [], data: undefined, variables: [],
    } satisfies MapSpec;
  });
}

interface MapDef {
  type?: number;
  keySize?: number;
  valueSize?: number;
  keyTypeId: number;
  valueTypeId: number;
  maxEntries: number;
  flags: number;
  numaNode: number | undefined;
  pinning: number;
  mapExtra: bigint;
  inner?: BtfType;
  valuesOffset: number;
  hasValues: boolean;
}

/** BTF-defined maps: each variable of the `.maps` datasec. */
export function readBtfMaps(elf: ElfFile, section: ElfSection, btf: Btf | undefined): MapSpec[] {
  if (!btf) throw new ElfError("'.maps' needs BTF, but the object has no .BTF", section.offset, section.name);
  const datasec = btf.findByName('.maps', 'datasec')[0];
  if (!datasec || datasec.kind !== 'datasec') throw new ElfError("no BTF datasec for '.maps'", section.offset, section.name);
  const symbols = new Map<string, ElfSymbol>();
  for (const s of elf.symbols) if (s.section === section.index && s.name) symbols.set(s.name, s);
  const relocs = new Map<number, ElfSymbol>();
  for (const rs of elf.relocationSections) {
    if (rs.target !== section.index) continue;
    for (const r of rs.relocations) {
      if (r.type === BPF_RELOC.R_BPF_64_ABS64 || r.type === BPF_RELOC.R_BPF_64_64) relocs.set(r.offset, elf.symbols[r.symbol]);
    }
  }
  const out: MapSpec[] = [];
  for (const vsi of datasec.vars) {
    const v = wrap(() => btf.type(vsi.type), section);
    if (v.kind !== 'var') throw new ElfError(`'.maps' datasec entry [${vsi.type}] is a ${v.kind}, not a variable`, section.offset, section.name);
    const sym = symbols.get(v.name);
    if (!sym) throw new ElfError(`map '${v.name}' has no symbol in '.maps'`, section.offset, section.name);
    const def = wrap(() => parseMapDef(btf, v.type, v.name), section);
    const map = toMapSpec(btf, v.name, def, section, sym.value);
    let values: MapInitialValue[] = [];
    if (def.hasValues) {
      const start = sym.value + def.valuesOffset;
      const end = sym.value + (sym.size || btf.sizeof(v.type));
      for (const [off, target] of relocs) {
        if (off >= start && off < end) values.push({ index: (off - start) / 8, name: target.name });
      }
      values = values.sort((a, b) => a.index - b.index);
    }
    out.push({ ...map, values });
  }
  return out;
}

function wrap<T>(f: () => T, section: ElfSection): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BtfError) throw new ElfError(e.message, section.offset, section.name, { cause: e });
    throw e;
  }
}

function toMapSpec(btf: Btf, name: string, def: MapDef, section: ElfSection, where: number): MapSpec {
  if (def.type === undefined) throw new ElfError(`map '${name}': no type`, section.offset + where, section.name);
  const type = mapType(def.type, section.offset + where, section.name, name);
  let innerMap: MapSpec | undefined;
  let keySize = def.keySize ?? (def.keyTypeId ? btf.sizeof(def.keyTypeId) : 0);
  let valueSize = def.valueSize ?? (def.valueTypeId ? btf.sizeof(def.valueTypeId) : 0);
  if (def.inner) {
    if (type === 'array_of_maps' || type === 'hash_of_maps') {
      const innerDef = parseMapDef(btf, def.inner.id, `${name}.inner`);
      innerMap = toMapSpec(btf, `${name}.inner`, innerDef, section, where);
    }
    // Slots of map-in-maps and prog arrays hold file descriptors.
    keySize = keySize || 4;
    valueSize = 4;
  }
  return {
    name, origin: 'btf', type, keySize, valueSize, maxEntries: def.maxEntries, flags: def.flags,
    pinning: def.pinning === PIN_BY_NAME ? 'by_name' : 'none', numaNode: def.numaNode, mapExtra: def.mapExtra,
    btfKeyTypeId: def.keyTypeId, btfValueTypeId: def.valueTypeId, innerMap, values: [], data: undefined, variables: [],
  };
}

/** Decode the anonymous struct of a BTF map definition. */
function parseMapDef(btf: Btf, typeId: number, name: string): MapDef {
  const st = btf.resolve(typeId);
  if (st.kind !== 'struct') throw new BtfError(`map '${name}' is a ${st.kind}, expected a struct`, 0, typeId);
  const def: MapDef = { keyTypeId: 0, valueTypeId: 0, maxEntries: 0, flags: 0, numaNode: undefined, pinning: 0, mapExtra: 0n, valuesOffset: 0, hasValues: false };
  // __uint(name, val) is `int (*name)[val]`: the value is the array's length.
  const uint = (id: number, field: string): number => {
    const p = btf.resolve(id);
    if (p.kind !== 'ptr') throw new BtfError(`map '${name}': '${field}' is not __uint()`, 0, id);
    const a = btf.resolve(p.type);
    if (a.kind !== 'array') throw new BtfError(`map '${name}': '${field}' is not __uint()`, 0, id);
    return a.nelems;
  };
  const pointee = (id: number, field: string): number => {
    const p = btf.resolve(id);
    if (p.kind !== 'ptr') throw new BtfError(`map '${name}': '${field}' is not __type()`, 0, id);
    return p.type;
  };
  for (const m of st.members) {
    switch (m.name) {
      case 'type': def.type = uint(m.type, m.name); break;
      case 'max_entries': def.maxEntries = uint(m.type, m.name); break;
      case 'map_flags': def.flags = uint(m.type, m.name); break;
      case 'numa_node': def.numaNode = uint(m.type, m.name); break;
      case 'key_size': def.keySize = uint(m.type, m.name); break;
      case 'value_size': def.valueSize = uint(m.type, m.name); break;
      case 'pinning': def.pinning = uint(m.type, m.name); break;
      case 'map_extra': def.mapExtra = BigInt(uint(m.type, m.name)); break;
      case 'key': def.keyTypeId = pointee(m.type, m.name); break;
      case 'value': def.valueTypeId = pointee(m.type, m.name); break;
      case 'values': {
        // __array(values, T) is `T *values[]`: a zero-length array of pointers.
        const a = btf.resolve(m.type);
        if (a.kind !== 'array') throw new BtfError(`map '${name}': 'values' is not __array()`, 0, m.type);
        const p = btf.resolve(a.elemType);
        if (p.kind !== 'ptr') throw new BtfError(`map '${name}': 'values' elements are not pointers`, 0, m.type);
        def.inner = btf.resolve(p.type);
        def.valuesOffset = m.bitOffset / 8;
        def.hasValues = true;
        break;
      }
      default:
        throw new BtfError(`map '${name}': unknown attribute '${m.name}'`, 0, typeId);
    }
  }
  return def;
}
