import { BpfkitError } from '../errors/index.js';

/** One field of a tracepoint record, as the tracefs format file describes it. */
export interface TracepointField {
  /** C type as the format file gives it ("const char *", "char[16]", "__data_loc char[]"). */
  readonly type: string;
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
}

export interface TracepointFormat {
  readonly system: string;
  readonly name: string;
  /** Every field, the common_* header included. */
  readonly fields: readonly TracepointField[];
}

/** A malformed tracefs format file, or a record value that does not fit its field. */
export class TracepointFormatError extends BpfkitError {
  readonly code = 'TRACEPOINT_FORMAT';
}

/**
 * Parse the text of a tracefs `events/SYSTEM/NAME/format` file. Reading the
 * file is left to src/cli and src/kernel; this stays portable.
 */
export function parseTracepointFormat(system: string, text: string): TracepointFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1];
  if (name === undefined) throw new TracepointFormatError(`${system}: format has no 'name:' line`);
  const fields: TracepointField[] = [];
  const re = /^\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d);/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const decl = m[1].trim();
    const arr = /^(.*?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])$/.exec(decl);
    const plain = /^(.*?)\s*([A-Za-z_][A-Za-z0-9_]*)$/.exec(decl);
    const type = arr ? `${arr[1]}${arr[3]}` : plain ? plain[1] : decl;
    const fname = arr ? arr[2] : plain ? plain[2] : decl;
    fields.push({ type: type.trim(), name: fname, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1' });
  }
  if (fields.length === 0) throw new TracepointFormatError(`${system}/${name}: format lists no fields`);
  return { system, name, fields };
}

/** Bytes a record needs: its fixed fields (dynamic data is appended after them). */
export function recordSize(f: TracepointFormat): number {
  return f.fields.reduce((n, x) => Math.max(n, x.offset + x.size), 0);
}

export type TracepointValue = number | bigint | string | Uint8Array;

/**
 * Build a record for a tracepoint program's context: integers by field
 * size, strings and bytes into char arrays, and __data_loc fields (the
 * kernel's offset << 16 | length) pointing at data appended after the
 * fixed part. The common header gets common_type = `id` and common_pid.
 */
export function encodeTracepointRecord(f: TracepointFormat, values: Readonly<Record<string, TracepointValue>>, opts: { id?: number; pid?: number } = {}): Uint8Array {
  const fixed = recordSize(f);
  const tail: Uint8Array[] = [];
  let tailLen = 0;
  const all: Record<string, TracepointValue> = { common_type: opts.id ?? 0, common_pid: opts.pid ?? 0, ...values };
  for (const name of Object.keys(values)) {
    if (!f.fields.some((x) => x.name === name)) throw new TracepointFormatError(`${f.system}/${f.name} has no field '${name}'`);
  }
  const locs = new Map<string, [number, number]>();
  for (const fld of f.fields) {
    const v = all[fld.name];
    if (v === undefined || !fld.type.startsWith('__data_loc')) continue;
    const bytes = typeof v === 'string' ? new TextEncoder().encode(`${v}\0`) : v instanceof Uint8Array ? v : undefined;
    if (bytes === undefined) throw new TracepointFormatError(`${f.system}/${f.name}: field '${fld.name}' takes a string or bytes`);
    locs.set(fld.name, [fixed + tailLen, bytes.length]);
    tail.push(bytes);
    tailLen += bytes.length;
  }
  const out = new Uint8Array(fixed + tailLen);
  const dv = new DataView(out.buffer);
  for (const fld of f.fields) {
    const v = all[fld.name];
    if (v === undefined) continue;
    const loc = locs.get(fld.name);
    if (loc !== undefined) {
      dv.setUint32(fld.offset, ((loc[0] << 16) | loc[1]) >>> 0, true);
      continue;
    }
    if (typeof v === 'string' || v instanceof Uint8Array) {
      const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v;
      if (bytes.length > fld.size) throw new TracepointFormatError(`${f.system}/${f.name}: ${bytes.length} bytes do not fit field '${fld.name}' (${fld.size})`);
      out.set(bytes, fld.offset);
      continue;
    }
    const n = BigInt(v);
    switch (fld.size) {
      case 1: dv.setUint8(fld.offset, Number(BigInt.asUintN(8, n))); break;
      case 2: dv.setUint16(fld.offset, Number(BigInt.asUintN(16, n)), true); break;
      case 4: dv.setUint32(fld.offset, Number(BigInt.asUintN(32, n)), true); break;
      case 8: dv.setBigUint64(fld.offset, BigInt.asUintN(64, n), true); break;
      default: throw new TracepointFormatError(`${f.system}/${f.name}: field '${fld.name}' of ${fld.size} bytes takes bytes, not a number`);
    }
  }
  let at = fixed;
  for (const t of tail) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}
