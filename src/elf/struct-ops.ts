/**
 * struct_ops maps: variables in `.struct_ops` / `.struct_ops.link` are
 * kernel ops tables (struct tcp_congestion_ops...) whose function pointer
 * members name BPF programs through relocations, as libbpf reads them.
 */
import type { Btf } from '../btf/spec.js';
import { ElfError } from './errors.js';
import { BPF_RELOC, type ElfFile, type ElfSection } from './file.js';
import type { MapInitialValue, MapSpec } from './spec.js';

/** BPF_F_LINK: the map is attached through a link (`.struct_ops.link`). */
const BPF_F_LINK = 0x2000;

export function isStructOpsSection(name: string): boolean {
  return name === '.struct_ops' || name === '.struct_ops.link' || name.startsWith('.struct_ops.');
}

export function readStructOpsMaps(elf: ElfFile, section: ElfSection, btf: Btf | undefined): MapSpec[] {
  if (!btf) throw new ElfError(`'${section.name}' needs BTF, but the object has no .BTF`, section.offset, section.name);
  const ds = btf.findByName(section.name, 'datasec')[0];
  if (!ds || ds.kind !== 'datasec') throw new ElfError(`no BTF datasec for '${section.name}'`, section.offset, section.name);
  const relocs = new Map<number, string>();
  for (const rs of elf.relocationSections) {
    if (rs.target !== section.index) continue;
    for (const r of rs.relocations) if (r.type === BPF_RELOC.R_BPF_64_ABS64) relocs.set(r.offset, elf.symbols[r.symbol].name);
  }
  return ds.vars.map((v) => {
    const vt = btf.type(v.type);
    if (vt.kind !== 'var') throw new ElfError(`'${section.name}' datasec entry [${v.type}] is not a variable`, section.offset, section.name);
    const sym = elf.symbols.find((y) => y.section === section.index && y.name === vt.name);
    if (!sym) throw new ElfError(`struct_ops '${vt.name}' has no symbol`, section.offset, section.name);
    const st = btf.resolve(vt.type);
    if (st.kind !== 'struct') throw new ElfError(`struct_ops '${vt.name}' is a ${st.kind}, not a struct`, section.offset + sym.value, section.name);
    if (sym.value + st.size > section.data.length) throw new ElfError(`struct_ops '${vt.name}' does not fit its section`, section.offset + sym.value, section.name);
    const values: MapInitialValue[] = [];
    st.members.forEach((m, index) => {
      const prog = m.bitfieldSize === 0 && m.bitOffset % 8 === 0 ? relocs.get(sym.value + m.bitOffset / 8) : undefined;
      if (prog !== undefined) values.push({ index, name: prog });
    });
    return {
      name: vt.name, origin: 'struct_ops', type: 'struct_ops', keySize: 4, valueSize: st.size, maxEntries: 1,
      flags: section.name === '.struct_ops' ? 0 : BPF_F_LINK, pinning: 'none', numaNode: undefined, mapExtra: 0n,
      btfKeyTypeId: 0, btfValueTypeId: st.id, innerMap: undefined, values,
      data: section.data.slice(sym.value, sym.value + st.size), variables: [],
    } satisfies MapSpec;
  });
}
