import { ByteReader, readCString } from './bytes.js';
import { ElfError } from './errors.js';

/** Section types this reader names; others keep their number. */
export const SHT = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9, LLVM_ADDRSIG: 0x6fff4c03,
} as const;

export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4 } as const;

/** Special section indices in a symbol's st_shndx. */
export const SHN = { UNDEF: 0, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;

export const EM_BPF = 247;

/** The BPF relocation types clang emits (llvm/BinaryFormat/ELFRelocs/BPF.def). */
export const BPF_RELOC = {
  R_BPF_NONE: 0,
  R_BPF_64_64: 1,
  R_BPF_64_ABS64: 2,
  R_BPF_64_ABS32: 3,
  R_BPF_64_NODYLD32: 4,
  R_BPF_64_32: 10,
} as const;
export type BpfRelocName = keyof typeof BPF_RELOC;
const RELOC_NAMES = new Map<number, BpfRelocName>(Object.entries(BPF_RELOC).map(([k, v]) => [v, k as BpfRelocName]));

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  /** File offset of the contents (meaningless for NOBITS). */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** The contents; empty for NOBITS and NULL sections. */
  readonly data: Uint8Array;
}

export type SymbolBinding = 'local' | 'global' | 'weak' | 'other';
export type SymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'other';
export type SymbolVisibility = 'default' | 'internal' | 'hidden' | 'protected';

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly binding: SymbolBinding;
  readonly type: SymbolType;
  readonly visibility: SymbolVisibility;
  /** st_shndx: the section index, or one of SHN.UNDEF / ABS / COMMON. */
  readonly section: number;
}

export interface ElfRelocation {
  /** Byte offset in the target section. */
  readonly offset: number;
  readonly symbol: number;
  readonly type: number;
  /** The BPF name of `type`, if it is one of the known BPF relocation types. */
  readonly typeName: BpfRelocName | undefined;
  /** Explicit addend for RELA sections; 0 for REL (the addend lives in the section bytes). */
  readonly addend: bigint;
}

/** A relocation section resolved to the section it patches. */
export interface ElfRelocationSection {
  readonly section: ElfSection;
  readonly target: number;
  readonly relocations: readonly ElfRelocation[];
}

export interface ElfFile {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  /** e_type: 1 relocatable, 2 executable, 3 shared object. */
  readonly fileType: number;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  readonly relocationSections: readonly ElfRelocationSection[];
}

const BINDINGS: Record<number, SymbolBinding> = { 0: 'local', 1: 'global', 2: 'weak' };
const SYM_TYPES: Record<number, SymbolType> = { 0: 'notype', 1: 'object', 2: 'func', 3: 'section', 4: 'file' };
const VISIBILITIES: SymbolVisibility[] = ['default', 'internal', 'hidden', 'protected'];

/** True if the bytes start like an ELF file. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/**
 * Parse an ELF64 file (either byte order): section headers and names,
 * the symbol table and every relocation section. Throws ElfError on
 * anything truncated or inconsistent.
 */
export function readElf(bytes: Uint8Array): ElfFile {
  if (bytes.length < 64) throw new ElfError(`file too short for an ELF64 header (${bytes.length} bytes)`, 0);
  if (!isElf(bytes)) throw new ElfError('not an ELF file (bad magic)', 0);
  if (bytes[4] !== 2) throw new ElfError(`unsupported ELF class ${bytes[4]} (only ELF64)`, 4);
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new ElfError(`unsupported data encoding ${bytes[5]}`, 5);
  const r = new ByteReader(bytes, bytes[5] === 1);
  const fileType = r.u16(16);
  const machine = r.u16(18);
  const shoff = r.u64n(0x28, 'e_shoff');
  const shentsize = r.u16(0x3a);
  let shnum = r.u16(0x3c);
  let shstrndx = r.u16(0x3e);
  if (shoff === 0) {
    return { bytes, littleEndian: r.littleEndian, fileType, machine, sections: [], symbols: [], relocationSections: [] };
  }
  if (shentsize !== 64) throw new ElfError(`section header entry size ${shentsize}, expected 64`, 0x3a);
  r.check(shoff, 64, 'section header 0');
  // Extended numbering: counts that do not fit 16 bits live in section 0.
  if (shnum === 0) shnum = r.u64n(shoff + 32, 'section count');
  if (shstrndx === SHN.XINDEX) shstrndx = r.u32(shoff + 40);
  if (shnum > (bytes.length - shoff) / 64) throw new ElfError(`${shnum} section headers do not fit in the file`, shoff);

  interface RawSection { offset: number; nameOff: number; type: number; flags: number; dataOff: number; size: number; link: number; info: number; addralign: number; entsize: number }
  const raw: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    const flags = r.u64(o + 8);
    raw.push({
      offset: o,
      nameOff: r.u32(o),
      type: r.u32(o + 4),
      flags: Number(flags & 0xffffffffn),
      dataOff: r.u64n(o + 24, 'sh_offset'),
      size: r.u64n(o + 32, 'sh_size'),
      link: r.u32(o + 40),
      info: r.u32(o + 44),
      addralign: r.u64n(o + 48, 'sh_addralign'),
      entsize: r.u64n(o + 56, 'sh_entsize'),
    });
  }
  const dataOf = (s: RawSection, label: string): Uint8Array =>
    s.type === SHT.NOBITS || s.type === SHT.NULL ? new Uint8Array(0) : r.slice(s.dataOff, s.size, 'section contents', label);

  if (shstrndx >= shnum) throw new ElfError(`section name table index ${shstrndx} is out of range (${shnum} sections)`, 0x3e);
  const shstr = raw[shstrndx];
  const shstrData = dataOf(shstr, `section ${shstrndx}`);
  const sections: ElfSection[] = raw.map((s, index) => {
    const name = index === 0 && s.nameOff === 0 ? '' : readCString(shstrData, s.nameOff, `name of section ${index}`, shstr.dataOff, `section ${index}`);
    return {
      index, name, type: s.type, flags: s.flags, offset: s.dataOff, size: s.size,
      link: s.link, info: s.info, addralign: s.addralign, entsize: s.entsize, data: dataOf(s, name || `section ${index}`),
    };
  });

  const symbols = readSymbols(r, sections);
  const relocationSections: ElfRelocationSection[] = [];
  for (const s of sections) {
    if (s.type !== SHT.REL && s.type !== SHT.RELA) continue;
    const entsize = s.type === SHT.REL ? 16 : 24;
    if (s.size % entsize !== 0) throw new ElfError(`relocation section size ${s.size} is not a multiple of ${entsize}`, s.offset, s.name);
    if (s.info >= sections.length) throw new ElfError(`relocation target section ${s.info} is out of range`, s.offset, s.name);
    const relocations: ElfRelocation[] = [];
    for (let o = s.offset; o < s.offset + s.size; o += entsize) {
      const info = r.u64(o + 8);
      const symbol = Number(info >> 32n);
      const type = Number(info & 0xffffffffn);
      if (symbol >= symbols.length) throw new ElfError(`relocation refers to symbol ${symbol}, but there are ${symbols.length}`, o, s.name);
      relocations.push({
        offset: r.u64n(o, 'r_offset'),
        symbol,
        type,
        typeName: RELOC_NAMES.get(type),
        addend: s.type === SHT.RELA ? r.i64(o + 16) : 0n,
      });
    }
    relocationSections.push({ section: s, target: s.info, relocations });
  }
  return { bytes, littleEndian: r.littleEndian, fileType, machine, sections, symbols, relocationSections };
}

function readSymbols(r: ByteReader, sections: readonly ElfSection[]): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT.SYMTAB);
  if (!symtab) return [];
  if (symtab.size % 24 !== 0) throw new ElfError(`symbol table size ${symtab.size} is not a multiple of 24`, symtab.offset, symtab.name);
  if (symtab.link >= sections.length || sections[symtab.link].type !== SHT.STRTAB) {
    throw new ElfError(`symbol table links to section ${symtab.link}, which is not a string table`, symtab.offset, symtab.name);
  }
  const strtab = sections[symtab.link];
  const out: ElfSymbol[] = [];
  for (let o = symtab.offset, index = 0; o < symtab.offset + symtab.size; o += 24, index++) {
    const info = r.u8(o + 4);
    const nameOff = r.u32(o);
    out.push({
      index,
      name: nameOff === 0 ? '' : readCString(strtab.data, nameOff, `name of symbol ${index}`, strtab.offset, strtab.name),
      binding: BINDINGS[info >> 4] ?? 'other',
      type: SYM_TYPES[info & 0xf] ?? 'other',
      visibility: VISIBILITIES[r.u8(o + 5) & 3],
      section: r.u16(o + 6),
      value: r.u64n(o + 8, 'st_value'),
      size: r.u64n(o + 16, 'st_size'),
    });
  }
  return out;
}
