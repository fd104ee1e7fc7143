/**
 * .BTF.ext: per-section function info, line info and CO-RE relocation
 * records that clang emits beside .BTF (include/uapi/linux/btf.h, and
 * libbpf's btf_ext). Offsets of instructions are in bytes within the ELF
 * section, as clang writes them.
 */
import { BtfError } from './errors.js';
import type { Btf } from './spec.js';

export interface FuncInfo {
  /** Byte offset of the function's first instruction in its section. */
  readonly insnOff: number;
  readonly typeId: number;
}

export interface LineInfo {
  readonly insnOff: number;
  readonly fileName: string;
  /** The source line's text, as clang stored it. */
  readonly line: string;
  readonly lineNumber: number;
  readonly column: number;
}

/** CO-RE relocation kinds (enum bpf_core_relo_kind). */
export const CORE_RELO_KINDS = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64',
  'field_rshift_u64', 'type_id_local', 'type_id_target', 'type_exists', 'type_size',
  'enumval_exists', 'enumval_value', 'type_matches',
] as const;
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number];

export interface CoreRelocation {
  readonly insnOff: number;
  /** Root type id in the object's BTF. */
  readonly typeId: number;
  /** Access string, e.g. "0:1:2" (indices into members/array elements). */
  readonly accessStr: string;
  readonly kind: CoreReloKind;
}

export interface BtfExt {
  /** Keyed by ELF section name. */
  readonly funcInfo: ReadonlyMap<string, readonly FuncInfo[]>;
  readonly lineInfo: ReadonlyMap<string, readonly LineInfo[]>;
  readonly coreRelocations: ReadonlyMap<string, readonly CoreRelocation[]>;
}

/** Parse .BTF.ext; strings are looked up in `btf` (the object's .BTF). */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < 8) throw new BtfError(`.BTF.ext too short (${bytes.length} bytes)`, 0);
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else throw new BtfError('.BTF.ext: bad magic', 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number): number => {
    if (o + 4 > bytes.length) throw new BtfError('.BTF.ext: truncated', o);
    return v.getUint32(o, le);
  };
  const hdrLen = u32(4);
  if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfError(`.BTF.ext: bad header length ${hdrLen}`, 4);
  const str = (off: number, at: number): string => {
    try {
      return btf.string(off, at);
    } catch (e) {
      throw new BtfError(`.BTF.ext: string offset ${off} is out of range`, at, undefined, { cause: e });
    }
  };

  function sections<T>(offField: number, minRec: number, rec: (o: number) => T): Map<string, T[]> {
    const out = new Map<string, T[]>();
    if (offField + 8 > hdrLen) return out;
    const off = u32(offField);
    const len = u32(offField + 4);
    if (len === 0) return out;
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length || end < start) throw new BtfError('.BTF.ext: info section extends past the end', offField);
    const recSize = u32(start);
    if (recSize < minRec || recSize % 4 !== 0) throw new BtfError(`.BTF.ext: bad record size ${recSize}`, start);
    for (let o = start + 4; o < end; ) {
      if (o + 8 > end) throw new BtfError('.BTF.ext: truncated section header', o);
      const name = str(u32(o), o);
      const n = u32(o + 4);
      o += 8;
      if (o + n * recSize > end) throw new BtfError(`.BTF.ext: ${n} records for '${name}' do not fit`, o);
      const list: T[] = [];
      for (let i = 0; i < n; i++, o += recSize) list.push(rec(o));
      out.set(name, list);
    }
    return out;
  }

  const funcInfo = sections<FuncInfo>(8, 8, (o) => ({ insnOff: u32(o), typeId: u32(o + 4) }));
  const lineInfo = sections<LineInfo>(16, 16, (o) => {
    const lc = u32(o + 12);
    return { insnOff: u32(o), fileName: str(u32(o + 4), o + 4), line: str(u32(o + 8), o + 8), lineNumber: lc >>> 10, column: lc & 0x3ff };
  });
  const coreRelocations = sections<CoreRelocation>(24, 16, (o) => {
    const k = u32(o + 12);
    const kind = CORE_RELO_KINDS[k];
    if (!kind) throw new BtfError(`.BTF.ext: unknown CO-RE relocation kind ${k}`, o + 12);
    return { insnOff: u32(o), typeId: u32(o + 4), accessStr: str(u32(o + 8), o + 8), kind };
  });
  return { funcInfo, lineInfo, coreRelocations };
}
