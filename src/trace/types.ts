/**
 * Types of values in a script, with the byte layout the generated code and
 * the output code share. Integers are kept as 8 bytes wherever they are
 * stored (map keys and values, event records), so only their signedness
 * and declared width matter for printing and comparisons.
 */
export type AggKind = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist';

export type TType =
  | { readonly kind: 'int'; readonly bits: 8 | 16 | 32 | 64; readonly signed: boolean }
  | { readonly kind: 'string'; readonly size: number }
  /** buf(ptr, len): a u64 length, then `size` bytes; prints with \x escapes (printf's %r). */
  | { readonly kind: 'buffer'; readonly size: number }
  | { readonly kind: 'tuple'; readonly elems: readonly TType[] }
  | { readonly kind: 'agg'; readonly agg: AggKind; readonly signed: boolean; readonly lhist?: { readonly min: number; readonly max: number; readonly step: number } }
  /** A kernel or user pointer; `to` names the pointee when known ("struct task_struct"). */
  | { readonly kind: 'ptr'; readonly to: string; readonly user: boolean; readonly embedded?: boolean }
  /** Values printed by a userspace resolver: probe name, symbols, stacks, addresses, times. */
  | { readonly kind: 'probe' | 'ksym' | 'usym' | 'inet' | 'timestamp' | 'username' | 'none' }
  /** A stack id; kstack(N) and ustack(N) print at most `limit` frames; perf mode prints addresses too. */
  | { readonly kind: 'kstack' | 'ustack'; readonly limit?: number; readonly mode?: 'perf' }
  /** A tracepoint's `args`, resolved per field. */
  | { readonly kind: 'args' };

export const U64: TType = { kind: 'int', bits: 64, signed: false };
export const S64: TType = { kind: 'int', bits: 64, signed: true };
export const NONE: TType = { kind: 'none' };

/** Bytes a value takes in a map key, map value or event record. */
export function sizeOf(t: TType): number {
  switch (t.kind) {
    case 'string': return t.size;
    case 'buffer': return 8 + t.size;
    case 'tuple': return t.elems.reduce((n, e) => n + align8(sizeOf(e)), 0);
    case 'agg': return t.agg === 'avg' || t.agg === 'stats' ? 16 : 8;
    case 'usym': return 16;
    case 'inet': return 24;
    case 'timestamp': return 16;
    case 'none': case 'args': return 0;
    default: return 8;
  }
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Byte offsets of a tuple's elements. */
export function tupleOffsets(t: Extract<TType, { kind: 'tuple' }>): number[] {
  const out: number[] = [];
  let off = 0;
  for (const e of t.elems) {
    out.push(off);
    off += align8(sizeOf(e));
  }
  return out;
}

/** True for values kept in memory (stack buffers) rather than in a register. */
export function isMemory(t: TType): boolean {
  return t.kind === 'string' || t.kind === 'buffer' || t.kind === 'tuple' || t.kind === 'usym' || t.kind === 'inet' || t.kind === 'timestamp';
}

/** bpftrace's spelling, for error messages: "unsigned int64", "string[16]". */
export function typeName(t: TType): string {
  switch (t.kind) {
    case 'int': return `${t.signed ? '' : 'unsigned '}int${t.bits}`;
    case 'string': return `string[${t.size}]`;
    case 'tuple': return `(${t.elems.map(typeName).join(',')})`;
    case 'agg': return t.agg;
    case 'ptr': return `${t.to} *`;
    default: return t.kind;
  }
}

/** Same shape for map keys and values (strings of any size unify; ints of any width unify). */
export function compatible(a: TType, b: TType): boolean {
  if (a.kind !== b.kind) return (a.kind === 'int' && b.kind === 'ptr') || (a.kind === 'ptr' && b.kind === 'int');
  if (a.kind === 'tuple' && b.kind === 'tuple') return a.elems.length === b.elems.length && a.elems.every((e, i) => compatible(e, b.elems[i]));
  if (a.kind === 'agg' && b.kind === 'agg') return a.agg === b.agg;
  return true;
}

/** The wider of two compatible types (longest string). */
export function unify(a: TType, b: TType): TType {
  if (a.kind === 'string' && b.kind === 'string') return a.size >= b.size ? a : b;
  if (a.kind === 'buffer' && b.kind === 'buffer') return a.size >= b.size ? a : b;
  if (a.kind === 'tuple' && b.kind === 'tuple') return { kind: 'tuple', elems: a.elems.map((e, i) => unify(e, b.elems[i])) };
  if (a.kind === 'int' && b.kind === 'int') return { kind: 'int', bits: 64, signed: a.signed || b.signed };
  return a;
}
