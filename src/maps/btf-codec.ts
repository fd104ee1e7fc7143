import { formatValue, type Btf, type BtfJson } from '../btf/index.js';
import { MapDefinitionError } from './errors.js';

/** What a typed map accepts for a key or value: the same shapes `formatValue` produces. */
export type BtfValueInput = number | bigint | boolean | string | readonly BtfValueInput[] | { readonly [field: string]: BtfValueInput };

/**
 * Encode a JS value into bytes of BTF type `typeId`: integers (number or
 * bigint), enums (number or name), chars arrays from strings, arrays, and
 * structs and unions by member name (missing members stay zero). The
 * inverse of src/btf's formatValue for those kinds.
 */
export function encodeBtfValue(btf: Btf, typeId: number, value: BtfValueInput, size = btf.sizeof(typeId)): Uint8Array {
  const out = new Uint8Array(size);
  const fail = (why: string): never => {
    throw new MapDefinitionError('(value)', why);
  };
  const putInt = (off: number, n: number, v: BtfValueInput): void => {
    if (typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'boolean') fail(`expected an integer, got ${JSON.stringify(v)}`);
    const x = BigInt.asUintN(n * 8, typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v as number | bigint));
    for (let i = 0; i < n; i++) out[off + i] = Number((x >> BigInt(8 * i)) & 0xffn);
  };
  const go = (id: number, off: number, v: BtfValueInput): void => {
    const t = btf.resolve(id);
    switch (t.kind) {
      case 'int': putInt(off, t.size, v); return;
      case 'enum': case 'enum64': {
        if (typeof v === 'string') {
          const e = (t.values as readonly { name: string; value: number | bigint }[]).find((x) => x.name === v);
          if (e === undefined) fail(`enum ${t.name} has no value ${v}`);
          putInt(off, t.size, e!.value);
        } else putInt(off, t.size, v);
        return;
      }
      case 'ptr': putInt(off, 8, v); return;
      case 'array': {
        const esz = btf.sizeof(t.elemType);
        const et = btf.resolve(t.elemType);
        if (typeof v === 'string' && et.kind === 'int' && esz === 1) {
          const b = new TextEncoder().encode(v);
          if (b.length > t.nelems) fail(`string of ${b.length} bytes does not fit char[${t.nelems}]`);
          out.set(b, off);
          return;
        }
        if (!Array.isArray(v)) fail(`expected an array for ${t.nelems} elements`);
        const arr = v as readonly BtfValueInput[];
        if (arr.length > t.nelems) fail(`${arr.length} elements do not fit [${t.nelems}]`);
        arr.forEach((x, i) => go(t.elemType, off + i * esz, x));
        return;
      }
      case 'struct': case 'union': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`expected an object for ${t.kind} ${t.name}`);
        const o = v as { readonly [f: string]: BtfValueInput };
        for (const [k, x] of Object.entries(o)) {
          const m = t.members.find((mm) => mm.name === k);
          if (m === undefined) fail(`${t.kind} ${t.name} has no member ${k}`);
          if (m!.bitfieldSize !== 0 || m!.bitOffset % 8 !== 0) fail(`member ${k} is a bitfield`);
          go(m!.type, off + m!.bitOffset / 8, x);
        }
        return;
      }
      default:
        fail(`cannot encode a ${t.kind}`);
    }
  };
  go(typeId, 0, value);
  return out;
}

/** Decode through BTF (formatValue). */
export function decodeBtfValue(btf: Btf, typeId: number, bytes: Uint8Array): BtfJson {
  return formatValue(btf, typeId, bytes);
}
