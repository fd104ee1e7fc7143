/**
 * Executable sections split into functions: decoded instructions, the slot
 * of each, and the relocations that point into them.
 */
import { decode, DecodeError, type Insn } from '../isa/index.js';
import { ElfError } from './errors.js';
import { BPF_RELOC, SHF, SHN, type ElfFile, type ElfRelocation, type ElfSection, type ElfSymbol } from './file.js';

export interface CodeSection {
  readonly section: ElfSection;
  readonly insns: readonly Insn[];
  /** Slot of each instruction; slots.length === insns.length + 1 (total at the end). */
  readonly slots: readonly number[];
  /** Instruction index for a slot, -1 inside a lddw. */
  readonly insnAtSlot: Int32Array;
  /** Relocations by slot. */
  readonly relocations: ReadonlyMap<number, ElfRelocation>;
  readonly functions: readonly CodeFunction[];
}

export interface CodeFunction {
  readonly name: string;
  readonly symbol: ElfSymbol;
  readonly section: CodeSection;
  /** Instruction index range [start, end) within the section. */
  readonly start: number;
  readonly end: number;
}

/** Rewrite big-endian instruction bytes into the little-endian layout `decode` reads. */
export function toLittleEndianInsns(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let p = 0; p + 8 <= bytes.length; p += 8) {
    out[p] = bytes[p];
    const regs = bytes[p + 1];
    out[p + 1] = ((regs & 0x0f) << 4) | (regs >> 4);
    out[p + 2] = bytes[p + 3];
    out[p + 3] = bytes[p + 2];
    out[p + 4] = bytes[p + 7];
    out[p + 5] = bytes[p + 6];
    out[p + 6] = bytes[p + 5];
    out[p + 7] = bytes[p + 4];
  }
  return out;
}

export function isCodeSection(s: ElfSection): boolean {
  return (s.flags & SHF.EXECINSTR) !== 0 && s.size > 0 && s.type === 1;
}

export function readCodeSections(elf: ElfFile): Map<number, CodeSection> {
  const out = new Map<number, CodeSection>();
  for (const s of elf.sections) {
    if (!isCodeSection(s)) continue;
    if (s.size % 8 !== 0) throw new ElfError(`code size ${s.size} is not a multiple of 8`, s.offset, s.name);
    const bytes = elf.littleEndian ? s.data : toLittleEndianInsns(s.data);
    let insns: Insn[];
    try {
      insns = decode(bytes, { checkTargets: false });
    } catch (e) {
      if (e instanceof DecodeError) throw new ElfError(`instruction ${e.index}: ${e.reason}`, s.offset + e.index * 8, s.name, { cause: e });
      throw e;
    }
    const slots = new Array<number>(insns.length + 1);
    const insnAtSlot = new Int32Array(s.size / 8 + 1).fill(-1);
    let slot = 0;
    insns.forEach((insn, i) => {
      slots[i] = slot;
      insnAtSlot[slot] = i;
      slot += insn.kind === 'lddw' ? 2 : 1;
    });
    slots[insns.length] = slot;
    insnAtSlot[slot] = insns.length;
    const relocations = new Map<number, ElfRelocation>();
    for (const rs of elf.relocationSections) {
      if (rs.target !== s.index) continue;
      for (const r of rs.relocations) {
        if (r.offset % 8 !== 0 || r.offset >= s.size) throw new ElfError(`relocation at offset ${r.offset} is not on an instruction`, rs.section.offset, rs.section.name);
        if (r.type !== BPF_RELOC.R_BPF_64_64 && r.type !== BPF_RELOC.R_BPF_64_32 && r.type !== BPF_RELOC.R_BPF_NONE) {
          throw new ElfError(`unsupported relocation type ${r.type} in code`, rs.section.offset, rs.section.name);
        }
        if (insnAtSlot[r.offset / 8] < 0) throw new ElfError(`relocation at offset ${r.offset} points inside a 64-bit load`, rs.section.offset, rs.section.name);
        relocations.set(r.offset / 8, r);
      }
    }
    const code: { -readonly [K in keyof CodeSection]: CodeSection[K] } = { section: s, insns, slots, insnAtSlot, relocations, functions: [] };
    const fns: CodeFunction[] = [];
    const syms = elf.symbols
      .filter((y) => y.type === 'func' && y.section === s.index && y.section !== SHN.UNDEF)
      .sort((a, b) => a.value - b.value);
    for (const y of syms) {
      if (y.value % 8 !== 0 || y.value >= s.size) throw new ElfError(`function '${y.name}' starts at ${y.value}, not on an instruction`, s.offset, s.name);
      const start = insnAtSlot[y.value / 8];
      const endByte = y.size > 0 ? y.value + y.size : s.size;
      if (endByte > s.size || endByte % 8 !== 0) throw new ElfError(`function '${y.name}' (${y.value}+${y.size}) does not fit its section`, s.offset, s.name);
      const end = insnAtSlot[endByte / 8];
      if (start < 0 || end < 0) throw new ElfError(`function '${y.name}' boundary is inside a 64-bit load`, s.offset, s.name);
      if (fns.some((f) => f.start === start)) continue; // aliases
      fns.push({ name: y.name, symbol: y, section: code, start, end });
    }
    code.functions = fns;
    out.set(s.index, code);
  }
  return out;
}
