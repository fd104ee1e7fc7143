/**
 * A minimal WebAssembly binary encoder: just what the JIT emits (types,
 * imports, functions, globals, exports, code), written by hand so the core
 * keeps no dependency. See https://webassembly.github.io/spec/core/binary/.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;

/** Block type of a block, loop or if without parameters or results. */
export const VOID = 0x40;

/** Opcodes used by the translator (one-byte ones). */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i64_load: 0x29, f64_load: 0x2b, i32_load8_u: 0x2d, i32_load16_u: 0x2f,
  i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33, i64_load32_s: 0x34, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, f64_store: 0x39, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55, i64_gt_u: 0x56,
  i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70,
  i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e, i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82,
  i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88, i64_rotl: 0x89, i64_rotr: 0x8a,
  i32_wrap_i64: 0xa7, i64_trunc_f64_s: 0xb0, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad, f64_convert_i64_s: 0xb9,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
  /** Prefix of the bulk-memory operations (memory.fill is 0xfc 11). */
  prefix_fc: 0xfc,
} as const;

/**
 * A growable byte buffer with LEB128 writers. The translator calls these
 * methods tens of thousands of times per compile, mostly before V8 has
 * optimized them, so each opcode is written by one call that stores into
 * the buffer directly (few calls, no intermediate arrays).
 */
export class ByteWriter {
  protected buf: Uint8Array;
  length = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
  }

  bytes(data: Uint8Array): void {
    if (this.length + data.length > this.buf.length) this.grow(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  u32(v: number): void {
    this.opU32(-1, v);
  }

  s32(v: number): void {
    this.opS32(-1, v);
  }

  s64(v: bigint): void {
    v = BigInt.asIntN(64, v);
    if (v >= -0x80000000n && v <= 0x7fffffffn) {
      this.s32(Number(v));
      return;
    }
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }

  f64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.bytes(b);
  }

  name(s: string): void {
    let ascii = true;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) ascii = false;
    if (!ascii) {
      const data = new TextEncoder().encode(s);
      this.u32(data.length);
      this.bytes(data);
      return;
    }
    this.u32(s.length);
    if (this.length + s.length > this.buf.length) this.grow(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written, without a copy (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /**
   * Reserve a 5-byte u32 to fill in later with patchU32 (a section's or a
   * function body's size, known once it is written). Padded LEB128 is
   * valid wherever a u32 is.
   */
  reserveU32(): number {
    if (this.length + 5 > this.buf.length) this.grow(5);
    const at = this.length;
    this.length += 5;
    return at;
  }

  patchU32(at: number, v: number): void {
    const buf = this.buf;
    for (let i = 0; i < 4; i++) {
      buf[at + i] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at + 4] = v;
  }

  /** Opcode `o` (none when negative) then unsigned LEB128 `v`. */
  protected opU32(o: number, v: number): void {
    if (this.length + 6 > this.buf.length) this.grow(6);
    const buf = this.buf;
    let n = this.length;
    if (o >= 0) buf[n++] = o;
    v >>>= 0;
    while (v >= 0x80) {
      buf[n++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[n++] = v;
    this.length = n;
  }

  /** Opcode `o` (none when negative) then signed LEB128 `v`. */
  protected opS32(o: number, v: number): void {
    if (this.length + 6 > this.buf.length) this.grow(6);
    const buf = this.buf;
    let n = this.length;
    if (o >= 0) buf[n++] = o;
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        buf[n++] = b;
        break;
      }
      buf[n++] = b | 0x80;
    }
    this.length = n;
  }

  protected grow(extra: number): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

/** Code of one function body: instructions with typed immediates. */
export class Code extends ByteWriter {
  op(o: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = o;
  }
  localGet(i: number): void {
    this.opU32(Op.local_get, i);
  }
  localSet(i: number): void {
    this.opU32(Op.local_set, i);
  }
  localTee(i: number): void {
    this.opU32(Op.local_tee, i);
  }
  globalGet(i: number): void {
    this.opU32(Op.global_get, i);
  }
  globalSet(i: number): void {
    this.opU32(Op.global_set, i);
  }
  i32(v: number): void {
    this.opS32(Op.i32_const, v);
  }
  i64(v: bigint | number): void {
    if (typeof v === 'number' && (v | 0) === v) {
      this.opS32(Op.i64_const, v);
      return;
    }
    this.byte(Op.i64_const);
    this.s64(BigInt(v));
  }
  /** A load or store with its memarg (alignment hint 0: eBPF accesses may be unaligned). */
  mem(o: number, offset = 0): void {
    if (this.length + 7 > this.buf.length) this.grow(7);
    this.buf[this.length++] = o;
    this.opU32(0, offset);
  }
  call(f: number): void {
    this.opU32(Op.call, f);
  }
  br(depth: number): void {
    this.opU32(Op.br, depth);
  }
  brIf(depth: number): void {
    this.opU32(Op.br_if, depth);
  }
  block(o: typeof Op.block | typeof Op.loop | typeof Op.if, type: number = VOID): void {
    if (this.length + 2 > this.buf.length) this.grow(2);
    this.buf[this.length++] = o;
    this.buf[this.length++] = type;
  }
  /** memory.fill (dest, value, length on the stack). */
  memoryFill(): void {
    this.byte(Op.prefix_fc);
    this.u32(11);
    this.byte(0);
  }
  /** memory.copy (dest, source, length on the stack), within memory 0. */
  memoryCopy(): void {
    this.byte(Op.prefix_fc);
    this.u32(10);
    this.byte(0);
    this.byte(0);
  }
}

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface FunctionDef {
  readonly type: number;
  /** Local declarations after the parameters, as (count, type) runs. */
  readonly locals: readonly (readonly [number, ValType])[];
  readonly body: Code;
}

export interface GlobalDef {
  readonly type: ValType;
  readonly mutable: boolean;
  /** Initial value (i32 / i64 constant). */
  readonly init: number;
}

/**
 * A module under construction: imported functions come first in the
 * function index space, then defined ones.
 */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly importFuncs: { module: string; name: string; type: number }[] = [];
  private memoryImport: { module: string; name: string } | undefined;
  private readonly funcs: (FunctionDef | undefined)[] = [];
  private readonly globals: GlobalDef[] = [];
  private readonly exports: { name: string; kind: number; index: number }[] = [];

  type(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(',')}:${results.join(',')}`;
    let i = this.typeKeys.get(key);
    if (i === undefined) {
      i = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, i);
    }
    return i;
  }

  /** Import a function; must precede every defined function. */
  importFunc(module: string, name: string, params: readonly ValType[], results: readonly ValType[] = []): number {
    if (this.funcs.length > 0) throw new Error('imports must come before defined functions');
    this.importFuncs.push({ module, name, type: this.type(params, results) });
    return this.importFuncs.length - 1;
  }

  importMemory(module: string, name: string): void {
    this.memoryImport = { module, name };
  }

  /** Reserve a function index (its body is given later with defineFunc). */
  declareFunc(): number {
    this.funcs.push(undefined);
    return this.importFuncs.length + this.funcs.length - 1;
  }

  defineFunc(index: number, def: FunctionDef): void {
    this.funcs[index - this.importFuncs.length] = def;
  }

  global(def: GlobalDef): number {
    this.globals.push(def);
    return this.globals.length - 1;
  }

  exportFunc(name: string, index: number): void {
    this.exports.push({ name, kind: 0, index });
  }

  exportGlobal(name: string, index: number): void {
    this.exports.push({ name, kind: 3, index });
  }

  /**
   * The module's bytes. One pass into one buffer sized up front, with the
   * LEB128 writer and the section bookkeeping inline: this runs once per
   * compile, in a fresh process before V8 has compiled any of it, where
   * every distinct function called costs more than the work itself.
   */
  encode(): Uint8Array {
    const types = this.types, imports = this.importFuncs, funcs = this.funcs, globals = this.globals, exports = this.exports;
    const memory = this.memoryImport;
    // Upper bound: 5-byte sizes and counts, 3 UTF-8 bytes per name character, bodies as they are.
    let size = 128 + (memory === undefined ? 0 : 3 * (memory.module.length + memory.name.length) + 16);
    for (const t of types) size += t.params.length + t.results.length + 11;
    for (const f of imports) size += 3 * (f.module.length + f.name.length) + 16;
    for (const f of funcs) size += (f === undefined ? 0 : f.body.length + 6 * f.locals.length) + 16;
    size += 16 * globals.length;
    for (const e of exports) size += 3 * e.name.length + 16;
    const out = new Uint8Array(size);
    out.set(MAGIC);
    let n = MAGIC.length;
    let section = 0;
    /** Unsigned LEB128 of v at n. */
    const u32 = (v: number): void => {
      v >>>= 0;
      while (v >= 0x80) {
        out[n++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      out[n++] = v;
    };
    /** A u32 padded to five bytes at `at` (a size known once its contents are written). */
    const patch = (at: number, v: number): void => {
      for (let i = 0; i < 4; i++, v >>>= 7) out[at + i] = (v & 0x7f) | 0x80;
      out[at + 4] = v;
    };
    const name = (s: string): void => {
      let ascii = true;
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) ascii = false;
      if (!ascii) {
        const utf8 = new TextEncoder().encode(s);
        u32(utf8.length);
        out.set(utf8, n);
        n += utf8.length;
        return;
      }
      u32(s.length);
      for (let i = 0; i < s.length; i++) out[n++] = s.charCodeAt(i);
    };
    for (let id = 1; id <= 10; id++) {
      if (id === 4 || id === 5 || id === 8 || id === 9 || (id === 6 && globals.length === 0)) continue;
      out[n++] = id;
      section = n;
      n += 5;
      switch (id) {
        case 1:
          u32(types.length);
          for (const t of types) {
            out[n++] = 0x60;
            u32(t.params.length);
            for (const p of t.params) out[n++] = p;
            u32(t.results.length);
            for (const r of t.results) out[n++] = r;
          }
          break;
        case 2:
          u32(imports.length + (memory === undefined ? 0 : 1));
          if (memory !== undefined) {
            name(memory.module);
            name(memory.name);
            out[n++] = 0x02;
            out[n++] = 0x00; // limits: minimum only
            out[n++] = 0x00;
          }
          for (const f of imports) {
            name(f.module);
            name(f.name);
            out[n++] = 0x00;
            u32(f.type);
          }
          break;
        case 3:
          u32(funcs.length);
          for (const f of funcs) u32(defined(f).type);
          break;
        case 6:
          u32(globals.length);
          for (const g of globals) {
            out[n++] = g.type;
            out[n++] = g.mutable ? 1 : 0;
            if (g.type === F64 || (g.init | 0) !== g.init) {
              // Rare: written through a ByteWriter.
              const w = new ByteWriter(16);
              if (g.type === F64) { w.byte(0x44); w.f64(g.init); } else { w.byte(g.type === I32 ? Op.i32_const : Op.i64_const); w.s64(BigInt(g.init)); }
              out.set(w.view(), n);
              n += w.length;
            } else {
              out[n++] = g.type === I32 ? Op.i32_const : Op.i64_const;
              // Signed LEB128 of a 32-bit value.
              let v = g.init | 0;
              for (;;) {
                const byte = v & 0x7f;
                v >>= 7;
                if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
                  out[n++] = byte;
                  break;
                }
                out[n++] = byte | 0x80;
              }
            }
            out[n++] = Op.end;
          }
          break;
        case 7:
          u32(exports.length);
          for (const e of exports) {
            name(e.name);
            out[n++] = e.kind;
            u32(e.index);
          }
          break;
        case 10:
          u32(funcs.length);
          for (const f of funcs) {
            const d = defined(f);
            const body = n;
            n += 5;
            u32(d.locals.length);
            for (const [count, t] of d.locals) {
              u32(count);
              out[n++] = t;
            }
            out.set(d.body.view(), n);
            n += d.body.length;
            out[n++] = Op.end;
            patch(body, n - body - 5);
          }
          break;
      }
      patch(section, n - section - 5);
    }
    return out.slice(0, n);
  }
}

const MAGIC = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

function defined(f: FunctionDef | undefined): FunctionDef {
  if (f === undefined) throw new Error('function declared but never defined');
  return f;
}
