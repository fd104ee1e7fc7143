/**
 * BTF types printed as C: declarators (`int (*handlers[4])(struct sk_buff *)`),
 * struct, union and enum bodies with explicit padding where the layout is
 * not the natural one, and names made unique the way bpftool does
 * (`foo___2` for a second, different `struct foo`).
 */
import { BtfError } from './errors.js';
import type { Btf } from './spec.js';
import type { BtfComposite, BtfEnum, BtfEnum64, BtfType } from './types.js';

export interface CPrinterOptions {
  /** Indentation unit (default a tab, like bpftool). */
  readonly indent?: string;
}

export class CPrinter {
  // Arrays by id rather than Maps: the kernel's BTF has 100k+ types.
  private readonly names: (string | undefined)[];
  /** Renamed values (`X___2`) of enums that have any, by enum id and value index. */
  private readonly enumValueNames = new Map<number, (string | undefined)[]>();
  private readonly indentUnit: string;
  private readonly indents: string[] = [];
  /** alignOf results by id (0: not computed yet). */
  private readonly aligns: Uint8Array;

  constructor(readonly btf: Btf, options: CPrinterOptions = {}) {
    this.indentUnit = options.indent ?? '\t';
    this.names = new Array(btf.typeCount);
    this.aligns = new Uint8Array(btf.typeCount);
    this.assignNames();
  }

  /** Give every named struct, union, enum and typedef a unique C name, in id order. */
  private assignNames(): void {
    const tags = new Map<string, number>();
    const idents = new Map<string, number>();
    const structNames = new Set<string>();
    for (const t of this.btf.types()) if ((t.kind === 'struct' || t.kind === 'union') && t.name) structNames.add(`${t.kind} ${t.name}`);
    for (const t of this.btf.types()) {
      if (!t.name) {
        if (t.kind === 'enum' || t.kind === 'enum64') this.nameEnumValues(t, idents);
        continue;
      }
      switch (t.kind) {
        case 'struct': case 'union': case 'enum': case 'enum64': {
          const n = (tags.get(t.name) ?? 0) + 1;
          tags.set(t.name, n);
          this.names[t.id] = n === 1 ? t.name : `${t.name}___${n}`;
          if (t.kind === 'enum' || t.kind === 'enum64') this.nameEnumValues(t, idents);
          break;
        }
        case 'fwd':
          // A forward declaration of a defined struct refers to that struct.
          if (structNames.has(`${t.union ? 'union' : 'struct'} ${t.name}`)) this.names[t.id] = t.name;
          else {
            const n = (tags.get(t.name) ?? 0) + 1;
            tags.set(t.name, n);
            this.names[t.id] = n === 1 ? t.name : `${t.name}___${n}`;
          }
          break;
        case 'typedef': {
          const n = (idents.get(t.name) ?? 0) + 1;
          idents.set(t.name, n);
          this.names[t.id] = n === 1 ? t.name : `${t.name}___${n}`;
          break;
        }
        default:
          this.names[t.id] = t.name;
      }
    }
  }

  private nameEnumValues(t: BtfEnum | BtfEnum64, idents: Map<string, number>): void {
    t.values.forEach((v, i) => {
      const n = (idents.get(v.name) ?? 0) + 1;
      idents.set(v.name, n);
      if (n > 1) {
        let renamed = this.enumValueNames.get(t.id);
        if (!renamed) this.enumValueNames.set(t.id, (renamed = []));
        renamed[i] = `${v.name}___${n}`;
      }
    });
  }

  /** The unique C name of a named type. */
  nameOf(id: number): string {
    return this.names[id] ?? this.btf.type(id).name;
  }

  private ind(level: number): string {
    return (this.indents[level] ??= this.indentUnit.repeat(level));
  }

  /** A declaration of `name` with type `id` (no trailing semicolon); name may be empty for an abstract type. */
  declaration(id: number, name = '', level = 0): string {
    return this.decl(id, name, level, 0);
  }

  private decl(id: number, inner: string, level: number, depth: number): string {
    if (depth > 256) throw new BtfError('type chain too deep', 0, id);
    const t = this.btf.type(id);
    switch (t.kind) {
      case 'void': return withName('void', inner);
      case 'int': case 'float': return withName(t.name, inner);
      case 'struct': case 'union':
        return withName(t.name ? `${t.kind} ${this.nameOf(id)}` : this.compositeBody(t, level), inner);
      case 'enum': case 'enum64':
        return withName(t.name ? `enum ${this.nameOf(id)}` : this.enumBody(t, level), inner);
      case 'fwd': return withName(`${t.union ? 'union' : 'struct'} ${this.nameOf(id)}`, inner);
      case 'typedef': return withName(this.nameOf(id), inner);
      case 'ptr': return this.decl(t.type, `*${inner}`, level, depth + 1);
      case 'type_tag': return this.decl(t.type, inner, level, depth + 1);
      case 'const': case 'volatile': case 'restrict': {
        let target = this.btf.type(t.type);
        while (target.kind === 'type_tag') target = this.btf.type(target.type);
        if (target.kind === 'ptr') return this.decl(t.type, inner ? `${t.kind} ${inner}` : t.kind, level, depth + 1);
        const rest = this.decl(t.type, inner, level, depth + 1);
        return rest.startsWith(`${t.kind} `) ? rest : `${t.kind} ${rest}`;
      }
      case 'array': {
        const wrapped = inner.startsWith('*') ? `(${inner})` : inner;
        return this.decl(t.elemType, `${wrapped}[${t.nelems}]`, level, depth + 1);
      }
      case 'func_proto': {
        const wrapped = inner.startsWith('*') ? `(${inner})` : inner;
        return this.decl(t.returnType, `${wrapped}(${this.params(t.params, level)})`, level, depth + 1);
      }
      case 'func': {
        const proto = this.btf.type(t.type);
        if (proto.kind !== 'func_proto') throw new BtfError(`function '${t.name}' has a ${proto.kind} type`, 0, id);
        return this.decl(proto.returnType, `${inner || t.name}(${this.params(proto.params, level, true)})`, level, depth + 1);
      }
      case 'var': return this.decl(t.type, inner || t.name, level, depth + 1);
      case 'datasec': case 'decl_tag':
        throw new BtfError(`a ${t.kind} is not a C type`, 0, id);
    }
  }

  private params(params: readonly { name: string; type: number }[], level: number, named = false): string {
    if (params.length === 0) return 'void';
    return params
      .map((p, i) => (p.type === 0 && i === params.length - 1 ? '...' : this.decl(p.type, named ? p.name : '', level, 1)))
      .join(', ');
  }

  /** Natural alignment in bytes. */
  alignOf(id: number, depth = 0): number {
    const known = this.aligns[id];
    if (known !== 0) return known;
    const a = this.computeAlign(id, depth);
    this.aligns[id] = a;
    return a;
  }

  private computeAlign(id: number, depth: number): number {
    if (depth > 256) throw new BtfError('type chain too deep', 0, id);
    const t = this.btf.type(id);
    switch (t.kind) {
      case 'int': case 'float': case 'enum': case 'enum64': return Math.min(Math.max(t.size, 1), 8);
      case 'ptr': return 8;
      case 'array': return this.alignOf(t.elemType, depth + 1);
      case 'struct': case 'union': {
        if (this.isPacked(t)) return 1;
        let a = 1;
        for (const m of t.members) a = Math.max(a, this.alignOf(m.type, depth + 1));
        return a;
      }
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': return this.alignOf(t.type, depth + 1);
      default: return 1;
    }
  }

  private packedCache = new Map<number, boolean>();

  /** Whether a struct's recorded layout needs __attribute__((packed)). */
  isPacked(t: BtfComposite<'struct' | 'union'>): boolean {
    let p = this.packedCache.get(t.id);
    if (p !== undefined) return p;
    this.packedCache.set(t.id, false);
    let maxAlign = 1;
    p = false;
    for (const m of t.members) {
      const a = this.alignOf(m.type);
      maxAlign = Math.max(maxAlign, a);
      if (m.bitfieldSize === 0 && m.bitOffset % (a * 8) !== 0) p = true;
    }
    if (t.size % maxAlign !== 0) p = true;
    this.packedCache.set(t.id, p);
    return p;
  }

  /** `struct name { ... }` or an anonymous body, with its members. */
  compositeBody(t: BtfComposite<'struct' | 'union'>, level: number): string {
    const head = t.name ? `${t.kind} ${this.nameOf(t.id)}` : t.kind;
    if (t.members.length === 0 && t.size === 0) return `${head} {}`;
    const packed = this.isPacked(t);
    const lines: string[] = [];
    const ind = this.ind(level + 1);
    let cur = 0; // bits laid out so far
    let padCount = 0;
    const pad = (to: number): void => {
      // Anonymous bitfields fill space without adding members (as bpftool
      // does); only a huge gap becomes a named byte array, to stay small.
      if (to - cur > 4096) {
        while (cur % 8 !== 0) {
          const w = 8 - (cur % 8);
          lines.push(`${ind}char: ${w};`);
          cur += w;
        }
        const bytes = Math.floor((to - cur) / 8);
        lines.push(`${ind}char __pad${padCount++}[${bytes}];`);
        cur += bytes * 8;
      }
      while (cur < to) {
        const gap = to - cur;
        let w: number;
        let ty: string;
        if (cur % 64 === 0 && gap >= 64) { w = 64; ty = 'long'; }
        else if (cur % 32 === 0 && gap >= 32) { w = 32; ty = 'int'; }
        else { w = Math.min(gap, 8 - (cur % 8)); ty = 'char'; }
        lines.push(`${ind}${ty}: ${w};`);
        cur += w;
      }
    };
    for (const m of t.members) {
      if (t.kind === 'struct') {
        if (m.bitfieldSize === 0) {
          const a = packed ? 8 : this.alignOf(m.type) * 8;
          const natural = Math.ceil(cur / a) * a;
          if (m.bitOffset > natural) pad(m.bitOffset);
        } else if (m.bitOffset > cur) {
          pad(m.bitOffset);
        }
      }
      const d = this.decl(m.type, m.name, level + 1, 0);
      lines.push(`${ind}${d}${m.bitfieldSize ? `: ${m.bitfieldSize}` : ''};`);
      if (t.kind === 'struct') {
        cur = m.bitOffset + (m.bitfieldSize || this.safeSize(m.type) * 8);
      }
    }
    if (t.kind === 'struct') {
      const align = packed ? 8 : this.alignOf(t.id) * 8;
      if (Math.ceil(cur / align) * align < t.size * 8) pad(t.size * 8);
    }
    return `${head} {\n${lines.join('\n')}\n${this.ind(level)}}${packed ? ' __attribute__((packed))' : ''}`;
  }

  private safeSize(id: number): number {
    try {
      return this.btf.sizeof(id);
    } catch {
      return 0;
    }
  }

  enumBody(t: BtfEnum | BtfEnum64, level: number): string {
    const head = t.name ? `enum ${this.nameOf(t.id)}` : 'enum';
    const ind = this.ind(level + 1);
    const renamed = this.enumValueNames.get(t.id);
    const lines = t.values.map((v, i) => {
      const name = renamed?.[i] ?? v.name;
      let value: string;
      if (t.kind === 'enum64') value = `${v.value}${t.signed ? 'LL' : 'ULL'}`;
      else value = String(v.value);
      return `${ind}${name} = ${value},`;
    });
    // A packed enum (size 1 or 2) keeps its size with mode(), as bpftool does.
    const mode = t.size === 1 ? ' __attribute__((mode(byte)))' : t.size === 2 ? ' __attribute__((mode(word)))' : '';
    return `${head} {\n${lines.join('\n')}\n${this.ind(level)}}${mode}`;
  }

  /** A whole top-level definition of a named type (struct, union, enum, typedef), with semicolon. */
  definition(id: number): string {
    const t = this.btf.type(id);
    switch (t.kind) {
      case 'struct': case 'union': return `${this.compositeBody(t, 0)};`;
      case 'enum': case 'enum64': return `${this.enumBody(t, 0)};`;
      case 'typedef': return `typedef ${this.decl(t.type, this.nameOf(id), 0, 0)};`;
      case 'fwd': return `${t.union ? 'union' : 'struct'} ${this.nameOf(id)};`;
      case 'func': return `${this.decl(id, '', 0, 0)};`;
      case 'var': return `extern ${this.decl(t.type, t.name, 0, 0)};`;
      default: return `${this.decl(id, '', 0, 0)};`;
    }
  }
}

/** `base name`, or `base` alone for an abstract declarator. */
function withName(base: string, inner: string): string {
  return inner ? `${base} ${inner}` : base;
}

/** One type as C: a definition for named structs, unions, enums and typedefs, else a type name. */
export function formatCType(btf: Btf, id: number): string {
  const p = new CPrinter(btf);
  const t: BtfType = btf.type(id);
  if ((t.kind === 'struct' || t.kind === 'union' || t.kind === 'enum' || t.kind === 'enum64' || t.kind === 'typedef' || t.kind === 'func' || t.kind === 'var')) return p.definition(id);
  return p.declaration(id);
}
