/**
 * bpftrace's output formats, text and `-f json`: map printing (sorted as
 * bpftrace sorts), hist/lhist bars, stats, values and event messages.
 * Works on bytes read from any backend (kernel maps or the VM's).
 */
import type { TraceMap } from './compiled.js';
import { align8, sizeOf, tupleOffsets, type TType } from './types.js';

export type OutputMode = 'text' | 'json';

export type StackTType = Extract<TType, { kind: 'kstack' | 'ustack' }>;

/** Userspace lookups for values the kernel only knows as numbers. */
export interface Resolver {
  probeName(id: number): string;
  ksym(addr: bigint): string;
  usym(addr: bigint, pid: number): string;
  /**
   * The frames of a kstack/ustack value (a stack id; ustack's carries the
   * pid in its upper 32 bits, as bpftrace packs it), innermost first, as
   * bpftrace prints them: `func+offset` (unknown: the address in hex); in
   * perf mode `hexaddr func+offset`, user frames followed by ` (module)`.
   * At most the type's limit of them; undefined when the stack map has no
   * such id (bpftrace then prints nothing at all).
   */
  stack(value: bigint, t: StackTType): readonly string[] | undefined;
  username(uid: number): string;
  timestamp(formatIndex: number, ns: bigint): string;
}

export interface MapEntry {
  readonly key: Uint8Array;
  /** The value, summed over CPUs already for per-CPU maps. */
  readonly value: Uint8Array;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u64 = (b: Uint8Array, off = 0) => dv(b).getBigUint64(off, true);
const s64 = (b: Uint8Array, off = 0) => dv(b).getBigInt64(off, true);

export function cString(b: Uint8Array, off: number, size: number): string {
  let end = off;
  while (end < off + size && end < b.length && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

export function jsonEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c <= 0x1f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

function isQuoted(t: TType): boolean {
  return ['kstack', 'ustack', 'ksym', 'usym', 'inet', 'username', 'string', 'buffer', 'probe', 'timestamp'].includes(t.kind);
}

function inetToString(b: Uint8Array, off: number): string {
  const af = Number(u64(b, off));
  const a = b.subarray(off + 8, off + 24);
  if (af === 2) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
  // RFC 5952 zero compression of the longest run
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** One value as bpftrace prints it (`mode` decides tuple syntax and quoting). */
/** bpftrace 0.17 indents stack frames by 8 in values and printf, by 4 in map keys. */
function stackText(frames: readonly string[], indent: number, perf: boolean): string {
  // perf mode: one tab per frame, wherever the stack prints.
  const pad = perf ? '\t' : ' '.repeat(indent);
  return `\n${frames.map((f) => `${pad}${f}\n`).join('')}`;
}

export function valueToString(t: TType, b: Uint8Array, off: number, mode: OutputMode, r: Resolver): string {
  const raw = valueText(t, b, off, mode, r);
  return mode === 'json' && isQuoted(t) ? `"${jsonEscape(raw)}"` : raw;
}

function valueText(t: TType, b: Uint8Array, off: number, mode: OutputMode, r: Resolver, stackIndent = 8): string {
  switch (t.kind) {
    case 'int': return (t.signed ? s64(b, off) : u64(b, off)).toString();
    case 'ptr': return u64(b, off).toString();
    case 'string': return cString(b, off, t.size);
    case 'buffer': return bufferText(b.subarray(off + 8, off + 8 + Math.min(t.size, Number(u64(b, off)))));
    case 'tuple': {
      const offs = tupleOffsets(t);
      const parts = t.elems.map((e, i) => valueToString(e, b, off + offs[i], mode, r));
      return mode === 'json' ? `[${parts.join(',')}]` : `(${parts.join(', ')})`;
    }
    case 'probe': return r.probeName(Number(u64(b, off)));
    case 'ksym': return r.ksym(u64(b, off));
    case 'usym': return r.usym(u64(b, off), Number(u64(b, off + 8)));
    case 'kstack': case 'ustack': {
      const frames = r.stack(s64(b, off), t);
      return frames ? stackText(frames, stackIndent, t.mode === 'perf') : '';
    }
    case 'inet': return inetToString(b, off);
    case 'username': return r.username(Number(u64(b, off)));
    case 'timestamp': return r.timestamp(Number(u64(b, off)), u64(b, off + 8));
    case 'agg': {
      if (t.agg === 'avg' || t.agg === 'stats') {
        const count = s64(b, off), total = s64(b, off + 8);
        return (count === 0n ? 0n : total / count).toString();
      }
      return (t.signed ? s64(b, off) : u64(b, off)).toString();
    }
    default: return '';
  }
}

/** bpftrace's %r: printable ASCII as is, every other byte as \xNN. */
export function bufferText(bytes: Uint8Array): string {
  let out = '';
  for (const c of bytes) out += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}

function keyParts(map: TraceMap, key: Uint8Array, mode: OutputMode, r: Resolver): string[] {
  let off = 0;
  return map.keys.map((k) => {
    // Keys print unquoted inside the joined JSON key string.
    const s = valueText(k, key, off, mode, r, 4);
    off += align8(sizeOf(k));
    return s;
  });
}

function keyString(map: TraceMap, key: Uint8Array, mode: OutputMode, r: Resolver): string {
  const parts = keyParts(map, key, mode, r);
  if (mode === 'json') return parts.length ? `"${jsonEscape(parts.join(','))}"` : '';
  return map.name + (parts.length ? `[${parts.join(', ')}]` : '');
}

function keyVal(map: TraceMap, key: string, val: string, mode: OutputMode): string {
  if (mode === 'json') return key === '' ? val : `${key}: ${val}`;
  const hist = map.value.kind === 'agg' && (map.value.agg === 'hist' || map.value.agg === 'lhist');
  return `${key}: ${hist ? '\n' : ''}${val}`;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Sort by key the way bpftrace does: ints by value, strings by strcmp, last key first (stable). */
function sortByKey(map: TraceMap, entries: readonly MapEntry[]): MapEntry[] {
  const offs: number[] = [];
  let off = 0;
  for (const k of map.keys) { offs.push(off); off += align8(sizeOf(k)); }
  let out = [...entries];
  for (let i = map.keys.length - 1; i >= 0; i--) {
    const k = map.keys[i];
    if (k.kind === 'int') out = out.map((e, j) => ({ e, j })).sort((a, b) => { const x = u64(a.e.key, offs[i]), y = u64(b.e.key, offs[i]); return x < y ? -1 : x > y ? 1 : a.j - b.j; }).map((x) => x.e);
    else if (k.kind === 'string') out = out.map((e, j) => ({ e, j })).sort((a, b) => compareBytes(a.e.key.subarray(offs[i], offs[i] + k.size), b.e.key.subarray(offs[i], offs[i] + k.size)) || a.j - b.j).map((x) => x.e);
  }
  return out;
}

function histLabel(power: number): string {
  const suffixes = ['', 'K', 'M', 'G', 'T'];
  const s = Math.min(4, Math.floor(power / 10));
  return `${2 ** (power - s * 10)}${suffixes[s]}`;
}

function lhistLabel(n: number): string {
  if (n === 0) return '0';
  if (n % 1048576 === 0) return `${n / 1048576}M`;
  if (n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

function bar(count: bigint, max: bigint): string {
  const width = max === 0n ? 0 : Math.trunc((Number(count) / Number(max)) * 52);
  return '@'.repeat(width).padEnd(52);
}

/** The bar follows the raw count; the number shown is divided by print()'s div. */
function row(label: string, count: bigint, max: bigint, div = 1n): string {
  return `${label.padEnd(16)}${(count / div).toString().padStart(8)} |${bar(count, max)}|\n`;
}

export function histToString(values: readonly bigint[], mode: OutputMode, div = 1n): string {
  let min = -1, maxI = -1, maxV = 0n;
  values.forEach((v, i) => {
    if (v > 0n) { if (min < 0) min = i; maxI = i; }
    if (v > maxV) maxV = v;
  });
  if (maxI < 0) return mode === 'json' ? '[]' : '';
  if (mode === 'json') {
    const parts: string[] = [];
    for (let i = min; i <= maxI; i++) {
      const range = i === 0 ? '"max": -1, ' : i === 1 ? '"min": 0, "max": 0, ' : i === 2 ? '"min": 1, "max": 1, ' : `"min": ${2n ** BigInt(i - 2)}, "max": ${2n ** BigInt(i - 1) - 1n}, `;
      parts.push(`{${range}"count": ${values[i] / div}}`);
    }
    return `[${parts.join(', ')}]`;
  }
  let out = '';
  for (let i = min; i <= maxI; i++) {
    const label = i === 0 ? '(..., 0)' : i === 1 ? '[0]' : i === 2 ? '[1]' : `[${histLabel(i - 2)}, ${histLabel(i - 1)})`;
    out += row(label, values[i], maxV, div);
  }
  return out;
}

export function lhistToString(values: readonly bigint[], l: { min: number; max: number; step: number }, mode: OutputMode): string {
  const buckets = Math.floor((l.max - l.min) / l.step);
  let maxI = -1, maxV = 0n;
  values.forEach((v, i) => {
    if (v !== 0n) maxI = i;
    if (v > maxV) maxV = v;
  });
  if (maxI < 0) return mode === 'json' ? '[]' : '';
  let start = -1, end = 0;
  for (let i = 0; i <= buckets + 1; i++) {
    if ((values[i] ?? 0n) > 0n) { if (start < 0) start = i; end = i; }
  }
  if (start < 0) start = 0;
  const parts: string[] = [];
  let out = '';
  for (let i = start; i <= end; i++) {
    const v = values[i] ?? 0n;
    if (mode === 'json') {
      const range = i === 0 ? `"max": ${l.min - 1}, ` : i === buckets + 1 ? `"min": ${l.max}, ` : `"min": ${(i - 1) * l.step + l.min}, "max": ${i * l.step + l.min - 1}, `;
      parts.push(`{${range}"count": ${v}}`);
    } else {
      const label = i === 0 ? `(..., ${lhistLabel(l.min)})` : i === buckets + 1 ? `[${lhistLabel(l.max)}, ...)` : `[${lhistLabel((i - 1) * l.step + l.min)}, ${lhistLabel(i * l.step + l.min)})`;
      out += row(label, v, maxV);
    }
  }
  return mode === 'json' ? `[${parts.join(', ')}]` : out;
}

/** print(@m, top, div): only the `top` largest entries (0: all), values divided by `div` (bpftrace 0.17 leaves lhist counts and stats alone). */
export interface PrintLimits {
  readonly top: number;
  readonly div: number;
}

/** Keep the last `top` of entries sorted ascending (the largest), as bpftrace does. */
function lastN<T>(sorted: T[], top: number): T[] {
  return top > 0 && sorted.length > top ? sorted.slice(sorted.length - top) : sorted;
}

/** A whole map, as print(@m) and the exit-time dump print it (including trailing newlines). */
export function formatMap(map: TraceMap, entries: readonly MapEntry[], mode: OutputMode, r: Resolver, limits: PrintLimits = { top: 0, div: 1 }): string {
  const v = map.value;
  const div = BigInt(Math.max(1, limits.div));
  // bpftrace prints a scalar count() map that holds nothing as a count of 0.
  if (v.kind === 'agg' && v.agg === 'count' && map.keys.length === 0 && entries.length === 0) {
    return formatMap(map, [{ key: new Uint8Array(map.keySize), value: new Uint8Array(8) }], mode, r, limits);
  }
  const agg = v.kind === 'agg' ? v.agg : undefined;
  const wrap = (type: string, body: string) =>
    `{"type": "${type}", "data": {"${jsonEscape(map.name)}": ${map.keys.length ? `{${body}}` : body}}}\n`;

  if (agg === 'hist' || agg === 'lhist') {
    const prefixLen = map.keySize - 8;
    const byKey = new Map<string, { key: Uint8Array; values: bigint[] }>();
    for (const e of entries) {
      const prefix = e.key.subarray(0, prefixLen);
      const id = Array.from(prefix).join(',');
      let slot = byKey.get(id);
      if (!slot) { slot = { key: prefix, values: new Array<bigint>(agg === 'hist' ? 65 : 1002).fill(0n) }; byKey.set(id, slot); }
      const bucket = Number(u64(e.key, prefixLen));
      if (bucket < slot.values.length) slot.values[bucket] = u64(e.value);
    }
    const sorted = lastN([...byKey.values()]
      .map((s) => ({ ...s, total: s.values.reduce((a, x) => a + x, 0n) }))
      .sort((a, b) => (a.total < b.total ? -1 : a.total > b.total ? 1 : compareBytes(a.key, b.key))), limits.top);
    if (mode === 'json' && sorted.length === 0) return '';
    const elems = sorted.map((s) => keyVal(map, keyString(map, s.key, mode, r), agg === 'hist' ? histToString(s.values, mode, div) : lhistToString(s.values, (v as { lhist: { min: number; max: number; step: number } }).lhist, mode), mode));
    return mode === 'json' ? wrap('hist', elems.join(', ')) : `${elems.join('\n')}\n`;
  }
  if (agg === 'avg' || agg === 'stats') {
    const rows0 = entries.map((e) => {
      const count = s64(e.value), total = s64(e.value, 8);
      return { e, count, total, avg: count === 0n ? 0n : total / count };
    }).sort((a, b) => (a.avg < b.avg ? -1 : a.avg > b.avg ? 1 : compareBytes(a.e.key, b.e.key)));
    // bpftrace ignores top and div on stats() maps (with a warning at compile time).
    const rows = agg === 'avg' ? lastN(rows0, limits.top) : rows0;
    if (mode === 'json' && rows.length === 0) return '';
    const elems = rows.map((x) => {
      let val: string;
      if (agg === 'stats') {
        val = mode === 'json' ? `{"count": ${x.count}, "average": ${x.avg}, "total": ${x.total}}` : `count ${x.count}, average ${x.avg}, total ${x.total}`;
      } else val = (agg === 'avg' ? x.avg / div : x.avg).toString();
      return keyVal(map, keyString(map, x.e.key, mode, r), val, mode);
    });
    return mode === 'json' ? wrap('stats', elems.join(', ')) : `${elems.join('\n')}\n\n`;
  }
  let sorted: MapEntry[];
  const signed = (v.kind === 'int' && v.signed) || (v.kind === 'agg' && v.signed);
  if (v.kind === 'int' || agg === 'count' || agg === 'sum' || agg === 'min' || agg === 'max') {
    const read = (e: MapEntry) => (signed ? s64(e.value) : u64(e.value));
    sorted = lastN(entries.map((e) => ({ e, v: read(e) })).sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : compareBytes(a.e.key, b.e.key))), limits.top).map((x) => x.e);
  } else sorted = lastN(sortByKey(map, entries), limits.top);
  if (mode === 'json' && sorted.length === 0) return '';
  const intLike = v.kind === 'int' || agg === 'count' || agg === 'sum' || agg === 'min' || agg === 'max';
  const value = (e: MapEntry): string =>
    intLike && div !== 1n ? ((signed ? s64(e.value) : u64(e.value)) / div).toString() : valueToString(v, e.value, 0, mode, r);
  const elems = sorted.map((e) => keyVal(map, keyString(map, e.key, mode, r), value(e), mode));
  if (mode === 'json') return wrap('map', elems.join(', '));
  const delim = ['kstack', 'ustack', 'ksym', 'usym', 'inet'].includes(v.kind) ? '' : '\n';
  return `${elems.join(delim)}\n`;
}
