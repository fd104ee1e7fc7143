import { BpfkitError } from '../errors/index.js';
import { decode, slotIndex, type Insn } from '../isa/index.js';
import type { Engine, PreparedProgram } from '../vm/engine.js';
import {
  HelperArgumentError, VmBudgetError, VmCallDepthError, VmConfigError, VmError, VmHelperError, VmProgramError,
  VmUnknownHelperError,
} from '../vm/errors.js';
import { findHelper, type Helper, type HelperTable } from '../vm/helpers.js';
import { HEAP_BASE, MAX_FRAMES } from '../vm/layout.js';
import { validateProgram } from '../vm/lower.js';
import { AddressSpace, type Region } from '../vm/memory.js';
import type { VerifiedFacts } from '../vm/verified.js';
import { DEFAULT_BUDGET, INPUT_REGION, type CallResult, type RunResult, type VmOptions } from '../vm/vm.js';
import { JitHelperContext } from './helper-context.js';
import { cacheCountOffset, SCR_ARG, SCR_BUDGET, SCR_R0, SCR_RLO, SCR_RLO2, SCR_WLO, SCR_WLO2 } from './layout.js';
import { analyse, translate, type InlineHelper, type ProgramShape } from './translate.js';
import { JitCompileError } from './errors.js';
import { Wasm, type WasmGlobal, type WasmModule } from './webassembly.js';

export interface JitOptions extends Omit<VmOptions, 'verified'> {
  /** Reuse compiled modules of the same program (default true; false measures a full compile). */
  readonly cache?: boolean;
  /** Helpers compiled into the module (see TranslateOptions.inlineHelpers); they take precedence over `helpers`. */
  readonly inlineHelpers?: ReadonlyMap<number, InlineHelper>;
  /**
   * The program passed the verifier: memory accesses are not checked
   * (WebAssembly's own bounds still keep the host safe; a wild access then
   * traps with a RuntimeError instead of a VmMemoryError). Given the
   * verifier's facts for this program instead (VmOptions.verified), only
   * the accesses they prove in bounds go unchecked.
   */
  readonly verified?: boolean | VerifiedFacts;
}

/** Compiled module variants of one program. */
interface Compiled {
  readonly shape: ProgramShape;
  /** By variant key: verified / budget-checked. */
  readonly modules: Map<string, WasmModule>;
  /** Milliseconds spent translating and compiling, summed over variants. */
  compileMs: number;
}

/** Per-program cache: by Insn[] identity, and by wire bytes for the most recent programs. */
const byIdentity = new WeakMap<readonly Insn[], Compiled>();
const byBytes = new Map<string, Compiled>();
const BYTES_CACHE_SIZE = 64;
const BYTES_CACHE_MAX_INSNS = 4096;

function compiledFor(program: readonly Insn[], cache: boolean): Compiled {
  if (!cache) {
    validateProgram(program, slotIndex(program));
    const t0 = now();
    const fresh: Compiled = { shape: analyse(program), modules: new Map(), compileMs: 0 };
    fresh.compileMs += now() - t0;
    return fresh;
  }
  let c = byIdentity.get(program);
  if (c !== undefined) return c;
  // The interpreter's validation: the same VmProgramError for bad jumps and registers.
  validateProgram(program, slotIndex(program));
  // Small programs are also found by content (the same program decoded twice).
  let key: string | undefined;
  if (program.length <= BYTES_CACHE_MAX_INSNS) {
    key = contentKey(program);
    c = byBytes.get(key);
  }
  if (c === undefined) {
    const t0 = now();
    c = { shape: analyse(program), modules: new Map(), compileMs: 0 };
    c.compileMs += now() - t0;
    if (key !== undefined) {
      if (byBytes.size >= BYTES_CACHE_SIZE) byBytes.delete(byBytes.keys().next().value!);
      byBytes.set(key, c);
    }
  }
  byIdentity.set(program, c);
  return c;
}

/**
 * The program's content as a string: JSON (native, so cheap even before V8
 * has warmed up our code, unlike encoding the program to bytes), with
 * 64-bit immediates as decimal strings. Equal programs built differently
 * (other property order, extra properties) may get different keys: only a
 * cache miss.
 */
function contentKey(program: readonly Insn[]): string {
  // Only lddw holds a bigint: replace those instructions, not every value through a replacer.
  let plain: unknown[] | undefined;
  for (let k = 0; k < program.length; k++) {
    const insn = program[k];
    if (insn.kind === 'lddw') (plain ??= program.slice())[k] = { ...insn, imm: `${insn.imm}n` };
  }
  try {
    return JSON.stringify(plain ?? program);
  } catch {
    return JSON.stringify(program, bigintAsString); // bigints where the types say there are none
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

const inlineSets = new WeakMap<object, number>();
let inlineSetCount = 0;
function inlineSetId(set: object): number {
  let id = inlineSets.get(set);
  if (id === undefined) inlineSets.set(set, id = ++inlineSetCount);
  return id;
}

/**
 * Milliseconds from an arbitrary origin. Node's process.hrtime where there
 * is one: Node loads its `performance` global lazily, and that first use
 * costs about a millisecond, more than a whole compile of a small program.
 */
const hrtime = (globalThis as unknown as { process?: { hrtime?: (() => [number, number]) } }).process?.hrtime;
function now(): number {
  if (typeof hrtime === 'function') {
    const [s, ns] = hrtime();
    return s * 1e3 + ns / 1e6;
  }
  return (globalThis as unknown as { performance: { now(): number } }).performance.now();
}

/** Thrown by the host functions to end the run early (helper halt, packet load out of range). */
const HALT = Symbol('halt');

/** The region cache lives in the address space's scratch words: one owner per space. */
interface CacheState {
  /** First and second entries (see layout.ts). */
  read: Region | undefined;
  write: Region | undefined;
  read2: Region | undefined;
  write2: Region | undefined;
  /** A stack was reached through a computed pointer since the last zeroing. */
  stackDirty: boolean;
  /** The scratch words of r3..r5 may be non-zero (a run's arguments, or a helper call's). */
  argsDirty: boolean;
}
const caches = new WeakMap<AddressSpace, CacheState>();

/** The module's entry: r1..r5 from, and r0 and the remaining budget to, the scratch words. */
type RunFn = (budget: number, clear: number) => void;

type RepeatFn = (budget: number, clear: number, count: number) => void;

type CallbackFn = (slot: number, pc: number) => bigint;

interface Bound {
  readonly run: RunFn;
  /** Present when the program has callbacks. */
  readonly callback: CallbackFn | undefined;
  /** The frame depth global (exported with callbacks). */
  readonly depth: WasmGlobal | undefined;
  readonly repeat: RepeatFn;
  readonly budget: WasmGlobal;
  /** Budgets this instance serves without budget checks... or with them (see instance()). */
  readonly checked: boolean;
}

/** Helper ids below this are resolved once into an array. */
const HELPER_CACHE = 4096;

/**
 * A program compiled to WebAssembly and bound to an address space and
 * helpers: the JIT's counterpart of Vm, with the same results and errors.
 */
export class JitProgram implements PreparedProgram {
  readonly engine: Engine = 'jit';
  readonly program: readonly Insn[];
  readonly space: AddressSpace;
  readonly budget: number;
  /** Some memory checks are dropped (verified: true, or the verifier's facts). */
  readonly verified: boolean;
  private readonly facts: VerifiedFacts | undefined;
  /** Module-variant key part for the verified option. */
  private readonly verifiedKey: string;
  private readonly compiled: Compiled;
  private readonly touchesStack: boolean;
  private readonly bound = new Map<string, Bound>();
  private readonly helpers: HelperTable | undefined;
  private readonly inlineHelpers: ReadonlyMap<number, InlineHelper> | undefined;
  /** Distinguishes modules compiled with different inline helper sets. */
  private readonly inlineKey: string;
  private readonly kfuncs: HelperTable | undefined;
  private readonly helperCache: (Helper | undefined)[] = [];
  private readonly ctx: JitHelperContext;
  private readonly cache: CacheState;
  private input: Region | undefined;
  private runBudget = 0;
  private lastBudget = -1;
  private f64 = new Float64Array(0);
  private i32 = new Int32Array(0);
  private u64 = new BigUint64Array(0);
  private viewGeneration = -1;
  private lastBound: Bound | undefined;

  constructor(program: readonly Insn[] | Uint8Array, options: JitOptions = {}) {
    this.program = program instanceof Uint8Array ? decode(program) : program;
    this.space = options.space ?? new AddressSpace();
    this.budget = checkBudget(options.budget ?? DEFAULT_BUDGET);
    this.verified = options.verified !== undefined && options.verified !== false;
    this.facts = typeof options.verified === 'object' ? options.verified : undefined;
    this.verifiedKey = this.facts !== undefined ? `f${inlineSetId(this.facts)}` : this.verified ? 'v' : 'c';
    this.helpers = options.helpers;
    this.inlineHelpers = options.inlineHelpers;
    this.inlineKey = options.inlineHelpers === undefined ? '' : `i${inlineSetId(options.inlineHelpers)}`;
    this.kfuncs = options.kfuncs;
    this.ctx = new JitHelperContext(this.space, (fn, args) => this.callFunction(fn, args));
    let cache = caches.get(this.space);
    if (cache === undefined) caches.set(this.space, cache = { read: undefined, write: undefined, read2: undefined, write2: undefined, stackDirty: true, argsDirty: true });
    this.cache = cache;
    this.compiled = compiledFor(this.program, options.cache ?? true);
    this.touchesStack = this.compiled.shape.touchesStack;
    // Compile the variant the default budget needs now, so run() does not pay for it.
    this.instance(this.budget);
  }

  /** Milliseconds spent translating and compiling this program's modules (shared by the cache). */
  get compileMs(): number {
    return this.compiled.compileMs;
  }

  /** The conformance-suite convention, as Vm.run: `mem` in a writable region, r1 = address, r2 = length. */
  run(mem: Uint8Array = NO_BYTES, options: { budget?: number } = NO_OPTIONS): RunResult {
    let region = this.input;
    const space = this.space;
    if (region !== undefined && (region.size !== mem.length || !space.isMapped(region))) {
      if (space.isMapped(region)) space.unmap(region);
      region = this.input = undefined;
    }
    if (mem.length > 0) {
      if (region === undefined) region = this.input = space.map(INPUT_REGION, mem);
      else space.bytes.set(mem, region.start);
      this.prime(region);
    }
    const start = region === undefined ? 0 : region.start;
    const size = region === undefined ? 0 : region.size;
    const budget = options.budget === undefined ? this.budget : checkBudget(options.budget);
    this.enter(budget, start | 0, 0, size | 0, 0);
    // space.bytes is current: a run that grew the memory renewed it.
    const after = region === undefined ? NO_BYTES : space.bytes.slice(start, start + size);
    return { r0: this.r0(), mem: after, executed: this.spent(budget) };
  }

  /** Run from the entry with r1..r5 = args (missing ones are 0). */
  call(args: readonly (number | bigint)[] = NO_ARGS, options: { budget?: number } = NO_OPTIONS): CallResult {
    const n = args.length;
    const budget = options.budget === undefined ? this.budget : checkBudget(options.budget);
    if (n <= 2) {
      // The common case: up to two 32-bit numbers (addresses, lengths, small values).
      const x = n > 0 ? args[0] : 0;
      const y = n > 1 ? args[1] : 0;
      if (typeof x === 'number' && typeof y === 'number' && isWord(x) && isWord(y)) {
        this.enter(budget, x | 0, x < 0 ? -1 : 0, y | 0, y < 0 ? -1 : 0);
        return { r0: this.r0(), executed: this.spent(budget) };
      }
    }
    return this.callWide(args, budget);
  }

  /** call() with bigints, more than two arguments or values beyond 32 bits (apart: call() stays small enough to inline). */
  private callWide(args: readonly (number | bigint)[], budget: number): CallResult {
    const n = args.length;
    const h = new Array<number>(10).fill(0);
    for (let r = 0; r < n && r < 5; r++) {
      const v = args[r];
      if (typeof v === 'bigint') {
        h[2 * r] = Number(BigInt.asIntN(32, v));
        h[2 * r + 1] = Number(BigInt.asIntN(32, v >> 32n));
      } else {
        h[2 * r] = v | 0;
        h[2 * r + 1] = Math.floor(v / 4294967296) | 0;
      }
    }
    this.setArgs(...h);
    this.go(budget, 0);
    return { r0: this.r0(), executed: this.spent(budget) };
  }

  /**
   * call() for hot loops: r1, r2 as numbers (32-bit values, or any safe
   * integer), the default budget, and r0 as a number instead of a bigint
   * (exact up to 2^53, as Number(call(...).r0) above). `lastExecuted` has
   * the instruction count.
   */
  callNumber(r1 = 0, r2 = 0): number {
    if (isWord(r1) && isWord(r2)) this.enter(this.budget, r1 | 0, r1 < 0 ? -1 : 0, r2 | 0, r2 < 0 ? -1 : 0);
    else this.call([r1, r2]);
    const w = this.i32;
    const lo = w[R0_I32], hi = w[R0_I32 + 1];
    return hi === 0 ? lo >>> 0 : (hi >>> 0) * 4294967296 + (lo >>> 0);
  }

  /** Instructions executed by the latest run, call or callNumber. */
  get lastExecuted(): number {
    this.views();
    return this.spent(this.runBudget);
  }

  /**
   * Run `count` times from the entry with r1, r2 = args (small non-negative
   * numbers), in a loop inside the module, as BPF_PROG_TEST_RUN's repeat:
   * what a run costs without the crossing from JavaScript. Returns the last
   * run's result; each run has the whole budget.
   */
  repeat(args: readonly [number, number] | readonly [number] | readonly [], count: number, options: { budget?: number } = NO_OPTIONS): CallResult {
    if (!Number.isSafeInteger(count) || count < 1 || count > 0x7fffffff) throw new VmConfigError(`repeat count must be 1..2^31-1, not ${count}`);
    for (const a of args) if (!isSmallArg(a)) throw new VmConfigError(`repeat takes small non-negative arguments, not ${a}`);
    const budget = options.budget === undefined ? this.budget : checkBudget(options.budget);
    this.setArgs(args[0] ?? 0, 0, args[1] ?? 0, 0);
    this.go(budget, count);
    return { r0: this.r0(), executed: this.spent(budget) };
  }

  /** One run with r1, r2 as 32-bit halves and r3..r5 = 0: see go(). */
  private enter(budget: number, r1lo: number, r1hi: number, r2lo: number, r2hi: number): void {
    if (this.viewGeneration !== this.space.generation) this.views();
    const w = this.i32;
    w[ARG1] = r1lo; w[ARG1 + 1] = r1hi; w[ARG1 + 2] = r2lo; w[ARG1 + 3] = r2hi;
    const cache = this.cache;
    if (cache.argsDirty === true) {
      // A helper call (or a call() with r3..r5) left values in the words of r3..r5.
      w.fill(0, ARG1 + 4, ARG1 + 10);
      cache.argsDirty = false;
    }
    this.go(budget, 0);
  }

  /** r1..r5 as 32-bit halves (missing ones 0) into the argument scratch words. */
  private setArgs(...halves: number[]): void {
    const w = this.views();
    for (let i = 0; i < 10; i++) w[ARG1 + i] = halves[i] ?? 0;
    // Zeroed again by the next enter().
    this.cache.argsDirty = true;
  }

  /**
   * Run from the entry with the arguments in their scratch words: once
   * (count 0) or `count` times inside the module (repeat). Leaves r0 and
   * the remaining budget in their scratch words, and the views current.
   */
  private go(budget: number, count: number): void {
    const bound = budget === this.lastBudget ? this.lastBound! : this.instance(budget);
    const space = this.space;
    const cache = this.cache;
    if (cache.read !== undefined || cache.write !== undefined || cache.read2 !== undefined || cache.write2 !== undefined) this.validateCache();
    this.runBudget = budget;
    const clear = this.touchesStack || cache.stackDirty === true;
    cache.stackDirty = false;
    try {
      if (count === 0) bound.run(budget, clear ? 1 : 0);
      else bound.repeat(budget, clear ? 1 : 0, count);
    } catch (err) {
      if (err !== HALT) throw err;
      // A helper (or a packet load) ended the run: r0 is in its word already, the budget in the global.
      this.views();
      this.f64[BUDGET_F64] = Number(bound.budget.value);
      return;
    }
    // Only a helper can grow the memory (and every host call marks the argument words dirty).
    if (cache.argsDirty === true && this.viewGeneration !== space.generation) this.views();
  }

  /**
   * Instructions the latest run spent of `budget`. An int32 whenever the
   * budget is one (the default is): a double-valued field would box a heap
   * number into every CallResult.
   */
  private spent(budget: number): number {
    const left = this.f64[BUDGET_F64];
    return budget <= 0x7fffffff ? (budget - left) | 0 : budget - left;
  }

  /** r0 of the latest run as an unsigned bigint, from its scratch word. */
  private r0(): bigint {
    const w = this.i32;
    const lo = w[R0_I32], hi = w[R0_I32 + 1];
    if (hi === 0) return lo >= 0 && lo < SMALL.length ? SMALL[lo] : BigInt(lo >>> 0);
    return this.u64[R0_I32 / 2];
  }

  /** Typed views of the scratch words, renewed when the memory grows. */
  private views(): Int32Array {
    const space = this.space;
    if (this.viewGeneration !== space.generation) {
      this.f64 = new Float64Array(space.memory.buffer, 0, BUDGET_F64 + 1);
      this.i32 = new Int32Array(space.memory.buffer, 0, (SCR_ARG + 48) / 4);
      this.u64 = new BigUint64Array(space.memory.buffer, 0, R0_I32 / 2 + 1);
      this.viewGeneration = space.generation;
    }
    return this.i32;
  }

  /** The instance for a budget: budget checks only when the program could exceed it. */
  private instance(budget: number): Bound {
    const check = !(this.compiled.shape.maxInsns <= budget);
    const key = `${this.verifiedKey}${check ? 'b' : 'n'}${this.inlineKey}`;
    let bound = this.bound.get(key);
    if (bound !== undefined) {
      this.lastBudget = budget;
      this.lastBound = bound;
      return bound;
    }
    let mod = this.compiled.modules.get(key);
    if (mod === undefined) {
      const t0 = now();
      const { bytes } = translate(this.compiled.shape, { verified: this.facts ?? this.verified, checkBudget: check, inlineHelpers: this.inlineHelpers });
      try {
        mod = new Wasm.Module(bytes);
      } catch (e) {
        throw new JitCompileError((e as Error).message, { cause: e });
      }
      this.compiled.compileMs += now() - t0;
      this.compiled.modules.set(key, mod);
    }
    const inst = new Wasm.Instance(mod, { env: this.imports() });
    bound = { run: inst.exports.run as RunFn, callback: inst.exports.callback as CallbackFn | undefined, depth: inst.exports.depth as WasmGlobal | undefined, repeat: inst.exports.repeat as RepeatFn, budget: inst.exports.budget as WasmGlobal, checked: check };
    this.bound.set(key, bound);
    this.lastBudget = budget;
    this.lastBound = bound;
    return bound;
  }

  /**
   * The module's imports. Every host function takes the same five i32s
   * (see translate.ts) and declares all five: V8 then compiles one import
   * wrapper for all of them (it keys wrappers by signature and arity).
   */
  private imports(): Record<string, import('../vm/index.js').LinearMemory | ((...args: number[]) => void)> {
    const space = this.space;
    return {
      memory: space.memory,
      miss: (pc: number, lo: number, hi: number, size: number, write: number) => this.miss(pc, lo, hi, size, write),
      budget: (pc: number, _a: number, _b: number, _c: number, _d: number) => {
        throw new VmBudgetError(pc, this.runBudget);
      },
      helper: (pc: number, id: number, _b: number, _c: number, _d: number) => {
        this.cache.argsDirty = true; // the module stored r1..r5 in the argument words
        const fn = this.helper(id);
        if (fn === undefined) throw new VmUnknownHelperError(pc, id);
        this.hostCall(pc, id, fn);
      },
      callx: (pc: number, lo: number, hi: number, _c: number, _d: number) => {
        this.cache.argsDirty = true;
        if (hi !== 0 || lo < 0) {
          throw new VmUnknownHelperError(pc, BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0)));
        }
        const fn = this.helper(lo);
        if (fn === undefined) throw new VmUnknownHelperError(pc, lo);
        this.hostCall(pc, lo, fn);
      },
      kfunc: (pc: number, id: number, module: number, _c: number, _d: number) => {
        this.cache.argsDirty = true;
        const fn = module === 0 ? findHelper(this.kfuncs, id) : undefined;
        if (fn === undefined) {
          throw new VmUnknownHelperError(pc, id, module === 0 ? 'kfunc (BTF id)' : `kfunc of module ${module} (BTF id)`);
        }
        this.hostCall(pc, id, fn);
      },
      packet: (_pc: number, off: number, size: number, _c: number, _d: number) => this.packetLoad(off, size),
      depth: (pc: number, _a: number, _b: number, _c: number, _d: number) => {
        throw new VmCallDepthError(pc, MAX_FRAMES);
      },
      end: (pc: number, _a: number, _b: number, _c: number, _d: number) => {
        throw new VmProgramError(pc, 'execution fell off the end of the program');
      },
    };
  }

  private helper(id: number): Helper | undefined {
    if (id >= 0 && id < HELPER_CACHE) {
      let h = this.helperCache[id];
      if (h === undefined) {
        h = findHelper(this.helpers, id);
        if (h !== undefined) this.helperCache[id] = h;
      }
      return h;
    }
    return findHelper(this.helpers, id);
  }

  /** HelperContext.callFunction: run a callback in the instance that is running, from inside a helper. */
  private callFunction(fn: number, args: readonly (number | bigint)[]): bigint {
    const c = this.ctx;
    const pc = c.pc, id = c.id;
    const bound = this.lastBound;
    if (bound?.callback === undefined || !this.compiled.shape.callbacks.some((e) => this.compiled.shape.index.at[e] === fn)) {
      throw new HelperArgumentError(`0x${fn.toString(16)} is not a function of the program`);
    }
    const v = this.space.view;
    // The helper's own arguments: the callback's helper calls reuse the words.
    const saved = this.space.bytes.slice(SCR_ARG + 8, SCR_ARG + 48);
    for (let r = 0; r < 5; r++) v.setBigUint64(SCR_ARG + 8 + 8 * r, r < args.length ? BigInt.asUintN(64, BigInt(args[r])) : 0n, true);
    this.cache.argsDirty = true;
    const depth = bound.depth!.value;
    let r0: bigint;
    try {
      r0 = bound.callback(fn, pc);
    } catch (err) {
      // A helper ended the callback (as the interpreter's, it returns to the helper that called it).
      if (err !== HALT) throw err;
      r0 = this.space.view.getBigUint64(SCR_R0, true);
      bound.depth!.value = depth;
    }
    this.space.bytes.set(saved, SCR_ARG + 8);
    this.validateCache();
    c.pc = pc;
    c.id = id;
    c.halted = false;
    return r0 < 0n ? BigInt.asUintN(64, r0) : r0;
  }

  /** A helper call, as the interpreter's: the result goes to the r0 scratch word. */
  private hostCall(pc: number, id: number, fn: Helper): void {
    const c = this.ctx;
    c.pc = pc;
    c.id = id;
    c.halted = false;
    let r: number | bigint;
    try {
      r = fn(c);
    } catch (e) {
      if (e instanceof VmError) throw e;
      if (e instanceof BpfkitError) throw new VmHelperError(pc, id, e);
      throw e;
    }
    const v = this.space.view;
    if (typeof r === 'number') {
      if ((r | 0) === r) {
        v.setInt32(SCR_R0, r, true);
        v.setInt32(SCR_R0 + 4, r >> 31, true);
      } else if (Number.isSafeInteger(r)) {
        v.setInt32(SCR_R0, r | 0, true);
        v.setInt32(SCR_R0 + 4, Math.floor(r / 4294967296) | 0, true);
      } else {
        throw new VmHelperError(pc, id, new HelperArgumentError(`returned ${r}, not an integer`));
      }
    } else if (typeof r === 'bigint') {
      v.setBigUint64(SCR_R0, BigInt.asUintN(64, r), true);
    } else {
      throw new VmHelperError(pc, id, new HelperArgumentError(`returned a ${typeof r}, not a number or bigint`));
    }
    this.validateCache();
    if (c.halted) throw HALT;
  }

  /** ldabs/ldind: big-endian read from the "packet" region into r0, or end the program with r0 = 0. */
  private packetLoad(off: number, size: number): void {
    const space = this.space;
    const packet = space.region('packet');
    const v = space.view;
    if (packet === undefined || off < 0 || off + size > packet.size) {
      v.setBigUint64(SCR_R0, 0n, true);
      throw HALT;
    }
    const a = packet.start + off;
    let lo: number, hi = 0;
    switch (size) {
      case 1: lo = v.getUint8(a); break;
      case 2: lo = v.getUint16(a, false); break;
      case 4: lo = v.getInt32(a, false); break;
      default: lo = v.getInt32(a + 4, false); hi = v.getInt32(a, false); break;
    }
    v.setInt32(SCR_R0, lo, true);
    v.setInt32(SCR_R0 + 4, hi, true);
  }

  /** A region-cache miss: check the access as the interpreter does, then cache its region. */
  private miss(pc: number, lo: number, hi: number, size: number, write: number): void {
    const space = this.space;
    const access = write ? 'write' : 'read';
    if (hi !== 0) throw space.fault(pc, access, BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0)), size);
    const a = space.check(lo >>> 0, size, access, pc);
    const region = space.regionAt(a)!;
    // Stacks are never cached: a computed pointer into one must be seen, to zero it before the next run.
    if (region.start < HEAP_BASE) {
      this.cache.stackDirty = true;
      return;
    }
    const w = write !== 0;
    this.setCache(region, w, 2);
    if ((w ? this.cache.write : this.cache.read) === undefined) this.setCache(region, w, 1);
  }

  private setCache(region: Region, write: boolean, entry: 1 | 2): void {
    const v = this.space.view;
    const at = entry === 1 ? (write ? SCR_WLO : SCR_RLO) : (write ? SCR_WLO2 : SCR_RLO2);
    v.setUint32(at, region.start, true);
    v.setUint32(at + 4, 0, true);
    for (const size of [1, 2, 4, 8] as const) {
      v.setUint32(at + cacheCountOffset(size), Math.max(0, region.size - size + 1), true);
      v.setUint32(at + cacheCountOffset(size) + 4, 0, true);
    }
    const c = this.cache;
    if (entry === 1) {
      if (write) c.write = region;
      else c.read = region;
    } else if (write) c.write2 = region;
    else c.read2 = region;
  }

  private clearCache(write: boolean, entry: 1 | 2): void {
    const v = this.space.view;
    const at = entry === 1 ? (write ? SCR_WLO : SCR_RLO) : (write ? SCR_WLO2 : SCR_RLO2);
    for (const size of [1, 2, 4, 8] as const) v.setFloat64(at + cacheCountOffset(size), 0);
    const c = this.cache;
    if (entry === 1) {
      if (write) c.write = undefined;
      else c.read = undefined;
    } else if (write) c.write2 = undefined;
    else c.read2 = undefined;
  }

  /** Start a run with the input region cached for both kinds of access. */
  private prime(region: Region): void {
    if (this.cache.read !== region) this.setCache(region, false, 1);
    if (this.cache.write !== region && region.writable) this.setCache(region, true, 1);
  }

  /** Forget cached regions that were unmapped (by the host or a helper). */
  private validateCache(): void {
    const cache = this.cache;
    const space = this.space;
    if (cache.read !== undefined && !space.isMapped(cache.read)) this.clearCache(false, 1);
    if (cache.write !== undefined && !space.isMapped(cache.write)) this.clearCache(true, 1);
    if (cache.read2 !== undefined && !space.isMapped(cache.read2)) this.clearCache(false, 2);
    if (cache.write2 !== undefined && !space.isMapped(cache.write2)) this.clearCache(true, 2);
  }
}

const NO_ARGS: readonly number[] = Object.freeze([]);
const NO_OPTIONS: { budget?: number } = Object.freeze({});
/** The result memory of runs without input (a zero-length array cannot be written). */
const NO_BYTES = new Uint8Array(0);
/** Indices in the typed views of the scratch words (module constants: no import lookups in the hot path). */
const ARG1 = (SCR_ARG + 8) / 4;
const R0_I32 = SCR_R0 / 4;
const BUDGET_F64 = SCR_BUDGET / 8;
/** r0 values most programs return (verdicts, small counts), as bigints made once. */
const SMALL: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));

function isSmallArg(v: number | bigint): boolean {
  return typeof v === 'number' && v >= 0 && v <= 0x7fffffff && Number.isInteger(v);
}

/** A number whose 64-bit value is its sign-extended low 32 bits, or a uint32 (the high half is then 0). */
function isWord(v: number): boolean {
  return (v | 0) === v || (v >>> 0) === v;
}

function checkBudget(b: number): number {
  if (!(b > 0) || !Number.isSafeInteger(b)) throw new VmConfigError(`instruction budget must be a positive integer, not ${b}`);
  return b;
}

/** Compile a program for repeated runs on the JIT (compiled modules are cached per program). */
export function compile(program: readonly Insn[] | Uint8Array, options: JitOptions = {}): JitProgram {
  return new JitProgram(program, options);
}

/** Run a program once on the JIT with the conformance convention (see JitProgram.run). */
export function runJit(program: readonly Insn[] | Uint8Array, options: { mem?: Uint8Array; helpers?: HelperTable; budget?: number; verified?: boolean } = {}): RunResult {
  return new JitProgram(program, { helpers: options.helpers, budget: options.budget, verified: options.verified }).run(options.mem);
}

