/**
 * The BTF wire format (include/uapi/linux/btf.h): header, kind numbers and
 * record layouts. Private to src/btf; the rest of bpfkit sees types.ts.
 */
import { BtfError } from './errors.js';
import type { BtfKind, BtfLinkage, BtfType } from './types.js';

export const BTF_MAGIC = 0xeb9f;

export const KIND_NAMES: readonly (BtfKind | undefined)[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];
export const KIND_NUMBERS: Record<BtfKind, number> = Object.fromEntries(KIND_NAMES.map((k, i) => [k, i])) as Record<BtfKind, number>;

const LINKAGES: readonly BtfLinkage[] = ['static', 'global', 'extern'];

export interface BtfHeader {
  readonly littleEndian: boolean;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
}

export function readHeader(bytes: Uint8Array): BtfHeader {
  if (bytes.length < 24) throw new BtfError(`too short for a BTF header (${bytes.length} bytes)`, 0);
  let littleEndian: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) littleEndian = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) littleEndian = false;
  else throw new BtfError(`bad magic 0x${((bytes[0] << 8) | bytes[1]).toString(16)}`, 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[2];
  if (version !== 1) throw new BtfError(`unsupported version ${version}`, 2);
  const hdrLen = v.getUint32(4, littleEndian);
  if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfError(`bad header length ${hdrLen}`, 4);
  const h: BtfHeader = {
    littleEndian, version, flags: bytes[3], hdrLen,
    typeOff: v.getUint32(8, littleEndian), typeLen: v.getUint32(12, littleEndian),
    strOff: v.getUint32(16, littleEndian), strLen: v.getUint32(20, littleEndian),
  };
  const body = bytes.length - hdrLen;
  if (h.typeOff + h.typeLen > body) throw new BtfError(`type section (${h.typeOff}+${h.typeLen}) extends past the end (${body} bytes after the header)`, 8);
  if (h.strOff + h.strLen > body) throw new BtfError(`string section (${h.strOff}+${h.strLen}) extends past the end (${body} bytes after the header)`, 16);
  if (h.typeOff % 4 !== 0 || h.typeLen % 4 !== 0) throw new BtfError('type section is not 4-byte aligned', 8);
  return h;
}

/** Size in bytes of the record for (kind, vlen), including the 12-byte common header; -1 for an unknown kind. */
export function recordSize(kind: number, vlen: number): number {
  switch (kind) {
    case 1: case 14: case 17: return 16; // int, var, decl_tag
    case 3: return 24; // array
    case 4: case 5: case 15: case 19: return 12 + 12 * vlen; // struct, union, datasec, enum64
    case 6: case 13: return 12 + 8 * vlen; // enum, func_proto
    case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18: return 12;
    default: return -1;
  }
}

/**
 * Scan the type section: the byte offset of each type's record (relative to
 * the type section), validating that every record has a known kind and fits.
 */
export function indexTypes(view: DataView, start: number, len: number, littleEndian: boolean): Uint32Array {
  let offsets = new Uint32Array(Math.max(16, len >> 4));
  let n = 0;
  const end = start + len;
  for (let o = start; o < end; ) {
    if (o + 12 > end) throw new BtfError('truncated type record', o, undefined);
    const info = view.getUint32(o + 4, littleEndian);
    const kind = (info >>> 24) & 0x1f;
    const size = recordSize(kind, info & 0xffff);
    if (size < 0 || kind === 0) throw new BtfError(`unknown kind ${kind}`, o);
    if (o + size > end) throw new BtfError(`record of ${size} bytes extends past the type section`, o);
    if (n === offsets.length) {
      const grown = new Uint32Array(offsets.length * 2);
      grown.set(offsets);
      offsets = grown;
    }
    offsets[n++] = o;
    o += size;
  }
  return offsets.slice(0, n);
}

/** Reads strings from the string section. */
export interface StringSource {
  string(offset: number, where: number): string;
}

/** Decode the record at byte `o` as type `id`. */
export function decodeType(view: DataView, o: number, id: number, le: boolean, strs: StringSource): BtfType {
  const nameOff = view.getUint32(o, le);
  const info = view.getUint32(o + 4, le);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const sizeOrType = view.getUint32(o + 8, le);
  const name = strs.string(nameOff, o);
  const p = o + 12;
  switch (kind) {
    case 1: {
      const enc = view.getUint32(p, le);
      const e = (enc >>> 24) & 0xf;
      return { kind: 'int', id, name, size: sizeOrType, signed: (e & 1) !== 0, char: (e & 2) !== 0, bool: (e & 4) !== 0, bitOffset: (enc >>> 16) & 0xff, bits: enc & 0xff };
    }
    case 2: return { kind: 'ptr', id, name, type: sizeOrType };
    case 3: return { kind: 'array', id, name, elemType: view.getUint32(p, le), indexType: view.getUint32(p + 4, le), nelems: view.getUint32(p + 8, le) };
    case 4: case 5: {
      const members = new Array(vlen);
      for (let i = 0, q = p; i < vlen; i++, q += 12) {
        const off = view.getUint32(q + 8, le);
        members[i] = {
          name: strs.string(view.getUint32(q, le), q),
          type: view.getUint32(q + 4, le),
          bitOffset: kflag ? off & 0xffffff : off,
          bitfieldSize: kflag ? off >>> 24 : 0,
        };
      }
      return { kind: kind === 4 ? 'struct' : 'union', id, name, size: sizeOrType, members };
    }
    case 6: {
      const values = new Array(vlen);
      for (let i = 0, q = p; i < vlen; i++, q += 8) {
        const raw = view.getInt32(q + 4, le);
        values[i] = { name: strs.string(view.getUint32(q, le), q), value: kflag ? raw : raw >>> 0 };
      }
      return { kind: 'enum', id, name, size: sizeOrType, signed: kflag, values };
    }
    case 7: return { kind: 'fwd', id, name, union: kflag };
    case 8: return { kind: 'typedef', id, name, type: sizeOrType };
    case 9: return { kind: 'volatile', id, name, type: sizeOrType };
    case 10: return { kind: 'const', id, name, type: sizeOrType };
    case 11: return { kind: 'restrict', id, name, type: sizeOrType };
    case 12: return { kind: 'func', id, name, type: sizeOrType, linkage: linkage(vlen, o, id) };
    case 13: {
      const params = new Array(vlen);
      for (let i = 0, q = p; i < vlen; i++, q += 8) params[i] = { name: strs.string(view.getUint32(q, le), q), type: view.getUint32(q + 4, le) };
      return { kind: 'func_proto', id, name, returnType: sizeOrType, params };
    }
    case 14: return { kind: 'var', id, name, type: sizeOrType, linkage: linkage(view.getUint32(p, le), p, id) };
    case 15: {
      const vars = new Array(vlen);
      for (let i = 0, q = p; i < vlen; i++, q += 12) vars[i] = { type: view.getUint32(q, le), offset: view.getUint32(q + 4, le), size: view.getUint32(q + 8, le) };
      return { kind: 'datasec', id, name, size: sizeOrType, vars };
    }
    case 16: return { kind: 'float', id, name, size: sizeOrType };
    case 17: return { kind: 'decl_tag', id, name, type: sizeOrType, componentIdx: view.getInt32(p, le) };
    case 18: return { kind: 'type_tag', id, name, type: sizeOrType };
    case 19: {
      const values = new Array(vlen);
      for (let i = 0, q = p; i < vlen; i++, q += 12) {
        const lo = BigInt(view.getUint32(q + 4, le));
        const hi = BigInt(view.getUint32(q + 8, le));
        const u = (hi << 32n) | lo;
        values[i] = { name: strs.string(view.getUint32(q, le), q), value: kflag ? BigInt.asIntN(64, u) : u };
      }
      return { kind: 'enum64', id, name, size: sizeOrType, signed: kflag, values };
    }
    default:
      throw new BtfError(`unknown kind ${kind}`, o, id);
  }
}

function linkage(n: number, o: number, id: number): BtfLinkage {
  const l = LINKAGES[n];
  if (!l) throw new BtfError(`unknown linkage ${n}`, o, id);
  return l;
}

/** Writes BTF in the wire format (used for fixups and for tests). */
export function encodeBtf(types: readonly BtfType[], littleEndian = true): Uint8Array {
  const strings: number[] = [0];
  const strIndex = new Map<string, number>([['', 0]]);
  const enc = new TextEncoder();
  const str = (s: string): number => {
    let off = strIndex.get(s);
    if (off === undefined) {
      off = strings.length;
      strIndex.set(s, off);
      for (const b of enc.encode(s)) strings.push(b);
      strings.push(0);
    }
    return off;
  };
  const words: number[] = [];
  const head = (t: BtfType, vlen: number, kflag: boolean, sizeOrType: number): void => {
    words.push(str(t.name), ((kflag ? 1 : 0) << 31) | (KIND_NUMBERS[t.kind] << 24) | vlen, sizeOrType);
  };
  for (const t of types) {
    switch (t.kind) {
      case 'void': break;
      case 'int':
        head(t, 0, false, t.size);
        words.push((((t.signed ? 1 : 0) | (t.char ? 2 : 0) | (t.bool ? 4 : 0)) << 24) | (t.bitOffset << 16) | t.bits);
        break;
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        head(t, 0, false, t.type);
        break;
      case 'array': head(t, 0, false, 0); words.push(t.elemType, t.indexType, t.nelems); break;
      case 'struct': case 'union': {
        const kflag = t.members.some((m) => m.bitfieldSize !== 0);
        head(t, t.members.length, kflag, t.size);
        for (const m of t.members) words.push(str(m.name), m.type, kflag ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset);
        break;
      }
      case 'enum':
        head(t, t.values.length, t.signed, t.size);
        for (const v of t.values) words.push(str(v.name), v.value | 0);
        break;
      case 'enum64':
        head(t, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          const u = BigInt.asUintN(64, v.value);
          words.push(str(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
        }
        break;
      case 'fwd': head(t, 0, t.union, 0); break;
      case 'func': head(t, LINKAGES.indexOf(t.linkage), false, t.type); break;
      case 'func_proto':
        head(t, t.params.length, false, t.returnType);
        for (const p of t.params) words.push(str(p.name), p.type);
        break;
      case 'var': head(t, 0, false, t.type); words.push(LINKAGES.indexOf(t.linkage)); break;
      case 'datasec':
        head(t, t.vars.length, false, t.size);
        for (const v of t.vars) words.push(v.type, v.offset, v.size);
        break;
      case 'float': head(t, 0, false, t.size); break;
      case 'decl_tag': head(t, 0, false, t.type); words.push(t.componentIdx); break;
    }
  }
  const typeLen = words.length * 4;
  const out = new Uint8Array(24 + typeLen + strings.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, BTF_MAGIC, littleEndian);
  out[2] = 1;
  v.setUint32(4, 24, littleEndian);
  v.setUint32(8, 0, littleEndian);
  v.setUint32(12, typeLen, littleEndian);
  v.setUint32(16, typeLen, littleEndian);
  v.setUint32(20, strings.length, littleEndian);
  words.forEach((w, i) => v.setUint32(24 + i * 4, w >>> 0, littleEndian));
  out.set(strings, 24 + typeLen);
  return out;
}
