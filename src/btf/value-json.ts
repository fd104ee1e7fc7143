/**
 * A value's bytes shown through its BTF type, the way bpftool prints map
 * keys and values with BTF (its btf_dumper): structs as objects, arrays as
 * lists, char arrays as strings, enums by name, 64-bit values exactly.
 */
import { BtfError } from './errors.js';
import type { Btf } from './spec.js';

/** JSON data; bigint stands for integers beyond 2^53 and prints bare. */
export type BtfJson = null | boolean | number | bigint | string | BtfJson[] | { [key: string]: BtfJson };

export interface ValueFormatOptions {
  readonly littleEndian?: boolean;
}

/** Decode `bytes` (at least sizeof(type)) as type `typeId`. Throws BtfError if the bytes are too short. */
export function formatValue(btf: Btf, typeId: number, bytes: Uint8Array, options: ValueFormatOptions = {}): BtfJson {
  const le = options.littleEndian ?? true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (off: number, size: number): void => {
    if (off + size > bytes.length) throw new BtfError(`value needs ${off + size} bytes, have ${bytes.length}`, off, typeId);
  };
  const readUint = (off: number, size: number): bigint => {
    need(off, size);
    let v = 0n;
    for (let i = 0; i < size; i++) {
      const b = BigInt(bytes[off + (le ? i : size - 1 - i)]);
      v |= b << BigInt(8 * i);
    }
    return v;
  };
  const num = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const bits = (off: number, bitOff: number, nbits: number, signed: boolean): number | bigint => {
    const first = off + Math.floor(bitOff / 8);
    const span = Math.ceil(((bitOff % 8) + nbits) / 8);
    let raw = readUint(first, span);
    // Bit numbering follows the byte order, as the compiler lays bitfields out.
    const shift = le ? bitOff % 8 : span * 8 - (bitOff % 8) - nbits;
    raw = (raw >> BigInt(shift)) & ((1n << BigInt(nbits)) - 1n);
    return num(signed ? BigInt.asIntN(nbits, raw) : raw);
  };

  const go = (id: number, off: number, depth: number): BtfJson => {
    if (depth > 64) throw new BtfError('type nesting too deep', off, id);
    const t = btf.type(id);
    switch (t.kind) {
      case 'int': {
        if (t.bool) return readUint(off, t.size) !== 0n;
        const v = t.bits === t.size * 8 && t.bitOffset === 0 ? readUint(off, t.size) : BigInt(bits(off, t.bitOffset, t.bits, false));
        return num(t.signed ? BigInt.asIntN(t.bits, v) : v);
      }
      case 'ptr': return num(readUint(off, 8));
      case 'float': {
        need(off, t.size);
        if (t.size === 4) return view.getFloat32(off, le);
        if (t.size === 8) return view.getFloat64(off, le);
        return num(readUint(off, Math.min(t.size, 8)));
      }
      case 'enum': case 'enum64': {
        const raw = readUint(off, t.size);
        const v = t.signed ? BigInt.asIntN(t.size * 8, raw) : raw;
        const hit = t.values.find((x) => BigInt(x.value) === v);
        return hit ? hit.name : num(v);
      }
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': case 'var':
        return go(t.type, off, depth + 1);
      case 'array': {
        const elem = btf.resolve(t.elemType);
        if (elem.kind === 'int' && elem.size === 1 && (elem.char || elem.name === 'char' || elem.name === 'signed char' || elem.name === 'unsigned char')) {
          need(off, t.nelems);
          const raw = bytes.subarray(off, off + t.nelems);
          const end = raw.indexOf(0);
          const text = raw.subarray(0, end < 0 ? raw.length : end);
          if (text.every((b) => b >= 0x20 && b < 0x7f) && (end >= 0 || t.nelems === 0)) return String.fromCharCode(...text);
        }
        const size = btf.sizeof(t.elemType);
        const out: BtfJson[] = [];
        for (let i = 0; i < t.nelems; i++) out.push(go(t.elemType, off + i * size, depth + 1));
        return out;
      }
      case 'struct': case 'union': {
        const o: { [key: string]: BtfJson } = {};
        for (const m of t.members) {
          let v: BtfJson;
          if (m.bitfieldSize) {
            const r = btf.resolve(m.type);
            v = bits(off, m.bitOffset, m.bitfieldSize, r.kind === 'int' && r.signed);
          } else v = go(m.type, off + m.bitOffset / 8, depth + 1);
          if (m.name) o[m.name] = v;
          else if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(o, v);
        }
        return o;
      }
      case 'datasec': {
        const o: { [key: string]: BtfJson } = {};
        for (const v of t.vars) o[btf.type(v.type).name] = go(v.type, off + v.offset, depth + 1);
        return o;
      }
      case 'void': case 'fwd': case 'func': case 'func_proto': case 'decl_tag':
        throw new BtfError(`cannot show a value of kind ${t.kind}`, off, id);
    }
  };
  return go(typeId, 0, 0);
}

/** JSON text for a BtfJson value (bigints printed as bare numbers, like bpftool). */
export function stringifyBtfJson(v: BtfJson, indent = 0): string {
  const pad = (n: number) => (indent ? '\n' + ' '.repeat(n * indent) : '');
  const sep = indent ? ': ' : ':';
  const go = (x: BtfJson, level: number): string => {
    if (typeof x === 'bigint') return x.toString();
    if (x === null || typeof x !== 'object') return JSON.stringify(x);
    if (Array.isArray(x)) return x.length ? `[${x.map((e) => pad(level + 1) + go(e, level + 1)).join(',')}${pad(level)}]` : '[]';
    const keys = Object.keys(x);
    return keys.length ? `{${keys.map((k) => `${pad(level + 1)}${JSON.stringify(k)}${sep}${go(x[k], level + 1)}`).join(',')}${pad(level)}}` : '{}';
  };
  return go(v, 0);
}
