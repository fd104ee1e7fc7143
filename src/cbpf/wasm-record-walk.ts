/**
 * A classic filter and the walk over a capture's records compiled together
 * straight to WebAssembly: the fastest way bpfkit filters a pcap file. The
 * file is read into the module's memory (`buffer`), and one call per chunk
 * walks its records (pcap layout: a 16-byte header with caplen at 8 and the
 * wire length at 12, in the file's byte order, then the bytes) with the
 * filter's code inline in the loop, recording the offsets of accepted
 * records (`scan`) or moving them together for output (`compact`, a run of
 * adjacent ones in one memory.copy). No JavaScript runs per packet, and no
 * big generated JavaScript waits for V8 to optimise it.
 *
 * It accepts exactly the programs compile-js structures (forward jumps only,
 * no ancillary or negative-offset loads, valid opcodes and scratch indexes),
 * with the same libpcap semantics as the interpreter (run.ts): a load past
 * the captured bytes or a division by zero rejects the packet, shifts of 32
 * or more give 0, `len` is the wire length. A, X and M[0..15] are locals.
 *
 * Memory: a result block at 0, the offsets of accepted records from
 * MATCHES, and the records from DATA on.
 */
import { BPF_MEMWORDS, type SockFilter } from './insn.js';
import { Code, I32, ModuleBuilder, Op, VOID } from '../jit/wasm.js';
import { hostWasm } from '../jit/webassembly.js';
import type { LinearMemory } from '../vm/index.js';

export interface WasmRecordWalkOptions {
  /** The file's record headers (caplen, wire length) are little-endian. */
  readonly littleEndian: boolean;
  /** A record whose caplen is larger stops the walk (tooLarge): recordSnaplen(header). */
  readonly snaplen: number;
}

/** Where a walk stopped, as filterPcapRecords reports it. */
export interface WasmWalkResult {
  /** Offset in the buffer of the first record not walked. */
  readonly next: number;
  readonly count: number;
  readonly matched: number;
  /** The record at `next` has a caplen above the snap length. */
  readonly tooLarge: boolean;
}

/** A compacting walk's result: accepted records now fill buf[dest..kept). */
export interface WasmCompactResult extends WasmWalkResult {
  readonly kept: number;
}

// Layout of the memory (byte addresses).
const NEXT = 0;
const COUNT = 4;
const MATCHED = 8;
const STOP = 12;
const KEPT = 16;
const MATCHES = 64;
/** Most accepted offsets one call collects. */
const MAX_ROOM = 4096;
/** The records start on the second page. */
const DATA = 65536;
const PAGE = 65536;
const HEADER = 16;
/** Jump targets past which compile-js gives up (nesting limits): mirrored so both accept the same programs. */
const MAX_TARGETS = 1500;

// Locals of the walk functions: parameters first.
const POS = 0, END = 1, ROOM = 2;
const COUNTER = 3, MATCHED_L = 4, CAPLEN = 5, START = 6, A = 7, X = 8, KEPT_L = 9, RUN_FROM = 10, RUN_TO = 11, TMP = 12, STOP_L = 13, MEM0 = 14;
const LOCALS = MEM0 + BPF_MEMWORDS - 3;

/**
 * The jump targets of a program compile-js would structure (sorted, ascending),
 * or undefined when it would not: the same checks, instruction by instruction.
 */
function jumpTargets(filter: readonly SockFilter[]): number[] | undefined {
  const n = filter.length;
  if (n === 0) return undefined;
  const targets = new Set<number>();
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf } = filter[pc];
    const k = filter[pc].k >>> 0;
    const next = pc + 1;
    const needsNext = !(code === 0x06 || code === 0x16 || (code & 0x07) === 0x05);
    if (needsNext && next >= n) return undefined;
    switch (code) {
      case 0x20: case 0x28: case 0x30: case 0xb1:
        if (k >= 0x80000000) return undefined;
        break;
      case 0x60: case 0x61: case 0x02: case 0x03:
        if (k >= BPF_MEMWORDS) return undefined;
        break;
      case 0x05: {
        const t = next + (k | 0);
        if (t < 0 || t >= n) return undefined;
        if (t !== next) {
          if (t < pc + 1) return undefined; // backward (ja -1 would be t === pc)
          targets.add(t);
        }
        break;
      }
      case 0x15: case 0x25: case 0x35: case 0x45: case 0x1d: case 0x2d: case 0x3d: case 0x4d: {
        const t = next + jt;
        const e = next + jf;
        if (t >= n || e >= n) return undefined;
        if (t !== next) targets.add(t);
        if (e !== next) targets.add(e);
        break;
      }
      case 0x06: case 0x16: case 0x40: case 0x48: case 0x50: case 0x80: case 0x81: case 0x00: case 0x01:
      case 0x04: case 0x14: case 0x24: case 0x34: case 0x94: case 0x54: case 0x44: case 0xa4: case 0x64: case 0x74:
      case 0x0c: case 0x1c: case 0x2c: case 0x3c: case 0x9c: case 0x5c: case 0x4c: case 0xac: case 0x6c: case 0x7c:
      case 0x84: case 0x07: case 0x87:
        break;
      default:
        return undefined;
    }
  }
  if (targets.size > MAX_TARGETS) return undefined;
  return [...targets].sort((a, b) => a - b);
}

/** The 32-bit value on the stack, byte-swapped (no bswap in WebAssembly: two rotations and masks). */
function bswap(c: Code): void {
  c.localTee(TMP);
  c.i32(8); c.op(Op.i32_rotl); c.i32(0x00ff00ff); c.op(Op.i32_and);
  c.localGet(TMP);
  c.i32(8); c.op(Op.i32_rotr); c.i32(0xff00ff00 | 0); c.op(Op.i32_and);
  c.op(Op.i32_or);
}

/**
 * The filter's code, inside two blocks: `accept` (depth 0 outside the target
 * blocks) and `reject` around it. Every path ends in a branch out.
 */
function emitFilter(c: Code, filter: readonly SockFilter[], targets: readonly number[], littleEndian: boolean): void {
  const index = new Map<number, number>();
  targets.forEach((t, i) => index.set(t, i));
  // Block of target t holds instructions up to t - 1; the outermost is the farthest target.
  for (let i = 0; i < targets.length; i++) c.block(Op.block);
  let open = 0; // index in `targets` of the innermost open block
  const n = filter.length;
  // A, X and the scratch words start at 0 for every packet (a program may read them first).
  const zero = new Set<number>([A, X]);
  for (const f of filter) if (f.code === 0x02 || f.code === 0x03) zero.add(MEM0 + (f.k >>> 0));
  for (const local of zero) { c.i32(0); c.localSet(local); }
  for (let pc = 0; pc < n; pc++) {
    if (open < targets.length && targets[open] === pc) {
      c.op(Op.end);
      open++;
    }
    const openCount = targets.length - open;
    const accept = openCount;
    const reject = openCount + 1;
    const depth = (t: number): number => index.get(t)! - open;
    const f = filter[pc];
    const k = f.k >>> 0;
    const next = pc + 1;
    const R0 = (): void => c.br(reject);
    const cond = (test: () => void): void => {
      const t = next + f.jt;
      const e = next + f.jf;
      if (t === e) {
        if (t !== next) c.br(depth(t));
        return;
      }
      test();
      if (t === next) {
        c.op(Op.i32_eqz);
        c.brIf(depth(e));
      } else {
        c.brIf(depth(t));
        if (e !== next) c.br(depth(e));
      }
    };
    // Absolute load bounds: k + size <= caplen (k < 2^31, so no overflow).
    const absCheck = (size: number): void => {
      c.localGet(CAPLEN); c.i32(k + size); c.op(Op.i32_lt_u); c.brIf(reject);
    };
    // Indexed: X + k + size <= caplen, in 64 bits; then TMP = start + X (the load adds k).
    const indCheck = (size: number): void => {
      c.localGet(X); c.op(Op.i64_extend_i32_u); c.i64(k + size); c.op(Op.i64_add);
      c.localGet(CAPLEN); c.op(Op.i64_extend_i32_u); c.op(Op.i64_gt_u); c.brIf(reject);
    };
    const word = (base: () => void): void => {
      base(); c.mem(Op.i32_load, k); bswap(c); c.localSet(A);
    };
    const half = (base: () => void): void => {
      base(); c.mem(Op.i32_load8_u, k); c.i32(8); c.op(Op.i32_shl);
      base(); c.mem(Op.i32_load8_u, k + 1); c.op(Op.i32_or); c.localSet(A);
    };
    const byte = (base: () => void): void => {
      base(); c.mem(Op.i32_load8_u, k); c.localSet(A);
    };
    const startBase = (): void => c.localGet(START);
    const indexBase = (): void => { c.localGet(START); c.localGet(X); c.op(Op.i32_add); };
    const wirelen = (): void => {
      c.localGet(POS); c.mem(Op.i32_load, 12);
      if (!littleEndian) bswap(c);
    };
    const aluK = (op: number): void => { c.localGet(A); c.i32(k | 0); c.op(op); c.localSet(A); };
    const aluX = (op: number): void => { c.localGet(A); c.localGet(X); c.op(op); c.localSet(A); };
    switch (f.code) {
      case 0x06: c.br(k !== 0 ? accept : reject); break;
      case 0x16: c.localGet(A); c.brIf(accept); c.br(reject); break;
      case 0x20: absCheck(4); word(startBase); break;
      case 0x28: absCheck(2); half(startBase); break;
      case 0x30: absCheck(1); byte(startBase); break;
      case 0x40: indCheck(4); word(indexBase); break;
      case 0x48: indCheck(2); half(indexBase); break;
      case 0x50: indCheck(1); byte(indexBase); break;
      case 0xb1:
        c.localGet(CAPLEN); c.i32(k); c.op(Op.i32_le_u); c.brIf(reject);
        c.localGet(START); c.mem(Op.i32_load8_u, k); c.i32(15); c.op(Op.i32_and); c.i32(2); c.op(Op.i32_shl); c.localSet(X);
        break;
      case 0x80: wirelen(); c.localSet(A); break;
      case 0x81: wirelen(); c.localSet(X); break;
      case 0x00: c.i32(k | 0); c.localSet(A); break;
      case 0x01: c.i32(k | 0); c.localSet(X); break;
      case 0x60: c.localGet(MEM0 + k); c.localSet(A); break;
      case 0x61: c.localGet(MEM0 + k); c.localSet(X); break;
      case 0x02: c.localGet(A); c.localSet(MEM0 + k); break;
      case 0x03: c.localGet(X); c.localSet(MEM0 + k); break;
      case 0x05: {
        const t = next + (k | 0);
        if (t !== next) c.br(depth(t));
        break;
      }
      case 0x15: cond(() => { c.localGet(A); c.i32(k | 0); c.op(Op.i32_eq); }); break;
      case 0x25: cond(() => { c.localGet(A); c.i32(k | 0); c.op(Op.i32_gt_u); }); break;
      case 0x35: cond(() => { c.localGet(A); c.i32(k | 0); c.op(Op.i32_ge_u); }); break;
      case 0x45: cond(() => { c.localGet(A); c.i32(k | 0); c.op(Op.i32_and); }); break;
      case 0x1d: cond(() => { c.localGet(A); c.localGet(X); c.op(Op.i32_eq); }); break;
      case 0x2d: cond(() => { c.localGet(A); c.localGet(X); c.op(Op.i32_gt_u); }); break;
      case 0x3d: cond(() => { c.localGet(A); c.localGet(X); c.op(Op.i32_ge_u); }); break;
      case 0x4d: cond(() => { c.localGet(A); c.localGet(X); c.op(Op.i32_and); }); break;
      case 0x04: aluK(Op.i32_add); break;
      case 0x14: aluK(Op.i32_sub); break;
      case 0x24: aluK(Op.i32_mul); break;
      case 0x34: if (k === 0) R0(); else aluK(Op.i32_div_u); break;
      case 0x94: if (k === 0) R0(); else aluK(Op.i32_rem_u); break;
      case 0x54: aluK(Op.i32_and); break;
      case 0x44: aluK(Op.i32_or); break;
      case 0xa4: aluK(Op.i32_xor); break;
      case 0x64: if (k >= 32) { c.i32(0); c.localSet(A); } else aluK(Op.i32_shl); break;
      case 0x74: if (k >= 32) { c.i32(0); c.localSet(A); } else aluK(Op.i32_shr_u); break;
      case 0x0c: aluX(Op.i32_add); break;
      case 0x1c: aluX(Op.i32_sub); break;
      case 0x2c: aluX(Op.i32_mul); break;
      case 0x3c: c.localGet(X); c.op(Op.i32_eqz); c.brIf(reject); aluX(Op.i32_div_u); break;
      case 0x9c: c.localGet(X); c.op(Op.i32_eqz); c.brIf(reject); aluX(Op.i32_rem_u); break;
      case 0x5c: aluX(Op.i32_and); break;
      case 0x4c: aluX(Op.i32_or); break;
      case 0xac: aluX(Op.i32_xor); break;
      case 0x6c: case 0x7c:
        // WebAssembly shifts count modulo 32; classic BPF's give 0 from 32 on.
        c.localGet(A); c.localGet(X); c.op(f.code === 0x6c ? Op.i32_shl : Op.i32_shr_u);
        c.i32(0);
        c.localGet(X); c.i32(32); c.op(Op.i32_lt_u);
        c.op(Op.select); c.localSet(A);
        break;
      case 0x84: c.i32(0); c.localGet(A); c.op(Op.i32_sub); c.localSet(A); break;
      case 0x07: c.localGet(A); c.localSet(X); break;
      case 0x87: c.localGet(X); c.localSet(A); break;
    }
  }
}

/**
 * One walk function (pos, end, room or dest): scan records offsets of
 * accepted records at MATCHES (at most `room`), compact moves them down to `dest`.
 * Results go to the block at 0.
 */
function walkFunction(filter: readonly SockFilter[], targets: readonly number[], opts: WasmRecordWalkOptions, mode: 'scan' | 'compact'): Code {
  const c = new Code(256 + filter.length * 24);
  const snap = Math.min(Math.max(0, Math.floor(opts.snaplen)), 0xffffffff);
  if (mode === 'compact') {
    c.localGet(ROOM); c.localSet(KEPT_L); // the third parameter is the destination
    c.localGet(POS); c.localTee(RUN_FROM); c.localSet(RUN_TO);
  }
  c.block(Op.block); // done
  c.block(Op.loop);
  // A whole record header left? (and, scanning, room for one more offset)
  c.localGet(END); c.localGet(POS); c.op(Op.i32_sub); c.i32(HEADER); c.op(Op.i32_lt_u); c.brIf(1);
  if (mode === 'scan') {
    c.localGet(MATCHED_L); c.localGet(ROOM); c.op(Op.i32_ge_u); c.brIf(1);
  }
  c.localGet(POS); c.mem(Op.i32_load, 8);
  if (!opts.littleEndian) bswap(c);
  c.localTee(CAPLEN); c.i32(snap | 0); c.op(Op.i32_gt_u);
  c.block(Op.if);
  c.i32(1); c.localSet(STOP_L); c.br(2);
  c.op(Op.end);
  // The whole record's bytes left?
  c.localGet(END); c.localGet(POS); c.i32(HEADER); c.op(Op.i32_add); c.localTee(START); c.op(Op.i32_sub);
  c.localGet(CAPLEN); c.op(Op.i32_lt_u); c.brIf(1);
  c.block(Op.block); // reject
  c.block(Op.block); // accept
  emitFilter(c, filter, targets, opts.littleEndian);
  c.op(Op.end); // accept: every path of the filter branched out, so only `accept` reaches here
  c.localGet(MATCHED_L); c.i32(1); c.op(Op.i32_add); c.localSet(MATCHED_L);
  if (mode === 'scan') {
    c.localGet(MATCHED_L); c.i32(2); c.op(Op.i32_shl); c.localGet(POS); c.mem(Op.i32_store, MATCHES - 4);
  } else {
    // A record after a gap starts a new run: move the previous run down first.
    c.localGet(POS); c.localGet(RUN_TO); c.op(Op.i32_ne);
    c.block(Op.if);
    flushRun(c);
    c.localGet(POS); c.localSet(RUN_FROM);
    c.op(Op.end);
    c.localGet(START); c.localGet(CAPLEN); c.op(Op.i32_add); c.localSet(RUN_TO);
  }
  c.op(Op.end); // reject
  c.localGet(COUNTER); c.i32(1); c.op(Op.i32_add); c.localSet(COUNTER);
  c.localGet(START); c.localGet(CAPLEN); c.op(Op.i32_add); c.localSet(POS);
  c.br(0);
  c.op(Op.end); // loop
  c.op(Op.end); // done
  if (mode === 'compact') {
    flushRun(c);
    c.i32(KEPT); c.localGet(KEPT_L); c.mem(Op.i32_store);
  }
  c.i32(NEXT); c.localGet(POS); c.mem(Op.i32_store);
  c.i32(COUNT); c.localGet(COUNTER); c.mem(Op.i32_store);
  c.i32(MATCHED); c.localGet(MATCHED_L); c.mem(Op.i32_store);
  c.i32(STOP); c.localGet(STOP_L); c.mem(Op.i32_store);
  return c;
}

/** Move the run [RUN_FROM, RUN_TO) down to KEPT (unless it is there already) and advance KEPT past it. */
function flushRun(c: Code): void {
  c.localGet(KEPT_L); c.localGet(RUN_FROM); c.op(Op.i32_ne);
  c.block(Op.if);
  c.localGet(KEPT_L); c.localGet(RUN_FROM); c.localGet(RUN_TO); c.localGet(RUN_FROM); c.op(Op.i32_sub); c.memoryCopy();
  c.op(Op.end);
  c.localGet(KEPT_L); c.localGet(RUN_TO); c.localGet(RUN_FROM); c.op(Op.i32_sub); c.op(Op.i32_add); c.localSet(KEPT_L);
}

/** The module's bytes: memory imported as env.memory, functions `scan` and `compact`. */
export function wasmRecordWalkModule(filter: readonly SockFilter[], opts: WasmRecordWalkOptions): Uint8Array | undefined {
  const targets = jumpTargets(filter);
  if (!targets) return undefined;
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory');
  const type = m.type([I32, I32, I32], []);
  for (const mode of ['scan', 'compact'] as const) {
    const f = m.declareFunc();
    m.defineFunc(f, { type, locals: [[LOCALS, I32]], body: walkFunction(filter, targets, opts, mode) });
    m.exportFunc(mode, f);
  }
  return m.encode();
}

type WalkFn = (pos: number, end: number, room: number) => void;

/** A filter's record walk as a WebAssembly instance, with the memory the file is read into. */
export class WasmRecordWalk {
  readonly #memory: LinearMemory;
  readonly #scan: WalkFn;
  readonly #compact: WalkFn;
  #words: Uint32Array;

  constructor(memory: LinearMemory, scan: WalkFn, compact: WalkFn) {
    this.#memory = memory;
    this.#scan = scan;
    this.#compact = compact;
    this.#words = new Uint32Array(memory.buffer, 0, MATCHES / 4 + MAX_ROOM);
  }

  /**
   * A view of the module's memory of at least `size` bytes holding the first
   * `keep` bytes of `from`: records read into it are walked where they lie.
   * Earlier views (and `from`, when it was one) may be detached afterwards.
   */
  buffer(size: number, from?: Uint8Array, keep = 0): Uint8Array {
    const inPlace = from !== undefined && from.buffer === this.#memory.buffer && from.byteOffset === DATA;
    const kept = from === undefined || keep === 0 || inPlace ? undefined : from.slice(0, keep);
    this.#reserve(size);
    const bytes = new Uint8Array(this.#memory.buffer, DATA);
    if (kept) bytes.set(kept);
    return bytes;
  }

  /**
   * Walk the complete records of buf[pos..end), putting the offsets of
   * accepted ones in `matches` (it stops when that is full, or at a record
   * whose caplen is above the snap length). A view from buffer() is walked
   * in place; any other buffer is first copied into the memory, over what
   * buffer() handed out.
   */
  walk(buf: Uint8Array, pos: number, end: number, matches: Int32Array): WasmWalkResult {
    const room = matches.length;
    let count = 0;
    let matched = 0;
    for (;;) {
      const base = this.#place(buf, pos, end);
      this.#scan(base + pos, base + end, Math.min(room - matched, MAX_ROOM));
      const w = this.#words;
      const got = w[MATCHED / 4];
      for (let i = 0; i < got; i++) matches[matched + i] = w[MATCHES / 4 + i] - base;
      matched += got;
      count += w[COUNT / 4];
      const stop = w[STOP / 4];
      const next = w[NEXT / 4] - base;
      // Go on when MAX_ROOM offsets filled but `matches` has room for more.
      if (stop !== 0 || got < MAX_ROOM || matched === room || next === pos) return { next, count, matched, tooLarge: stop !== 0 };
      pos = next;
    }
  }

  /**
   * Move the accepted records of buf[pos..end) down to `dest` (default pos,
   * at most pos); they fill buf[dest..kept) afterwards.
   */
  compact(buf: Uint8Array, pos: number, end: number, dest = pos): WasmCompactResult {
    const base = this.#place(buf, dest, end);
    this.#compact(base + pos, base + end, base + dest);
    const w = this.#words;
    const kept = w[KEPT / 4] - base;
    // Records walked in a copy go back to the caller's buffer.
    if (buf.buffer !== this.#memory.buffer) buf.set(new Uint8Array(this.#memory.buffer, base + dest, kept - dest), dest);
    return { next: w[NEXT / 4] - base, count: w[COUNT / 4], matched: w[MATCHED / 4], tooLarge: w[STOP / 4] !== 0, kept };
  }

  /**
   * Where buf[0] is in memory (buf[i] at base + i): buf's own place when it
   * is a view of the memory (from buffer()), else buf[from..end) is copied to DATA.
   */
  #place(buf: Uint8Array, from: number, end: number): number {
    if (buf.buffer === this.#memory.buffer && buf.byteOffset >= DATA) return buf.byteOffset;
    this.#reserve(end - from);
    new Uint8Array(this.#memory.buffer).set(buf.subarray(from, end), DATA);
    return DATA - from;
  }

  /** Grow the memory to hold `size` bytes from DATA; views are taken afresh. */
  #reserve(size: number): void {
    const need = DATA + size;
    const have = this.#memory.buffer.byteLength;
    if (need > have) this.#memory.grow(Math.ceil((need - have) / PAGE));
    if (this.#words.buffer !== this.#memory.buffer) this.#words = new Uint32Array(this.#memory.buffer, 0, MATCHES / 4 + MAX_ROOM);
  }
}

/**
 * The walk of `filter` over records of files with these properties, or
 * undefined when the filter has no structured form (compile-js's rules), the
 * host has no WebAssembly, or it refuses to compile.
 */
export function compileWasmRecordWalk(filter: readonly SockFilter[], opts: WasmRecordWalkOptions): WasmRecordWalk | undefined {
  const api = hostWasm();
  if (api === undefined) return undefined;
  const bytes = wasmRecordWalkModule(filter, opts);
  if (!bytes) return undefined;
  try {
    const memory = new api.Memory({ initial: (DATA + (320 << 10)) / PAGE });
    const module = new api.Module(bytes);
    const { exports } = new api.Instance(module, { env: { memory } });
    return new WasmRecordWalk(memory, exports.scan as WalkFn, exports.compact as WalkFn);
  } catch {
    return undefined;
  }
}
