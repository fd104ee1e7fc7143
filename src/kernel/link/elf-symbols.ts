/**
 * Function symbols of a native ELF64 binary (an executable or a shared
 * library) and their file offsets, which uprobes are placed at: a
 * symbol's address minus its section's address plus the section's file
 * offset. Reads .symtab and .dynsym; bounds-checked, errors say where.
 */
import { BpfkitError } from '../../errors/index.js';

export class NativeElfError extends BpfkitError {
  readonly code = 'NATIVE_ELF';
  constructor(readonly path: string, msg: string, readonly offset: number) {
    super(`${path}+0x${offset.toString(16)}: ${msg}`);
  }
}

export interface NativeSymbol {
  readonly name: string;
  readonly address: bigint;
  readonly size: bigint;
  /** Where the function's code is in the file. */
  readonly fileOffset: bigint;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

/** Every defined function symbol of a 64-bit little- or big-endian ELF file. */
export function readFunctionSymbols(bytes: Uint8Array, path = 'ELF'): NativeSymbol[] {
  const need = (o: number, n: number, what: string): void => {
    if (o < 0 || o + n > bytes.length) throw new NativeElfError(path, `${what} runs past the end of the file`, o);
  };
  need(0, 64, 'ELF header');
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new NativeElfError(path, 'not an ELF file', 0);
  if (bytes[4] !== 2) throw new NativeElfError(path, 'not a 64-bit ELF file', 4);
  const le = bytes[5] === 1;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(0x28, le));
  const shentsize = v.getUint16(0x3a, le);
  const shnum = v.getUint16(0x3c, le);
  if (shentsize < 64 && shnum > 0) throw new NativeElfError(path, `section header size ${shentsize}`, 0x3a);
  need(shoff, shnum * shentsize, 'section header table');
  const secs = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return {
      type: v.getUint32(o + 4, le),
      addr: v.getBigUint64(o + 16, le),
      offset: v.getBigUint64(o + 24, le),
      size: Number(v.getBigUint64(o + 32, le)),
      link: v.getUint32(o + 40, le),
      entsize: Number(v.getBigUint64(o + 56, le)),
      at: o,
    };
  });
  const dec = new TextDecoder();
  const out: NativeSymbol[] = [];
  const seen = new Set<string>();
  for (const s of secs) {
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    const strtab = secs[s.link];
    if (!strtab) throw new NativeElfError(path, `symbol table links to section ${s.link}`, s.at);
    const off = Number(s.offset);
    need(off, s.size, 'symbol table');
    need(Number(strtab.offset), strtab.size, 'string table');
    const ent = s.entsize || 24;
    for (let o = off; o + 24 <= off + s.size; o += ent) {
      const info = bytes[o + 4];
      const type = info & 0xf;
      const shndx = v.getUint16(o + 6, le);
      const value = v.getBigUint64(o + 8, le);
      if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0 || shndx >= secs.length || value === 0n) continue;
      const nameOff = Number(strtab.offset) + v.getUint32(o, le);
      const end = bytes.indexOf(0, nameOff);
      if (nameOff >= bytes.length || end < 0) throw new NativeElfError(path, 'symbol name runs past the end of the file', o);
      const name = dec.decode(bytes.subarray(nameOff, end));
      const sec = secs[shndx];
      const key = `${name}@${value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ name, address: value, size: v.getBigUint64(o + 16, le), fileOffset: value - sec.addr + sec.offset });
    }
  }
  return out;
}
