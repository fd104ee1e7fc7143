/**
 * loadCollectionSpec: ELF bytes -> CollectionSpec. Reads the ELF, the BTF
 * and .BTF.ext, the maps (BTF-defined, legacy, global data, .kconfig,
 * struct_ops),
 * the externs, and links every program with its subprograms.
 */
import { BtfError } from '../btf/errors.js';
import { parseBtfExt, type BtfExt } from '../btf/ext.js';
import { Btf } from '../btf/spec.js';
import { readCString } from './bytes.js';
import { readCodeSections } from './code.js';
import { ElfError } from './errors.js';
import { EM_BPF, readElf, type ElfFile, type ElfSection } from './file.js';
import { fixupDatasecs, globalDataOrigin, kconfigMap, readExterns, readGlobalDataMaps } from './globals.js';
import { linkProgram, type SectionRole } from './link.js';
import { readBtfMaps, readLegacyMaps } from './maps.js';
import { isStructOpsSection, readStructOpsMaps } from './struct-ops.js';
import { attachTarget, findSectionDef } from './sections.js';
import type { CollectionSpec, MapSpec, ProgramSpec } from './spec.js';

/** Where a BTF problem met while reading a section is reported. */
type Place = Pick<ElfSection, 'offset' | 'name'>;
const WHOLE_FILE: Place = { offset: 0, name: 'ELF' };

function inSection<T>(s: Place, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BtfError) throw new ElfError(e.message, s.offset + (e.typeId === undefined ? e.offset : 0), s.name, { cause: e });
    throw e;
  }
}

/** The object's BTF and .BTF.ext, if present. */
export function readObjectBtf(elf: ElfFile): { btf: Btf | undefined; ext: BtfExt | undefined } {
  const btfSec = elf.sections.find((s) => s.name === '.BTF');
  if (!btfSec) return { btf: undefined, ext: undefined };
  const btf = inSection(btfSec, () => Btf.parse(btfSec.data));
  const extSec = elf.sections.find((s) => s.name === '.BTF.ext');
  const ext = extSec ? inSection(extSec, () => parseBtfExt(extSec.data, btf)) : undefined;
  return { btf, ext };
}

/** Parse an eBPF ELF object (clang -target bpfel or bpfeb) into a collection spec. */
export function loadCollectionSpec(bytes: Uint8Array): CollectionSpec {
  const elf = readElf(bytes);
  if (elf.machine !== EM_BPF) throw new ElfError(`machine ${elf.machine} is not BPF (${EM_BPF})`, 18);
  if (elf.fileType !== 1) throw new ElfError(`ELF type ${elf.fileType} is not a relocatable object`, 16);
  const { btf, ext } = readObjectBtf(elf);

  const licSec = elf.sections.find((s) => s.name === 'license');
  const license = licSec && licSec.size > 0 ? readCString(licSec.data, 0, 'license', licSec.offset, 'license') : '';
  const verSec = elf.sections.find((s) => s.name === 'version');
  let kernelVersion = 0;
  if (verSec) {
    if (verSec.data.length !== 4) throw new ElfError(`'version' section holds ${verSec.data.length} bytes, expected 4`, verSec.offset, 'version');
    kernelVersion = new DataView(verSec.data.buffer, verSec.data.byteOffset, 4).getUint32(0, elf.littleEndian);
  }

  const externs = inSection(WHOLE_FILE, () => readExterns(elf, btf));
  if (btf) {
    const layout = new Map(externs.filter((e) => e.kind === 'kconfig').map((e) => [e.name, { offset: e.offset, size: e.size }]));
    const btfSec = elf.sections.find((s) => s.name === '.BTF')!;
    inSection(btfSec, () => fixupDatasecs(elf, btf, layout));
  }

  const roles = new Map<number, SectionRole>();
  const maps = new Map<string, MapSpec>();
  const addMap = (m: MapSpec, s: Place): void => {
    if (maps.has(m.name)) throw new ElfError(`duplicate map '${m.name}'`, s.offset, s.name);
    maps.set(m.name, m);
  };
  for (const s of elf.sections) {
    if (s.name === '.maps') {
      roles.set(s.index, 'btf_maps');
      for (const m of inSection(s, () => readBtfMaps(elf, s, btf))) addMap(m, s);
    } else if (s.name === 'maps') {
      roles.set(s.index, 'legacy_maps');
      for (const m of readLegacyMaps(elf, s)) addMap(m, s);
    } else if (globalDataOrigin(s.name)) {
      roles.set(s.index, 'data');
    } else if (isStructOpsSection(s.name) && s.size > 0) {
      for (const m of inSection(s, () => readStructOpsMaps(elf, s, btf))) addMap(m, s);
    }
  }
  for (const m of inSection(WHOLE_FILE, () => readGlobalDataMaps(elf, btf))) addMap(m, WHOLE_FILE);
  const kc = kconfigMap(externs, btf);
  if (kc) maps.set(kc.name, kc);

  const code = readCodeSections(elf);
  for (const idx of code.keys()) roles.set(idx, 'code');
  const externByName = new Map(externs.map((e) => [e.name, e]));
  const programs = new Map<string, ProgramSpec>();
  for (const sec of code.values()) {
    const name = sec.section.name;
    if (name === '.text' || name.startsWith('.text.')) continue;
    const def = findSectionDef(name);
    for (const f of sec.functions) {
      if (f.symbol.binding === 'local') continue; // static functions are subprograms
      const linked = linkProgram({ elf, code, roles, externs: externByName, ext }, f);
      if (programs.has(f.name)) throw new ElfError(`duplicate program '${f.name}'`, sec.section.offset, name);
      programs.set(f.name, {
        name: f.name,
        section: name,
        type: def?.programType ?? 'unspec',
        attachType: def?.attachType ?? 'none',
        attachTarget: def ? attachTarget(name, def) : undefined,
        sleepable: def?.sleepable ?? false,
        xdpFrags: def?.xdpFrags ?? false,
        license,
        kernelVersion,
        ...linked,
      });
    }
  }
  return { littleEndian: elf.littleEndian, license, kernelVersion, programs, maps, externs, btf };
}
