/**
 * The parts of a native ELF64 binary that turn a mapped address into a
 * symbol address: its PT_LOAD segments (file offset to virtual address)
 * and where its detached debug symbols are (the GNU build id note and the
 * .gnu_debuglink section). Symbols themselves come from the uprobe ELF
 * reader (src/kernel/link/elf-symbols.ts). Bounds-checked; errors say
 * the byte offset.
 */
import { BpfkitError } from '../errors/index.js';

export class NativeLayoutError extends BpfkitError {
  readonly code = 'TRACE_NATIVE_ELF';
  constructor(msg: string, readonly offset: number) {
    super(`ELF+0x${offset.toString(16)}: ${msg}`);
  }
}

export interface LoadSegment {
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly fileSize: bigint;
}

export interface NativeLayout {
  readonly segments: readonly LoadSegment[];
  /** NT_GNU_BUILD_ID's bytes, when the binary has one. */
  readonly buildId?: Uint8Array;
  /** The file name .gnu_debuglink names, when there is one. */
  readonly debugLink?: string;
}

const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;

export function readNativeLayout(bytes: Uint8Array): NativeLayout {
  const need = (o: number, n: number, what: string): void => {
    if (o < 0 || o + n > bytes.length) throw new NativeLayoutError(`${what} runs past the end of the file`, o);
  };
  need(0, 64, 'ELF header');
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new NativeLayoutError('not an ELF file', 0);
  if (bytes[4] !== 2) throw new NativeLayoutError('not a 64-bit ELF file', 4);
  const le = bytes[5] === 1;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(v.getBigUint64(0x20, le));
  const phentsize = v.getUint16(0x36, le);
  const phnum = v.getUint16(0x38, le);
  if (phnum > 0 && phentsize < 56) throw new NativeLayoutError(`program header size ${phentsize}`, 0x36);
  need(phoff, phnum * phentsize, 'program header table');
  const segments: LoadSegment[] = [];
  let buildId: Uint8Array | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const type = v.getUint32(o, le);
    const offset = v.getBigUint64(o + 8, le);
    const fileSize = v.getBigUint64(o + 32, le);
    if (type === PT_LOAD) segments.push({ offset, vaddr: v.getBigUint64(o + 16, le), fileSize });
    else if (type === PT_NOTE && !buildId) buildId = findBuildId(bytes, v, le, Number(offset), Number(fileSize), need);
  }
  const debugLink = readDebugLink(bytes, v, le, need);
  return { segments, ...(buildId ? { buildId } : {}), ...(debugLink ? { debugLink } : {}) };
}

function findBuildId(bytes: Uint8Array, v: DataView, le: boolean, start: number, size: number, need: (o: number, n: number, what: string) => void): Uint8Array | undefined {
  need(start, size, 'note segment');
  const align4 = (n: number) => (n + 3) & ~3;
  for (let o = start; o + 12 <= start + size;) {
    const namesz = v.getUint32(o, le), descsz = v.getUint32(o + 4, le), type = v.getUint32(o + 8, le);
    const name = o + 12, desc = name + align4(namesz);
    if (desc + descsz > start + size) throw new NativeLayoutError('note runs past its segment', o);
    if (type === NT_GNU_BUILD_ID && namesz === 4 && bytes[name] === 0x47 && bytes[name + 1] === 0x4e && bytes[name + 2] === 0x55) return bytes.slice(desc, desc + descsz);
    o = desc + align4(descsz);
  }
  return undefined;
}

/** The .gnu_debuglink section's file name (its CRC is not checked). */
function readDebugLink(bytes: Uint8Array, v: DataView, le: boolean, need: (o: number, n: number, what: string) => void): string | undefined {
  const shoff = Number(v.getBigUint64(0x28, le));
  const shentsize = v.getUint16(0x3a, le);
  const shnum = v.getUint16(0x3c, le);
  const shstrndx = v.getUint16(0x3e, le);
  if (shoff === 0 || shnum === 0 || shstrndx >= shnum) return undefined;
  if (shentsize < 64) throw new NativeLayoutError(`section header size ${shentsize}`, 0x3a);
  need(shoff, shnum * shentsize, 'section header table');
  const sec = (i: number) => {
    const o = shoff + i * shentsize;
    return { name: v.getUint32(o, le), type: v.getUint32(o + 4, le), offset: Number(v.getBigUint64(o + 24, le)), size: Number(v.getBigUint64(o + 32, le)) };
  };
  const names = sec(shstrndx);
  need(names.offset, names.size, 'section name table');
  const wanted = new TextEncoder().encode('.gnu_debuglink\0');
  for (let i = 1; i < shnum; i++) {
    const s = sec(i);
    const at = names.offset + s.name;
    if (s.name + wanted.length > names.size || !wanted.every((c, k) => bytes[at + k] === c)) continue;
    if (s.type === 8 /* NOBITS */) return undefined;
    need(s.offset, s.size, '.gnu_debuglink');
    const end = bytes.indexOf(0, s.offset);
    if (end < 0 || end > s.offset + s.size) throw new NativeLayoutError('.gnu_debuglink name is not terminated', s.offset);
    const name = new TextDecoder().decode(bytes.subarray(s.offset, end));
    return name.includes('/') || name === '' ? undefined : name;
  }
  return undefined;
}

/** A symbol table entry as bcc lists it. */
export interface RawSymbol {
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;

/**
 * Every named symbol with a non-zero value, of any type, from .symtab and
 * .dynsym in section order: the list bcc builds (and then sorts) for a
 * binary, with nothing merged or dropped, since its order decides aliases.
 */
export function readRawSymbols(bytes: Uint8Array): RawSymbol[] {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new NativeLayoutError('not an ELF file', 0);
  if (bytes[4] !== 2) throw new NativeLayoutError('not a 64-bit ELF file', 4);
  const le = bytes[5] === 1;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (o: number, n: number, what: string): void => {
    if (o < 0 || o + n > bytes.length) throw new NativeLayoutError(`${what} runs past the end of the file`, o);
  };
  const shoff = Number(v.getBigUint64(0x28, le));
  const shentsize = v.getUint16(0x3a, le);
  const shnum = v.getUint16(0x3c, le);
  if (shoff === 0 || shnum === 0) return [];
  if (shentsize < 64) throw new NativeLayoutError(`section header size ${shentsize}`, 0x3a);
  need(shoff, shnum * shentsize, 'section header table');
  const sec = (i: number) => {
    const o = shoff + i * shentsize;
    return { type: v.getUint32(o + 4, le), offset: Number(v.getBigUint64(o + 24, le)), size: Number(v.getBigUint64(o + 32, le)), link: v.getUint32(o + 40, le), entsize: Number(v.getBigUint64(o + 56, le)), at: o };
  };
  const dec = new TextDecoder();
  const out: RawSymbol[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    if (s.link >= shnum) throw new NativeLayoutError(`symbol table links to section ${s.link}`, s.at);
    const str = sec(s.link);
    need(s.offset, s.size, 'symbol table');
    need(str.offset, str.size, 'string table');
    const ent = s.entsize || 24;
    if (ent < 24) throw new NativeLayoutError(`symbol size ${ent}`, s.at + 56);
    for (let o = s.offset; o + ent <= s.offset + s.size; o += ent) {
      const nameOff = v.getUint32(o, le);
      const value = v.getBigUint64(o + 8, le);
      if (nameOff === 0 || nameOff >= str.size || value === 0n) continue;
      const at = str.offset + nameOff;
      if (bytes[at] === 0) continue;
      let end = bytes.indexOf(0, at);
      if (end < 0 || end > str.offset + str.size) end = str.offset + str.size;
      out.push({ name: dec.decode(bytes.subarray(at, end)), value, size: v.getBigUint64(o + 16, le) });
    }
  }
  return out;
}
