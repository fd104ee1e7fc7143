/**
 * The type listing `bpftool btf dump ... format raw` prints: one line per
 * type, then one indented line per member, value, parameter or variable.
 */
import type { Btf } from './spec.js';
import type { BtfType } from './types.js';
import type { BtfJson } from './value-json.js';

const KIND_LABEL: Record<BtfType['kind'], string> = {
  void: 'UNKN', int: 'INT', ptr: 'PTR', array: 'ARRAY', struct: 'STRUCT', union: 'UNION', enum: 'ENUM', fwd: 'FWD',
  typedef: 'TYPEDEF', volatile: 'VOLATILE', const: 'CONST', restrict: 'RESTRICT', func: 'FUNC', func_proto: 'FUNC_PROTO',
  var: 'VAR', datasec: 'DATASEC', float: 'FLOAT', decl_tag: 'DECL_TAG', type_tag: 'TYPE_TAG', enum64: 'ENUM64',
};

const anon = (s: string): string => (s === '' ? '(anon)' : s);

function intEncoding(t: Extract<BtfType, { kind: 'int' }>): string {
  const n = (t.signed ? 1 : 0) | (t.char ? 2 : 0) | (t.bool ? 4 : 0);
  return n === 0 ? '(none)' : n === 1 ? 'SIGNED' : n === 2 ? 'CHAR' : n === 4 ? 'BOOL' : 'UNKN';
}

/** One type in bpftool's raw format (may span several lines, no trailing newline). */
export function formatRawType(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${KIND_LABEL[t.kind]} '${anon(t.name)}'`;
  switch (t.kind) {
    case 'int':
      return s + ` size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncoding(t)}`;
    case 'ptr': case 'const': case 'volatile': case 'restrict': case 'typedef': case 'type_tag':
      return s + ` type_id=${t.type}`;
    case 'array':
      return s + ` type_id=${t.elemType} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case 'struct': case 'union':
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) s += `\n\t'${anon(m.name)}' type_id=${m.type} bits_offset=${m.bitOffset}${m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ''}`;
      return s;
    case 'enum':
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${anon(v.name)}' val=${v.value}`;
      return s;
    case 'enum64':
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${anon(v.name)}' val=${v.value}${t.signed ? 'LL' : 'ULL'}`;
      return s;
    case 'fwd':
      return s + ` fwd_kind=${t.union ? 'union' : 'struct'}`;
    case 'func':
      return s + ` type_id=${t.type} linkage=${t.linkage}`;
    case 'func_proto':
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${anon(p.name)}' type_id=${p.type}`;
      return s;
    case 'var':
      return s + ` type_id=${t.type}, linkage=${t.linkage}`;
    case 'datasec':
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        if (btf.has(v.type)) {
          const vt = btf.type(v.type);
          s += ` (${KIND_LABEL[vt.kind]} '${anon(vt.name)}')`;
        }
      }
      return s;
    case 'float':
      return s + ` size=${t.size}`;
    case 'decl_tag':
      return s + ` type_id=${t.type} component_idx=${t.componentIdx}`;
    case 'void':
      return s;
  }
}

/** All of this blob's own types (not the base's, for split BTF), one per line. */
export function formatRaw(btf: Btf): string {
  const out: string[] = [];
  for (const t of btf.ownTypes()) out.push(formatRawType(btf, t));
  return out.length ? out.join('\n') + '\n' : '';
}

/** One type as `bpftool -j btf dump` shows it. */
export function rawTypeJson(btf: Btf, t: BtfType): { [key: string]: BtfJson } {
  const o: { [key: string]: BtfJson } = { id: t.id, kind: KIND_LABEL[t.kind], name: anon(t.name) };
  switch (t.kind) {
    case 'int':
      return { ...o, size: t.size, bits_offset: t.bitOffset, nr_bits: t.bits, encoding: intEncoding(t) };
    case 'ptr': case 'const': case 'volatile': case 'restrict': case 'typedef': case 'type_tag':
      return { ...o, type_id: t.type };
    case 'array':
      return { ...o, type_id: t.elemType, index_type_id: t.indexType, nr_elems: t.nelems };
    case 'struct': case 'union':
      return {
        ...o, size: t.size, vlen: t.members.length,
        members: t.members.map((m) => ({ name: anon(m.name), type_id: m.type, bits_offset: m.bitOffset, ...(m.bitfieldSize ? { bitfield_size: m.bitfieldSize } : {}) })),
      };
    case 'enum': case 'enum64':
      return {
        ...o, encoding: t.signed ? 'SIGNED' : 'UNSIGNED', size: t.size, vlen: t.values.length,
        values: t.values.map((v) => ({ name: anon(v.name), val: typeof v.value === 'bigint' && v.value >= -(2n ** 53n) && v.value <= 2n ** 53n ? Number(v.value) : v.value })),
      };
    case 'fwd':
      return { ...o, fwd_kind: t.union ? 'union' : 'struct' };
    case 'func': case 'var':
      return { ...o, type_id: t.type, linkage: t.linkage };
    case 'func_proto':
      return { ...o, ret_type_id: t.returnType, vlen: t.params.length, params: t.params.map((p) => ({ name: anon(p.name), type_id: p.type })) };
    case 'datasec':
      return { ...o, size: t.size, vlen: t.vars.length, vars: t.vars.map((v) => ({ type_id: v.type, offset: v.offset, size: v.size })) };
    case 'float':
      return { ...o, size: t.size };
    case 'decl_tag':
      return { ...o, type_id: t.type, component_idx: t.componentIdx };
    case 'void':
      return o;
  }
}

/** `{"types": [...]}` as `bpftool -j btf dump file X` prints it. */
export function formatRawJson(btf: Btf): { types: BtfJson[] } {
  const types: BtfJson[] = [];
  for (const t of btf.ownTypes()) types.push(rawTypeJson(btf, t));
  return { types };
}
