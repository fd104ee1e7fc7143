/**
 * CO-RE (compile once, run everywhere) relocations, computed against a
 * target BTF (usually the running kernel's) the way libbpf's relo_core.c
 * does: parse the access string against the local type, find target
 * candidates by "essential" name (without a `___flavour` suffix), match
 * fields by name through anonymous members, and compute the value for
 * both sides. Relocations that cannot be satisfied are poisoned
 * (existence checks just yield 0). No kernel access: the target is data.
 */
import { BpfkitError } from '../errors/index.js';
import { BtfError } from './errors.js';
import type { CoreReloKind } from './ext.js';
import type { Btf } from './spec.js';
import type { BtfType } from './types.js';

/** A CO-RE relocation that cannot be computed (bad access string, ambiguous candidates...). */
export class CoreError extends BpfkitError {
  readonly code = 'BTF_CORE';
  constructor(readonly reason: string, options?: ErrorOptions) {
    super(`CO-RE: ${reason}`, options);
  }
}

export interface CoreRelocationInput {
  readonly typeId: number;
  readonly accessStr: string;
  readonly kind: CoreReloKind;
}

export interface CoreRelocationResult {
  /** Value the compiler put in the instruction (computed on the local BTF). */
  readonly localValue: bigint;
  /** Value for the target; meaningless when poisoned. */
  readonly targetValue: bigint;
  /** No target matches and the relocation needs one: the instruction must fail verification. */
  readonly poison: boolean;
  /** Byte size of the field on each side (field byte offset relocations of non-bitfields; else 0). */
  readonly localSize: number;
  readonly targetSize: number;
  /**
   * Whether the instruction must hold localValue. Off for bitfields, where
   * the compiler's choice of load may differ from libbpf's (as in libbpf).
   */
  readonly validate: boolean;
  /** Target type id that matched (0 if none). */
  readonly targetTypeId: number;
  /** Human-readable description, in libbpf's words: `<byte_off> [10] struct task_struct.pid`. */
  readonly description: string;
}

const FIELD_KINDS: ReadonlySet<CoreReloKind> = new Set(['field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64']);
const TYPE_KINDS: ReadonlySet<CoreReloKind> = new Set(['type_id_local', 'type_id_target', 'type_exists', 'type_size', 'type_matches']);
const KIND_LABEL: Record<CoreReloKind, string> = {
  field_byte_offset: 'byte_off', field_byte_size: 'byte_sz', field_exists: 'field_exists', field_signed: 'signed',
  field_lshift_u64: 'lshift_u64', field_rshift_u64: 'rshift_u64', type_id_local: 'local_type_id', type_id_target: 'target_type_id',
  type_exists: 'type_exists', type_size: 'type_size', enumval_exists: 'enumval_exists', enumval_value: 'enumval_value', type_matches: 'type_matches',
};

interface Accessor {
  /** Type the accessor indexes into (struct/union/array parent), or the root for the first. */
  readonly typeId: number;
  readonly idx: number;
  /** Member or enumerator name; '' for array indexing. */
  readonly name: string;
}

interface Spec {
  readonly btf: Btf;
  readonly rootId: number;
  readonly accessors: Accessor[];
  /** Raw indices including anonymous members (the target's path). */
  readonly raw: number[];
  readonly bitOffset: number;
}

/** The name up to a `___flavour` suffix. */
export function essentialName(name: string): string {
  const i = name.indexOf('___');
  return i > 0 ? name.slice(0, i) : name;
}

function skipModsAndTypedefs(btf: Btf, id: number): { id: number; t: BtfType } {
  let t = btf.type(id);
  for (let d = 0; t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag'; d++) {
    if (d > 64) throw new BtfError('modifier loop', 0, id);
    id = t.type;
    t = btf.type(id);
  }
  return { id, t };
}

function isComposite(t: BtfType): t is Extract<BtfType, { kind: 'struct' | 'union' }> {
  return t.kind === 'struct' || t.kind === 'union';
}

function parseAccess(accessStr: string): number[] {
  if (!/^\d+(:\d+)*$/.test(accessStr)) throw new CoreError(`malformed access string '${accessStr}'`);
  return accessStr.split(':').map(Number);
}

function parseSpec(btf: Btf, relo: CoreRelocationInput): Spec {
  const raw = parseAccess(relo.accessStr);
  const rootId = relo.typeId;
  if (TYPE_KINDS.has(relo.kind)) {
    if (raw.length !== 1 || raw[0] !== 0) throw new CoreError(`type relocation with access string '${relo.accessStr}'`);
    return { btf, rootId, accessors: [], raw, bitOffset: 0 };
  }
  if (relo.kind === 'enumval_exists' || relo.kind === 'enumval_value') {
    const { t } = skipModsAndTypedefs(btf, rootId);
    if ((t.kind !== 'enum' && t.kind !== 'enum64') || raw.length !== 1 || raw[0] >= t.values.length) throw new CoreError(`bad enum relocation '${relo.accessStr}' on [${rootId}]`);
    return { btf, rootId, accessors: [{ typeId: rootId, idx: raw[0], name: t.values[raw[0]].name }], raw, bitOffset: 0 };
  }
  // Field: the first index steps over the root as over an array.
  let id = rootId;
  const accessors: Accessor[] = [{ typeId: rootId, idx: raw[0], name: '' }];
  let bitOffset = raw[0] * safeSize(btf, rootId) * 8;
  for (let i = 1; i < raw.length; i++) {
    const s = skipModsAndTypedefs(btf, id);
    id = s.id;
    const t = s.t;
    if (isComposite(t)) {
      const m = t.members[raw[i]];
      if (!m) throw new CoreError(`member index ${raw[i]} out of range in [${id}] ${t.name}`);
      bitOffset += m.bitOffset;
      if (m.name) accessors.push({ typeId: id, idx: raw[i], name: m.name });
      id = m.type;
    } else if (t.kind === 'array') {
      const e = skipModsAndTypedefs(btf, t.elemType);
      if (raw[i] >= t.nelems && !(t.nelems === 0 || i === raw.length - 1)) throw new CoreError(`array index ${raw[i]} out of range`);
      accessors.push({ typeId: e.id, idx: raw[i], name: '' });
      bitOffset += raw[i] * safeSize(btf, e.id) * 8;
      id = e.id;
    } else {
      throw new CoreError(`access '${relo.accessStr}' steps into a ${t.kind}`);
    }
  }
  return { btf, rootId, accessors, raw, bitOffset };
}

function safeSize(btf: Btf, id: number): number {
  try {
    return btf.sizeof(id);
  } catch (e) {
    throw new CoreError(`type [${id}] has no size`, { cause: e });
  }
}

/** libbpf's bpf_core_fields_are_compat: may a local field be read as the target's? */
function fieldsCompatible(local: Btf, lid: number, target: Btf, tid: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = skipModsAndTypedefs(local, lid).t;
  const t = skipModsAndTypedefs(target, tid).t;
  if ((isComposite(l) || l.kind === 'fwd') && (isComposite(t) || t.kind === 'fwd')) return true;
  const lEnum = l.kind === 'enum' || l.kind === 'enum64';
  const tEnum = t.kind === 'enum' || t.kind === 'enum64';
  if (lEnum && tEnum) return true;
  if (l.kind !== t.kind) return false;
  switch (l.kind) {
    case 'fwd': case 'float': case 'ptr': return true;
    case 'int': return t.kind === 'int' && l.bitOffset === 0 && t.bitOffset === 0;
    case 'array': return t.kind === 'array' && fieldsCompatible(local, l.elemType, target, t.elemType, depth + 1);
    default: return false;
  }
}

/** libbpf's bpf_core_types_are_compat (used for type-based relocations). */
function typesCompatible(local: Btf, lid: number, target: Btf, tid: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = skipModsAndTypedefs(local, lid).t;
  const t = skipModsAndTypedefs(target, tid).t;
  const lEnum = l.kind === 'enum' || l.kind === 'enum64';
  const tEnum = t.kind === 'enum' || t.kind === 'enum64';
  if (lEnum && tEnum) return true;
  if (l.kind !== t.kind) return false;
  switch (l.kind) {
    case 'struct': case 'union': case 'fwd': case 'float': case 'void': return true;
    case 'int': return t.kind === 'int' && l.bitOffset === 0 && t.bitOffset === 0;
    case 'ptr': return t.kind === 'ptr' && typesCompatible(local, l.type, target, t.type, depth + 1);
    case 'array': return t.kind === 'array' && typesCompatible(local, l.elemType, target, t.elemType, depth + 1);
    case 'func_proto': {
      if (t.kind !== 'func_proto' || l.params.length !== t.params.length) return false;
      for (let i = 0; i < l.params.length; i++) if (!typesCompatible(local, l.params[i].type, target, t.params[i].type, depth + 1)) return false;
      return typesCompatible(local, l.returnType, target, t.returnType, depth + 1);
    }
    default: return false;
  }
}

/** Find member `name` in a target composite, descending into anonymous members; returns the raw index path and bit offset. */
function findMember(btf: Btf, id: number, name: string, depth = 0): { path: number[]; bitOffset: number; memberType: number; parent: number; idx: number } | undefined {
  if (depth > 32) return undefined;
  const { id: cid, t } = skipModsAndTypedefs(btf, id);
  if (!isComposite(t)) return undefined;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i];
    if (m.name) {
      if (m.name === name) return { path: [i], bitOffset: m.bitOffset, memberType: m.type, parent: cid, idx: i };
    } else {
      const inner = findMember(btf, m.type, name, depth + 1);
      if (inner) return { ...inner, path: [i, ...inner.path], bitOffset: m.bitOffset + inner.bitOffset };
    }
  }
  return undefined;
}

/** Match a local spec against target type `targetId`; undefined if it does not match. */
function matchSpec(local: Spec, target: Btf, targetId: number, kind: CoreReloKind): Spec | undefined {
  if (TYPE_KINDS.has(kind)) {
    return typesCompatible(local.btf, local.rootId, target, targetId) ? { btf: target, rootId: targetId, accessors: [], raw: [0], bitOffset: 0 } : undefined;
  }
  if (kind === 'enumval_exists' || kind === 'enumval_value') {
    const { t } = skipModsAndTypedefs(target, targetId);
    if (t.kind !== 'enum' && t.kind !== 'enum64') return undefined;
    const want = essentialName(local.accessors[0].name);
    const idx = t.values.findIndex((v) => essentialName(v.name) === want);
    return idx < 0 ? undefined : { btf: target, rootId: targetId, accessors: [{ typeId: targetId, idx, name: t.values[idx].name }], raw: [idx], bitOffset: 0 };
  }
  let id = targetId;
  const first = local.accessors[0];
  const accessors: Accessor[] = [{ typeId: targetId, idx: first.idx, name: '' }];
  const raw = [first.idx];
  let bitOffset = first.idx * safeSize(target, targetId) * 8;
  for (let i = 1; i < local.accessors.length; i++) {
    const la = local.accessors[i];
    const s = skipModsAndTypedefs(target, id);
    if (la.name) {
      if (!isComposite(s.t)) return undefined;
      const m = findMember(target, s.id, la.name);
      if (!m) return undefined;
      const lt = local.btf.type(la.typeId);
      const lm = isComposite(lt) ? lt.members[la.idx] : undefined;
      if (!lm || !fieldsCompatible(local.btf, lm.type, target, m.memberType)) return undefined;
      accessors.push({ typeId: m.parent, idx: m.idx, name: la.name });
      raw.push(...m.path);
      bitOffset += m.bitOffset;
      id = m.memberType;
    } else {
      if (s.t.kind !== 'array') return undefined;
      const e = skipModsAndTypedefs(target, s.t.elemType);
      const flex = s.t.nelems === 0 && i === local.accessors.length - 1;
      if (!flex && la.idx >= s.t.nelems) return undefined;
      accessors.push({ typeId: e.id, idx: la.idx, name: '' });
      raw.push(la.idx);
      bitOffset += la.idx * safeSize(target, e.id) * 8;
      id = e.id;
    }
  }
  return { btf: target, rootId: targetId, accessors, raw, bitOffset };
}

interface Calc {
  value: bigint;
  size: number;
  poison: boolean;
  bitfield?: boolean;
}

function calcField(spec: Spec | undefined, kind: CoreReloKind, littleEndian: boolean): Calc {
  if (kind === 'field_exists') return { value: spec ? 1n : 0n, size: 0, poison: false };
  if (!spec) return { value: 0n, size: 0, poison: true };
  const acc = spec.accessors[spec.accessors.length - 1];
  const btf = spec.btf;
  if (!acc.name) {
    const sz = safeSize(btf, acc.typeId);
    if (kind === 'field_byte_offset') return { value: BigInt(spec.bitOffset / 8), size: sz, poison: false };
    if (kind === 'field_byte_size') return { value: BigInt(sz), size: 0, poison: false };
    throw new CoreError(`${kind} on an array element`);
  }
  const parent = btf.type(acc.typeId);
  if (!isComposite(parent)) throw new CoreError('field accessor on a non-composite');
  const m = parent.members[acc.idx];
  const mt = skipModsAndTypedefs(btf, m.type).t;
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = safeSize(btf, m.type);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new CoreError('bitfield does not fit a 64-bit load');
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = safeSize(btf, m.type);
    byteOff = bitOff / 8;
    bitSz = byteSz * 8;
  }
  switch (kind) {
    case 'field_byte_offset': return { value: BigInt(byteOff), size: bitfield ? 0 : byteSz, poison: false, bitfield };
    case 'field_byte_size': return { value: BigInt(byteSz), size: 0, poison: false, bitfield };
    case 'field_signed': {
      const signed = ((mt.kind === 'enum' || mt.kind === 'enum64') && mt.signed) || (mt.kind === 'int' && mt.signed);
      return { value: signed ? 1n : 0n, size: 0, poison: false, bitfield };
    }
    case 'field_lshift_u64':
      return { value: BigInt(littleEndian ? 64 - (bitOff + bitSz - byteOff * 8) : (8 - byteSz) * 8 + (bitOff - byteOff * 8)), size: 0, poison: false, bitfield };
    case 'field_rshift_u64': return { value: BigInt(64 - bitSz), size: 0, poison: false, bitfield };
    default: throw new CoreError(`${kind} is not a field relocation`);
  }
}

function calcType(spec: Spec | undefined, kind: CoreReloKind, localRoot: number): Calc {
  switch (kind) {
    case 'type_id_local': return { value: BigInt(localRoot), size: 0, poison: false };
    case 'type_id_target': return { value: spec ? BigInt(spec.rootId) : 0n, size: 0, poison: false };
    case 'type_exists': case 'type_matches': return { value: spec ? 1n : 0n, size: 0, poison: false };
    case 'type_size': return spec ? { value: BigInt(safeSize(spec.btf, spec.rootId)), size: 0, poison: false } : { value: 0n, size: 0, poison: true };
    default: throw new CoreError(`${kind} is not a type relocation`);
  }
}

function calcEnum(spec: Spec | undefined, kind: CoreReloKind): Calc {
  if (kind === 'enumval_exists') return { value: spec ? 1n : 0n, size: 0, poison: false };
  if (!spec) return { value: 0n, size: 0, poison: true };
  const { t } = skipModsAndTypedefs(spec.btf, spec.rootId);
  if (t.kind !== 'enum' && t.kind !== 'enum64') throw new CoreError('enum relocation on a non-enum');
  return { value: BigInt(t.values[spec.accessors[0].idx].value), size: 0, poison: false };
}

function calc(spec: Spec | undefined, kind: CoreReloKind, localRoot: number, littleEndian: boolean): Calc {
  if (FIELD_KINDS.has(kind)) return calcField(spec, kind, littleEndian);
  if (TYPE_KINDS.has(kind)) return calcType(spec, kind, localRoot);
  return calcEnum(spec, kind);
}

const candidateCache = new WeakMap<Btf, Map<string, number[]>>();

/**
 * Target types whose essential name is `name`, ascending: `name` itself and
 * `name___flavour`s. Found by name lookups rather than an index of every
 * type, so a CO-RE load does not decode the whole kernel BTF; cached per
 * target and name.
 */
function candidates(target: Btf, name: string): number[] {
  let cache = candidateCache.get(target);
  if (!cache) candidateCache.set(target, (cache = new Map()));
  let ids = cache.get(name);
  if (!ids) {
    const flavoured = target.idsByNamePrefix(`${name}___`).filter((id) => essentialName(target.type(id).name) === name);
    ids = [...new Set([...target.idsByName(name), ...flavoured])].sort((x, y) => x - y);
    cache.set(name, ids);
  }
  return ids;
}

function describe(spec: Spec, kind: CoreReloKind): string {
  const root = spec.btf.type(spec.rootId);
  const kw = root.kind === 'struct' || root.kind === 'union' ? `${root.kind} ` : root.kind === 'enum' || root.kind === 'enum64' ? 'enum ' : '';
  let s = `<${KIND_LABEL[kind]}> [${spec.rootId}] ${kw}${root.name}`;
  if (kind === 'enumval_exists' || kind === 'enumval_value') s += `::${spec.accessors[0].name}`;
  else if (FIELD_KINDS.has(kind)) s += spec.accessors.slice(1).map((a) => (a.name ? `.${a.name}` : `[${a.idx}]`)).join('');
  return s;
}

/** Compute one relocation: the local and target values, or a poison verdict. */
export function resolveCoreRelocation(local: Btf, target: Btf, relo: CoreRelocationInput): CoreRelocationResult {
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof BtfError) throw new CoreError(`[${relo.typeId}] '${relo.accessStr}': ${e.message}`, { cause: e });
      throw e;
    }
  };
  return wrap(() => {
    const localSpec = parseSpec(local, relo);
    const localCalc = calc(localSpec, relo.kind, relo.typeId, local.littleEndian);
    const description = describe(localSpec, relo.kind);
    if (relo.kind === 'type_id_local') {
      return { localValue: localCalc.value, targetValue: localCalc.value, poison: false, localSize: 0, targetSize: 0, validate: true, targetTypeId: 0, description };
    }
    const root = local.type(relo.typeId);
    if (!root.name) throw new CoreError(`relocation on anonymous type [${relo.typeId}]`);
    const family = (k: BtfType['kind']): string => (k === 'enum64' ? 'enum' : k);
    let chosen: { spec: Spec; calc: Calc } | undefined;
    for (const cid of candidates(target, essentialName(root.name))) {
      const ct = target.type(cid);
      if (family(ct.kind) !== family(root.kind)) continue;
      const m = matchSpec(localSpec, target, cid, relo.kind);
      if (!m) continue;
      const c = calc(m, relo.kind, relo.typeId, target.littleEndian);
      if (!chosen) chosen = { spec: m, calc: c };
      else if (chosen.calc.value !== c.value || chosen.calc.poison !== c.poison) {
        throw new CoreError(`${description}: ambiguous, candidates [${chosen.spec.rootId}] and [${cid}] give ${chosen.calc.value} and ${c.value}`);
      }
    }
    const targetCalc = chosen?.calc ?? calc(undefined, relo.kind, relo.typeId, target.littleEndian);
    return {
      localValue: localCalc.value, targetValue: targetCalc.value, poison: targetCalc.poison,
      localSize: localCalc.size, targetSize: targetCalc.size, validate: !localCalc.bitfield, targetTypeId: chosen?.spec.rootId ?? 0, description,
    };
  });
}
