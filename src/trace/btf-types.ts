/**
 * Kernel types through BTF: struct members (`curtask->parent->pid`,
 * `args->filename` of fentry probes) and function signatures, converted to
 * the tracer's types. The BTF comes from the caller (vmlinux's, parsed
 * lazily), so this stays portable.
 */
import type { Btf, BtfType } from '../btf/index.js';
import type { TType } from './types.js';

export interface MemberInfo {
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  readonly type: TType;
  /** Bytes to read for scalars, or the array length for char arrays. */
  readonly size: number;
}

function resolved(btf: Btf, id: number): BtfType {
  return btf.resolve(id);
}

/** The tracer's view of a BTF type: ints, pointers, char arrays as strings, embedded structs as addresses. */
export function btfToType(btf: Btf, id: number): { type: TType; size: number } | undefined {
  const t = resolved(btf, id);
  switch (t.kind) {
    case 'int': {
      const bits = t.size >= 8 ? 64 : t.size >= 4 ? 32 : t.size >= 2 ? 16 : 8;
      return { type: { kind: 'int', bits, signed: t.signed }, size: t.size };
    }
    case 'enum': case 'enum64':
      return { type: { kind: 'int', bits: t.size >= 8 ? 64 : 32, signed: t.signed }, size: t.size };
    case 'ptr': {
      const to = resolved(btf, t.type);
      const name = to.kind === 'struct' || to.kind === 'union' ? `${to.kind} ${to.name}` : to.kind === 'int' ? intName(to.size, to.signed) : 'void';
      return { type: { kind: 'ptr', to: name, user: false }, size: 8 };
    }
    case 'array': {
      const elem = resolved(btf, t.elemType);
      if (elem.kind === 'int' && elem.size === 1) return { type: { kind: 'string', size: t.nelems }, size: t.nelems };
      return undefined;
    }
    case 'struct': case 'union':
      return { type: { kind: 'ptr', to: `${t.kind} ${t.name}`, user: false, embedded: true }, size: t.size };
    default:
      return undefined;
  }
}

function intName(size: number, signed: boolean): string {
  return `${signed ? '' : 'u'}int${size * 8}`;
}

/** Find `field` in struct/union `name` ("struct task_struct"), looking through anonymous members. */
export function findMember(btf: Btf, name: string, field: string): MemberInfo | undefined {
  const [kind, bare] = name.split(' ');
  if ((kind !== 'struct' && kind !== 'union') || !bare) return undefined;
  const candidates = btf.findByName(bare, kind);
  for (const c of candidates) {
    if (c.kind !== 'struct' && c.kind !== 'union') continue;
    const hit = searchMembers(btf, c, field, 0);
    if (hit) return hit;
  }
  return undefined;
}

function searchMembers(btf: Btf, t: Extract<BtfType, { kind: 'struct' | 'union' }>, field: string, base: number): MemberInfo | undefined {
  for (const m of t.members) {
    const off = base + Math.floor(m.bitOffset / 8);
    if (m.name === field) {
      if (m.bitfieldSize) return undefined;
      const conv = btfToType(btf, m.type);
      return conv ? { offset: off, type: conv.type, size: conv.size } : undefined;
    }
    if (m.name === '') {
      const inner = resolved(btf, m.type);
      if (inner.kind === 'struct' || inner.kind === 'union') {
        const hit = searchMembers(btf, inner, field, off);
        if (hit) return hit;
      }
    }
  }
  return undefined;
}

export interface FunctionInfo {
  readonly btfId: number;
  readonly params: readonly { readonly name: string; readonly type: TType }[];
  readonly ret: TType | undefined;
}

/** A kernel function's BTF id and parameters, for fentry/fexit. */
export function findFunction(btf: Btf, name: string): FunctionInfo | undefined {
  const f = btf.findByName(name, 'func')[0];
  if (!f || f.kind !== 'func') return undefined;
  const proto = btf.type(f.type);
  if (proto.kind !== 'func_proto') return undefined;
  const params = proto.params.map((p) => ({ name: p.name, type: btfToType(btf, p.type)?.type ?? ({ kind: 'int', bits: 64, signed: false } as TType) }));
  const ret = proto.returnType === 0 ? undefined : btfToType(btf, proto.returnType)?.type;
  return { btfId: f.id, params, ret };
}
