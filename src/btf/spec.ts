import { BtfError } from './errors.js';
import { type BtfType, isModifier } from './types.js';
import { decodeType, indexTypes, readHeader, type StringSource } from './wire.js';

const VOID: BtfType = { kind: 'void', id: 0, name: '' };
const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');

/**
 * A parsed BTF blob: base BTF (vmlinux, an object's .BTF) or split BTF
 * (a kernel module's, whose ids and string offsets continue its base's).
 * Parsing indexes the records; each type is decoded the first time it is
 * asked for, so loading the kernel's whole BTF stays cheap.
 */
export class Btf implements StringSource {
  readonly littleEndian: boolean;
  /** Id of this blob's first type (1, or the base's type count for split BTF). */
  readonly firstId: number;
  private readonly view: DataView;
  private readonly typeStart: number;
  private readonly strStart: number;
  private readonly strLen: number;
  private readonly strOffsetBase: number;
  private readonly offsets: Uint32Array;
  private readonly cache: (BtfType | undefined)[];
  private readonly strCache = new Map<number, string>();
  private nameIndex: Map<string, number[]> | undefined;
  /** Own types by the absolute string offset of their name: cheaper to build than a Map of strings. */
  private offsetIndex: Map<number, number[]> | undefined;
  /** Types replaced by fixups (e.g. datasec sizes an ELF loader fills in). */
  private readonly overrides = new Map<number, BtfType>();

  private constructor(readonly bytes: Uint8Array, readonly base: Btf | undefined) {
    const h = readHeader(bytes);
    this.littleEndian = h.littleEndian;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.typeStart = h.hdrLen + h.typeOff;
    this.strStart = h.hdrLen + h.strOff;
    this.strLen = h.strLen;
    if (base) {
      this.firstId = base.typeCount;
      this.strOffsetBase = base.stringsLength;
    } else {
      this.firstId = 1;
      this.strOffsetBase = 0;
      if (h.strLen > 0 && bytes[this.strStart] !== 0) throw new BtfError('string section does not start with an empty string', this.strStart);
    }
    if (h.strLen > 0 && bytes[this.strStart + h.strLen - 1] !== 0) throw new BtfError('string section is not NUL-terminated', this.strStart + h.strLen - 1);
    this.offsets = indexTypes(this.view, this.typeStart, h.typeLen, h.littleEndian);
    this.cache = new Array(this.offsets.length);
  }

  /** Parse a BTF blob; `base` for split BTF (module BTF on top of vmlinux). */
  static parse(bytes: Uint8Array, base?: Btf): Btf {
    return new Btf(bytes, base);
  }

  /** Number of type ids in use, counting void and any base: valid ids are 0..typeCount-1. */
  get typeCount(): number {
    return this.firstId + this.offsets.length;
  }

  /** Length of the string section, counting the base's. */
  get stringsLength(): number {
    return this.strOffsetBase + this.strLen;
  }

  /** The string at `offset` in the (combined) string section. */
  string(offset: number, where = 0): string {
    if (offset < this.strOffsetBase) {
      if (!this.base) throw new BtfError(`string offset ${offset} is out of range`, where);
      return this.base.string(offset, where);
    }
    const rel = offset - this.strOffsetBase;
    if (rel >= this.strLen) throw new BtfError(`string offset ${offset} is outside the string section (${this.stringsLength} bytes)`, where);
    const text = this.asciiText();
    if (text !== undefined) return text.slice(rel, text.indexOf('\0', rel));
    let s = this.strCache.get(offset);
    if (s === undefined) {
      const start = this.strStart + rel;
      s = utf8.decode(this.bytes.subarray(start, this.bytes.indexOf(0, start)));
      this.strCache.set(offset, s);
    }
    return s;
  }

  private asciiChecked = false;
  private ascii: string | undefined;

  /**
   * The whole string section as one JS string when it is pure ASCII (the
   * usual case), so names are slices of it: much faster than decoding
   * each name, which matters for the kernel's 100k+ types.
   */
  private asciiText(): string | undefined {
    if (!this.asciiChecked) {
      this.asciiChecked = true;
      const sec = this.bytes.subarray(this.strStart, this.strStart + this.strLen);
      let ascii = true;
      for (let i = 0; i < sec.length; i++) {
        if (sec[i] >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) this.ascii = latin1.decode(sec);
    }
    return this.ascii;
  }

  /** The type with this id (0 is void). Throws BtfError for an id that does not exist. */
  type(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.firstId) {
      if (this.base && id > 0) return this.base.type(id);
      throw new BtfError(`type id ${id} does not exist`, 0, id);
    }
    const i = id - this.firstId;
    if (!(i < this.offsets.length)) throw new BtfError(`type id ${id} does not exist (${this.typeCount} types)`, 0, id);
    if (this.overrides.size > 0) {
      const o = this.overrides.get(id);
      if (o) return o;
    }
    let t = this.cache[i];
    if (!t) {
      t = decodeType(this.view, this.offsets[i], id, this.littleEndian, this);
      this.cache[i] = t;
    }
    return t;
  }

  /** Whether `id` names a type (of this blob or its base). */
  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.typeCount;
  }

  /** This blob's own types, in id order (not the base's, not void). */
  *ownTypes(): IterableIterator<BtfType> {
    for (let id = this.firstId; id < this.typeCount; id++) yield this.type(id);
  }

  /** All types by id, base first, void excluded. */
  *types(): IterableIterator<BtfType> {
    for (let id = 1; id < this.typeCount; id++) yield this.type(id);
  }

  /** Ids of the types called `name`, ascending (base first). */
  idsByName(name: string): readonly number[] {
    const own = this.ownIdsByString(name, false) ?? this.ownIndex().get(name) ?? [];
    return this.base ? [...this.base.idsByName(name), ...own] : own;
  }

  /** Ids of the types whose name starts with `prefix` (non-empty), ascending (base first). */
  idsByNamePrefix(prefix: string): readonly number[] {
    if (prefix === '') throw new BtfError('empty name prefix', 0);
    let own = this.ownIdsByString(prefix, true);
    if (!own) {
      own = [];
      for (const [n, ids] of this.ownIndex()) if (n.startsWith(prefix)) own.push(...ids);
      own.sort((a, b) => a - b);
    }
    return this.base ? [...this.base.idsByNamePrefix(prefix), ...own] : own;
  }

  /**
   * Own types named `name` (or starting with it), found by searching the
   * string sections for it and looking its offsets up; undefined when a
   * string section is not ASCII (the caller then uses the string index).
   * Own types may name strings of the base, so the base's offsets count.
   */
  private ownIdsByString(name: string, prefix: boolean): number[] | undefined {
    if (name === '') return prefix ? undefined : [];
    const offs: number[] = [];
    for (let b: Btf | undefined = this; b; b = b.base) {
      const found = b.stringOffsetsOf(name, prefix);
      if (!found) return undefined;
      offs.push(...found);
    }
    const index = this.ownOffsetIndex();
    const ids: number[] = [];
    for (const o of offs) {
      const list = index.get(o);
      if (list) ids.push(...list);
    }
    return ids.sort((a, b) => a - b);
  }

  /** Absolute offsets of the strings of this blob's own section equal to `name` (or starting with it). */
  private stringOffsetsOf(name: string, prefix: boolean): number[] | undefined {
    const text = this.asciiText();
    if (text === undefined) return undefined;
    const out: number[] = [];
    if (text.startsWith(prefix ? name : `${name}\0`)) out.push(this.strOffsetBase);
    const needle = prefix ? `\0${name}` : `\0${name}\0`;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) out.push(this.strOffsetBase + i + 1);
    return out;
  }

  private ownOffsetIndex(): Map<number, number[]> {
    if (!this.offsetIndex) {
      const m = new Map<number, number[]>();
      const le = this.littleEndian;
      for (let i = 0; i < this.offsets.length; i++) {
        const nameOff = this.view.getUint32(this.offsets[i], le);
        if (nameOff === 0) continue;
        const list = m.get(nameOff);
        if (list) list.push(this.firstId + i);
        else m.set(nameOff, [this.firstId + i]);
      }
      this.offsetIndex = m;
    }
    return this.offsetIndex;
  }

  /** Types called `name`, optionally of one kind. */
  findByName(name: string, kind?: BtfType['kind']): BtfType[] {
    const out = this.idsByName(name).map((id) => this.type(id));
    return kind ? out.filter((t) => t.kind === kind) : out;
  }

  private ownIndex(): Map<string, number[]> {
    if (!this.nameIndex) {
      const m = new Map<string, number[]>();
      const le = this.littleEndian;
      for (let i = 0; i < this.offsets.length; i++) {
        const nameOff = this.view.getUint32(this.offsets[i], le);
        if (nameOff === 0) continue;
        const n = this.string(nameOff, this.offsets[i]);
        const list = m.get(n);
        if (list) list.push(this.firstId + i);
        else m.set(n, [this.firstId + i]);
      }
      this.nameIndex = m;
    }
    return this.nameIndex;
  }

  /** Follow typedefs and qualifiers to the underlying type. */
  resolve(id: number): BtfType {
    let t = this.type(id);
    for (let depth = 0; isModifier(t); depth++) {
      if (depth > 64) throw new BtfError('reference loop', 0, id);
      t = this.type(t.type);
    }
    return t;
  }

  /** Size in bytes of a type (as sizeof in C). Throws for void, functions and unsized types. */
  sizeof(id: number): number {
    let t = this.type(id);
    let mult = 1;
    for (let depth = 0; ; depth++) {
      if (depth > 64) throw new BtfError('reference loop computing a size', 0, id);
      switch (t.kind) {
        case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'float': case 'datasec':
          return mult * t.size;
        case 'ptr':
          return mult * 8;
        case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'var':
          t = this.type(t.type);
          break;
        case 'array':
          mult *= t.nelems;
          t = this.type(t.elemType);
          break;
        default:
          throw new BtfError(`${t.kind} has no size`, 0, t.id);
      }
    }
  }

  /** Replace a type (used by the ELF loader to fill in datasec sizes and offsets). */
  override(t: BtfType): void {
    if (t.id < this.firstId || t.id >= this.typeCount) throw new BtfError(`cannot override type ${t.id}`, 0, t.id);
    this.overrides.set(t.id, t);
  }
}
