import { isReg, type AluOp, type Insn, type JmpCond, type Reg, type Size, type Source } from '../isa/index.js';
import { MAY_GOTO_BUDGET } from '../vm/interpreter.js';
import { MAX_FRAMES, STACK_BASE, STACK_SIZE, STACK_STRIDE } from '../vm/layout.js';
import { provenAccess, type VerifiedFacts } from '../vm/verified.js';
import { buildFunction, isTerminator, ProgramIndex, type FunctionGraph, type Ordinal } from './cfg.js';
import { cacheCountOffset, SCR_ARG, SCR_BUDGET, SCR_R0, SCR_RLO, SCR_RLO2, SCR_WLO, SCR_WLO2 } from './layout.js';
import { Code, F64, I32, I64, ModuleBuilder, Op, type ValType } from './wasm.js';

/**
 * eBPF to WebAssembly. One wasm function per eBPF function, registers in i64
 * locals, r0..r9 passed in and r0..r5 returned (the interpreter shares
 * r0..r5 between frames), structured control flow from the dominator tree
 * (Ramsey, "Beyond Relooper", 2022) and a loop + br_table dispatcher for
 * irreducible graphs.
 *
 * Memory accesses are checked against a region cache per access kind
 * (layout.ts): the first entry lives in locals, so a hit costs one
 * subtraction and one unsigned compare; otherwise the second entry is read
 * from memory, and a miss calls the host, which checks the access exactly
 * as the interpreter does (throwing the same VmMemoryError) and records the
 * region for the next run. Accesses at constant offsets from r10 inside
 * the frame need no check at all; `verified` drops the checks.
 *
 * The instruction budget is exact: every block subtracts its length, and
 * when the program can run longer than the budget (it has loops or a long
 * enough path), checkpoints (entry, loop headers, returns from calls) test
 * that the longest run to the next checkpoint fits; when it may not, the
 * function's careful twin takes over from that block, counting one
 * instruction at a time, so the budget error names the same instruction as
 * the interpreter's.
 */

export interface TranslateOptions {
  /**
   * true: drop every memory check (the verifier has proven every access
   * safe); the verifier's facts: drop the checks of the accesses they prove
   * in bounds (see src/vm/verified.ts).
   */
  readonly verified?: boolean | VerifiedFacts;
  /** Check the budget at checkpoints (else only count). */
  readonly checkBudget?: boolean;
  /**
   * Helpers compiled into the module instead of called through the host
   * (the hook for hot helpers: map lookups, ktime, prandom). See InlineHelper.
   */
  readonly inlineHelpers?: ReadonlyMap<number, InlineHelper>;
}

/**
 * Emits a helper's body at a call site (see TranslateOptions.inlineHelpers).
 * The emitter finds r1..r5 in locals 1..5 and must leave an i64 on the
 * stack: the new r0, or INLINE_DECLINED, which sends this call to the host
 * as an ordinary helper call (so an inline helper handles only the cases it
 * is sure of, and the host raises the errors). It may use no locals; for
 * more, it adds functions to the module with `site.func` and calls them.
 */
export type InlineHelper = (code: Code, site: InlineSite) => void;

/** What an inline helper may add to the module it is emitted into. */
export interface InlineSite {
  /**
   * Index of a module function built once per module for `key` (every call
   * site shares it): `make` gives its type, extra locals and body.
   */
  func(key: string, make: () => InlineFunction): number;
}

export interface InlineFunction {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly locals: readonly (readonly [number, ValType])[];
  readonly body: Code;
}

/** What an inline helper leaves on the stack to hand the call to the host (i64 minimum; no helper returns it). */
export const INLINE_DECLINED = -(2n ** 63n);

/** Above this many blocks a function uses the dispatcher (no deep recursion in the translator). */
const MAX_STRUCTURED_BLOCKS = 4000;

/** Imported host functions, in import order. */
export const IMPORTS = ['miss', 'budget', 'helper', 'callx', 'kfunc', 'packet', 'depth', 'end'] as const;
/**
 * Arguments each import takes. All share one type (IMPORT_ARITY i32s,
 * the unused ones 0): V8 then builds one import wrapper per instance, not
 * one per signature (see JitProgram.imports).
 */
const IMPORT_PARAMS: Record<(typeof IMPORTS)[number], number> = {
  miss: 5, budget: 1, helper: 2, callx: 3, kfunc: 3, packet: 3, depth: 1, end: 1,
};
const IMPORT_ARITY = 5;
const IMPORT_TYPE: readonly ValType[] = Array<ValType>(IMPORT_ARITY).fill(I32);

/** Call import `fn` whose own arguments are on the stack: pad them to the shared type. */
function callImport(c: Code, fn: number): void {
  for (let n = IMPORT_PARAMS[IMPORTS[fn]]; n < IMPORT_ARITY; n++) c.i32(0);
  c.call(fn);
}
const F_MISS = 0, F_BUDGET = 1, F_HELPER = 2, F_CALLX = 3, F_KFUNC = 4, F_PACKET = 5, F_DEPTH = 6, F_END = 7;

const G_BUDGET = 0, G_DEPTH = 1, G_MAYGOTO = 2, G_STATE = 3;

// Locals: r0..r9 are the parameters, then:
const L_R10 = 10, L_B = 11, L_T0 = 12, L_T1 = 13, L_RLO = 14, L_WLO = 15;
/** Valid start-offset counts of the cached regions, by access size (see layout.ts). */
const L_RCOUNT = 16, L_WCOUNT = 20;
const L_FPB = 24, L_STATE = 25, L_TI = 26;
const LOCALS: readonly (readonly [number, ValType])[] = [[14, I64], [3, I32]];
/** The careful twin takes r0..r10 and the budget as parameters 0..11. */
const CAREFUL_LOCALS: readonly (readonly [number, ValType])[] = [[12, I64], [3, I32]];
const SIZES: readonly Size[] = [1, 2, 4, 8];
const sizeIndex = (s: Size): number => (s === 1 ? 0 : s === 2 ? 1 : s === 4 ? 2 : 3);

const REG_PARAMS: readonly ValType[] = Array<ValType>(10).fill(I64);
const REG_RESULTS: readonly ValType[] = Array<ValType>(6).fill(I64);

export interface Translation {
  readonly bytes: Uint8Array;
  /** Deepest call depth the program can reach (MAX_FRAMES - 1 with recursion). */
  readonly maxDepth: number;
  /** Longest run in instructions (Infinity with loops or recursion). */
  readonly maxInsns: number;
}

/** Static facts about a program, used to pick the module variant. */
export interface ProgramShape {
  readonly index: ProgramIndex;
  readonly functions: ReadonlyMap<Ordinal, FunctionGraph>;
  readonly maxDepth: number;
  readonly maxInsns: number;
  /** Some instruction writes r10 (unverified code), so r10 is not always the frame pointer. */
  readonly writesR10: boolean;
  /**
   * The program can reach a stack only through memory the host sees
   * (it reads r10, or calls helpers): the stacks must be zeroed per run.
   * Otherwise only a forged pointer can, which the host notices (see miss).
   */
  readonly touchesStack: boolean;
  /** Entry ordinals of the functions lddw pseudo 'func' names (callbacks helpers may call). */
  readonly callbacks: readonly Ordinal[];
}

/** Whether an instruction writes register r. */
function writes(insn: Insn, r: Reg): boolean {
  switch (insn.kind) {
    case 'alu': case 'neg': case 'movsx': case 'endian': case 'lddw': case 'ldx':
      return insn.dst === r;
    case 'atomic':
      return insn.op === 'load_acquire' ? insn.dst === r : (insn.fetch || insn.op === 'xchg') && insn.op !== 'cmpxchg' && insn.src === r;
    default:
      return false;
  }
}

/** Whether an instruction reads register r. */
function reads(insn: Insn, r: Reg): boolean {
  switch (insn.kind) {
    case 'alu': return (insn.op !== 'mov' && insn.dst === r) || insn.src === r;
    case 'jmp': return insn.dst === r || insn.src === r;
    case 'neg': case 'endian': case 'st': case 'callx': return insn.dst === r;
    case 'movsx': case 'ldx': case 'ldind': return insn.src === r;
    case 'stx': return insn.dst === r || insn.src === r;
    case 'atomic': return insn.dst === r || insn.src === r || (insn.op === 'cmpxchg' && r === 0);
    default: return false;
  }
}

export function analyse(insns: readonly Insn[]): ProgramShape {
  const index = new ProgramIndex(insns);
  const functions = new Map<Ordinal, FunctionGraph>();
  const callbacks: Ordinal[] = [];
  // One plain loop for the instruction-level facts (no callbacks: this runs cold on a process's first compile).
  let writesR10 = false, touchesStack = false;
  for (let k = 0; k < insns.length; k++) {
    const insn = insns[k];
    if (insn.kind === 'lddw' && insn.pseudo === 'func') {
      const t = index.target(k, Number(BigInt.asIntN(32, insn.imm)));
      if (!callbacks.includes(t)) callbacks.push(t);
    }
    if (!writesR10 && writes(insn, 10)) writesR10 = true;
    if (!touchesStack && (reads(insn, 10) || insn.kind === 'call' || insn.kind === 'callx' || insn.kind === 'call_kfunc')) touchesStack = true;
  }
  const todo: Ordinal[] = [0, ...callbacks];
  while (todo.length > 0) {
    const e = todo.pop()!;
    if (functions.has(e)) continue;
    const g = buildFunction(index, e);
    functions.set(e, g);
    for (const c of g.callees) if (!functions.has(c)) todo.push(c);
  }
  // Longest path and depth over the call graph (Infinity / MAX_FRAMES-1 on cycles).
  const insnMemo = new Map<Ordinal, number>();
  const depthMemo = new Map<Ordinal, number>();
  const active = new Set<Ordinal>();
  const longest = (e: Ordinal): [number, number] => {
    if (active.has(e)) return [Infinity, Infinity];
    const known = insnMemo.get(e);
    if (known !== undefined) return [known, depthMemo.get(e)!];
    active.add(e);
    const g = functions.get(e)!;
    let depth = 0;
    const cost = new Array<number>(g.blocks.length).fill(0);
    let best = 0;
    for (let i = g.blocks.length - 1; i >= 0; i--) {
      const b = g.blocks[i];
      let c = b.count;
      const last = insns[b.first + b.count - 1];
      if (last?.kind === 'call_local') {
        const [ci, cd] = longest(index.target(b.first + b.count - 1, last.off));
        c += ci;
        depth = Math.max(depth, cd + 1);
      }
      let after = 0;
      for (const s of b.succ) after = Math.max(after, s <= i ? Infinity : cost[s]);
      cost[i] = c + after;
    }
    best = g.hasBackEdge ? Infinity : cost[0];
    active.delete(e);
    insnMemo.set(e, best);
    depthMemo.set(e, depth);
    return [best, depth];
  };
  const [maxInsns, depth] = longest(0);
  // Helpers call callbacks any number of times, in frames below any caller's.
  if (callbacks.length > 0) return { index, functions, maxInsns: Infinity, maxDepth: MAX_FRAMES - 1, writesR10, touchesStack, callbacks };
  return { index, functions, maxInsns, maxDepth: Math.min(depth, MAX_FRAMES - 1), writesR10, touchesStack, callbacks };
}

export function translate(shape: ProgramShape, options: TranslateOptions = {}): Translation {
  const mb = new ModuleBuilder();
  mb.importMemory('env', 'memory');
  for (const name of IMPORTS) mb.importFunc('env', name, IMPORT_TYPE);
  mb.global({ type: I64, mutable: true, init: 0 });
  mb.global({ type: I32, mutable: true, init: 0 });
  mb.global({ type: I32, mutable: true, init: 0 });
  mb.global({ type: I32, mutable: true, init: 0 });
  mb.exportGlobal('budget', G_BUDGET);
  const funcType = mb.type(REG_PARAMS, REG_RESULTS);
  const funcIndex = new Map<Ordinal, number>();
  for (const e of shape.functions.keys()) funcIndex.set(e, mb.declareFunc());
  // With budget checks, each function has a careful twin that counts one
  // instruction at a time, entered (at a block) when the budget gets short.
  const carefulIndex = new Map<Ordinal, number>();
  const check = options.checkBudget ?? true;
  if (check) for (const e of shape.functions.keys()) carefulIndex.set(e, mb.declareFunc());
  const carefulType = mb.type(Array<ValType>(12).fill(I64), REG_RESULTS);
  const entryWrapper = mb.declareFunc();
  const repeatWrapper = mb.declareFunc();
  const inlineFuncs = new Map<string, number>();
  const site: InlineSite = {
    func(key, make) {
      let f = inlineFuncs.get(key);
      if (f === undefined) {
        const def = make();
        f = mb.declareFunc();
        mb.defineFunc(f, { type: mb.type(def.params, def.results), locals: def.locals, body: def.body });
        inlineFuncs.set(key, f);
      }
      return f;
    },
  };
  for (const [e, g] of shape.functions) {
    const code = new FunctionEmitter(shape, g, funcIndex, options, 'normal', carefulIndex.get(e) ?? -1, site).emit();
    mb.defineFunc(funcIndex.get(e)!, { type: funcType, locals: LOCALS, body: code });
    if (check) {
      const careful = new FunctionEmitter(shape, g, funcIndex, options, 'careful', -1, site).emit();
      mb.defineFunc(carefulIndex.get(e)!, { type: carefulType, locals: CAREFUL_LOCALS, body: careful });
    }
  }
  mb.defineFunc(entryWrapper, {
    type: mb.type([F64, I32], []),
    locals: [[1, I64]],
    body: wrapper(funcIndex.get(0)!, shape.maxDepth),
  });
  mb.exportFunc('run', entryWrapper);
  mb.defineFunc(repeatWrapper, {
    type: mb.type([F64, I32, I32], []),
    locals: [],
    body: repeater(entryWrapper),
  });
  mb.exportFunc('repeat', repeatWrapper);
  if (shape.callbacks.length > 0) {
    const cb = mb.declareFunc();
    mb.defineFunc(cb, { type: mb.type([I32, I32], [I64]), locals: [], body: callbackEntry(shape, funcIndex) });
    mb.exportFunc('callback', cb);
    mb.exportGlobal('depth', G_DEPTH);
  }
  return { bytes: mb.encode(), maxDepth: shape.maxDepth, maxInsns: shape.maxInsns };
}

/**
 * run(budget, clear), with r1..r5 in the argument scratch words: sets up a
 * run, zeroes the stacks when `clear`, and stores r0 and the remaining
 * budget in their scratch words.
 * Two parameters only: the crossing from JavaScript costs per parameter.
 */
function wrapper(entry: number, maxDepth: number): Code {
  const c = new Code();
  const L_BUDGET = 0, L_CLEAR = 1, L_R0 = 2;
  c.localGet(L_BUDGET);
  c.op(Op.i64_trunc_f64_s);
  c.globalSet(G_BUDGET);
  c.i32(0);
  c.globalSet(G_DEPTH);
  c.i32(MAY_GOTO_BUDGET);
  c.globalSet(G_MAYGOTO);
  // Fresh zeroed stacks for every frame the run can use, as the interpreter's.
  c.localGet(L_CLEAR);
  c.block(Op.if);
  for (let i = 0; i <= maxDepth; i++) {
    c.i32(STACK_BASE + i * STACK_STRIDE);
    c.i32(0);
    c.i32(STACK_SIZE);
    c.memoryFill();
  }
  c.op(Op.end);
  c.i64(0); // r0
  for (let r = 1; r <= 5; r++) {
    c.i32(0);
    c.mem(Op.i64_load, SCR_ARG + 8 * r);
  }
  for (let r = 6; r < 10; r++) c.i64(0);
  c.call(entry);
  for (let r = 0; r < 5; r++) c.op(Op.drop);
  c.localSet(L_R0);
  // r0 goes to its scratch word, not back as an i64: JavaScript reads it as two halves (no BigInt per call).
  c.i32(0);
  c.localGet(L_R0);
  c.mem(Op.i64_store, SCR_R0);
  c.i32(0);
  c.globalGet(G_BUDGET);
  c.op(Op.f64_convert_i64_s);
  c.mem(Op.f64_store, SCR_BUDGET);
  return c;
}

/**
 * callback(slot, pc) -> r0: HelperContext.callFunction from a helper the
 * program called at `pc`: the function whose entry is at `slot` runs one
 * frame deeper than its caller, r1..r5 from the argument scratch words, the
 * budget in G_BUDGET (where the helper call left it).
 */
function callbackEntry(shape: ProgramShape, funcIndex: ReadonlyMap<Ordinal, number>): Code {
  const c = new Code();
  const L_SLOT = 0, L_PC = 1;
  c.globalGet(G_DEPTH);
  c.i32(MAX_FRAMES - 1);
  c.op(Op.i32_ge_s);
  c.block(Op.if);
  c.localGet(L_PC);
  callImport(c, F_DEPTH);
  c.op(Op.end);
  c.globalGet(G_DEPTH);
  c.i32(1);
  c.op(Op.i32_add);
  c.globalSet(G_DEPTH);
  for (const e of shape.callbacks) {
    c.localGet(L_SLOT);
    c.i32(shape.index.at[e]);
    c.op(Op.i32_eq);
    c.block(Op.if);
    c.i64(0);
    for (let r = 1; r <= 5; r++) {
      c.i32(0);
      c.mem(Op.i64_load, SCR_ARG + 8 * r);
    }
    for (let r = 6; r < 10; r++) c.i64(0);
    c.call(funcIndex.get(e)!);
    for (let r = 0; r < 5; r++) c.op(Op.drop);
    c.globalGet(G_DEPTH);
    c.i32(1);
    c.op(Op.i32_sub);
    c.globalSet(G_DEPTH);
    c.op(Op.return);
    c.op(Op.end);
  }
  c.op(Op.unreachable);
  return c;
}

/**
 * repeat(budget, clear, count): `count` runs (r0 of the last in its word)
 * in a loop inside the module, as the kernel's BPF_PROG_TEST_RUN repeats a
 * program without returning to user space in between.
 */
function repeater(run: number): Code {
  const c = new Code();
  const L_COUNT = 2;
  c.block(Op.loop);
  for (let i = 0; i < 2; i++) c.localGet(i);
  c.call(run);
  c.localGet(L_COUNT);
  c.i32(1);
  c.op(Op.i32_sub);
  c.localTee(L_COUNT);
  c.i32(0);
  c.op(Op.i32_gt_s);
  c.brIf(0);
  c.op(Op.end);
  return c;
}

type Label = { readonly kind: 'loop' | 'block' | 'if' | 'dispatch'; readonly node: number };

const CMP64: Record<JmpCond, number> = {
  jeq: Op.i64_eq, jne: Op.i64_ne, jgt: Op.i64_gt_u, jge: Op.i64_ge_u, jlt: Op.i64_lt_u, jle: Op.i64_le_u,
  jsgt: Op.i64_gt_s, jsge: Op.i64_ge_s, jslt: Op.i64_lt_s, jsle: Op.i64_le_s, jset: -1,
};
const CMP32: Record<JmpCond, number> = {
  jeq: Op.i32_eq, jne: Op.i32_ne, jgt: Op.i32_gt_u, jge: Op.i32_ge_u, jlt: Op.i32_lt_u, jle: Op.i32_le_u,
  jsgt: Op.i32_gt_s, jsge: Op.i32_ge_s, jslt: Op.i32_lt_s, jsle: Op.i32_le_s, jset: -1,
};
const ALU64: Partial<Record<AluOp, number>> = {
  add: Op.i64_add, sub: Op.i64_sub, mul: Op.i64_mul, or: Op.i64_or, and: Op.i64_and, xor: Op.i64_xor,
  lsh: Op.i64_shl, rsh: Op.i64_shr_u, arsh: Op.i64_shr_s,
};
const ALU32: Partial<Record<AluOp, number>> = {
  add: Op.i32_add, sub: Op.i32_sub, mul: Op.i32_mul, or: Op.i32_or, and: Op.i32_and, xor: Op.i32_xor,
  lsh: Op.i32_shl, rsh: Op.i32_shr_u, arsh: Op.i32_shr_s,
};

const NO_CHECKPOINTS = new Int32Array(0);

class FunctionEmitter {
  private readonly c = new Code();
  private readonly labels: Label[] = [];
  private readonly insns: readonly Insn[];
  /** Every access unchecked (verified: true). */
  private readonly verified: boolean;
  /** Accesses proven in bounds, by slot (verified: facts). */
  private readonly facts: VerifiedFacts | undefined;
  private readonly checkBudget: boolean;
  /** Budget checkpoints (entry, loop headers, returns from calls), with the instructions each must cover. */
  private readonly need: Int32Array;

  constructor(
    private readonly shape: ProgramShape,
    private readonly g: FunctionGraph,
    private readonly funcIndex: ReadonlyMap<Ordinal, number>,
    options: TranslateOptions,
    /** careful: the twin counting one instruction at a time, entered at block G_STATE. */
    private readonly mode: 'normal' | 'careful',
    private readonly carefulFunc: number,
    /** Where inline helpers add their module functions. */
    private readonly site: InlineSite,
  ) {
    this.insns = shape.index.insns;
    this.verified = options.verified === true;
    this.facts = typeof options.verified === 'object' ? options.verified : undefined;
    this.checkBudget = options.checkBudget ?? true;
    // Only the budget-checked normal function tests checkpoints.
    this.need = this.checkBudget && mode === 'normal' ? this.checkpoints() : NO_CHECKPOINTS;
    this.structured = g.reducible && mode === 'normal' && g.blocks.length <= MAX_STRUCTURED_BLOCKS;
    this.inlineHelpers = options.inlineHelpers;
  }

  private readonly inlineHelpers: ReadonlyMap<number, InlineHelper> | undefined;

  /** Structured (Ramsey) or dispatcher control flow. */
  private readonly structured: boolean;

  /**
   * need[x] > 0 marks a checkpoint: the longest run of instructions from x
   * to the next checkpoint. Every cycle passes a loop header, and a call
   * consumes an unknown amount, so checking there keeps the count exact:
   * a run that fits runs fast, one that may not goes careful.
   */
  private checkpoints(): Int32Array {
    const g = this.g;
    const m = g.blocks.length;
    const need = new Int32Array(m);
    const point = new Uint8Array(m);
    point[0] = 1;
    const everyBlock = !g.reducible || m > MAX_STRUCTURED_BLOCKS;
    const callbacks = this.shape.callbacks.length > 0;
    for (let i = 0; i < m; i++) {
      const b = g.blocks[i];
      if (everyBlock || g.loopHeader[i]) point[i] = 1;
      const last = this.insns[b.first + b.count - 1] as Insn | undefined;
      if (last === undefined) continue;
      // After a call, and after a helper when callbacks (which spend budget) may run.
      if (last.kind === 'call_local' || (callbacks && (last.kind === 'call' || last.kind === 'callx' || last.kind === 'call_kfunc'))) {
        for (const s of b.succ) point[s] = 1;
      }
    }
    const longest = new Float64Array(m);
    for (let i = m - 1; i >= 0; i--) {
      let after = 0;
      for (const s of g.blocks[i].succ) if (!point[s] && s > i) after = Math.max(after, longest[s]);
      longest[i] = g.blocks[i].count + after;
    }
    for (let i = 0; i < m; i++) if (point[i]) need[i] = Math.min(longest[i], 0x7fffffff);
    return need;
  }

  emit(): Code {
    const c = this.c;
    if (this.mode === 'normal') {
      c.globalGet(G_BUDGET);
      c.localSet(L_B);
    }
    c.globalGet(G_DEPTH);
    c.i32(STACK_STRIDE);
    c.op(Op.i32_mul);
    c.i32(STACK_BASE);
    c.op(Op.i32_add);
    c.localTee(L_FPB);
    if (this.mode === 'normal') {
      c.op(Op.i64_extend_i32_u);
      c.i64(STACK_SIZE);
      c.op(Op.i64_add);
      c.localSet(L_R10);
    } else {
      c.op(Op.drop);
    }
    this.reloadCache();
    if (this.structured) this.tree(0);
    else this.dispatch();
    c.op(Op.unreachable);
    return c;
  }

  // ---- structured control flow (Ramsey 2022)

  private tree(x: number): void {
    // Merge-node children, latest in reverse postorder first (insertion sort: a handful at most).
    const merge = this.g.merge;
    const kids: number[] = [];
    for (const k of this.g.domChildren[x]) {
      if (!merge[k]) continue;
      let i = kids.length;
      while (i > 0 && kids[i - 1] < k) { kids[i] = kids[i - 1]; i--; }
      kids[i] = k;
    }
    if (this.g.loopHeader[x]) {
      this.c.block(Op.loop);
      this.labels.push({ kind: 'loop', node: x });
      this.within(x, kids, 0);
      this.labels.pop();
      this.c.op(Op.end);
    } else {
      this.within(x, kids, 0);
    }
  }

  private within(x: number, kids: readonly number[], k: number): void {
    if (k === kids.length) {
      this.blockCode(x);
      return;
    }
    this.c.block(Op.block);
    this.labels.push({ kind: 'block', node: kids[k] });
    this.within(x, kids, k + 1);
    this.labels.pop();
    this.c.op(Op.end);
    this.tree(kids[k]);
  }

  private depthOf(kind: Label['kind'], node: number): number {
    for (let i = this.labels.length - 1; i >= 0; i--) {
      const l = this.labels[i];
      if (l.kind === kind && l.node === node) return this.labels.length - 1 - i;
    }
    throw new Error(`internal: no enclosing ${kind} for block ${node}`);
  }

  /** A branch from x to y that is a `br` (not inlined code), with its depth; or -1. */
  private brDepth(x: number, y: number): number {
    if (!this.structured) return -1;
    if (y <= x) return this.depthOf('loop', y);
    if (this.g.merge[y]) return this.depthOf('block', y);
    return -1;
  }

  private branch(x: number, y: number): void {
    if (!this.structured) {
      this.c.i32(y);
      this.c.localSet(L_STATE);
      this.c.br(this.depthOf('dispatch', 0));
      return;
    }
    const d = this.brDepth(x, y);
    if (d >= 0) this.c.br(d);
    else this.tree(y);
  }

  /** Fallback for irreducible graphs: loop { block* { br_table } code... }. */
  private dispatch(): void {
    const c = this.c;
    const m = this.g.blocks.length;
    if (this.mode === 'careful') c.globalGet(G_STATE);
    else c.i32(0);
    c.localSet(L_STATE);
    c.block(Op.loop);
    this.labels.push({ kind: 'dispatch', node: 0 });
    for (let i = m - 1; i >= 0; i--) {
      c.block(Op.block);
      this.labels.push({ kind: 'block', node: i });
    }
    c.localGet(L_STATE);
    c.op(Op.br_table);
    c.u32(m);
    for (let i = 0; i < m; i++) c.u32(i);
    c.u32(0);
    for (let i = 0; i < m; i++) {
      this.labels.pop();
      c.op(Op.end);
      this.blockCode(i);
    }
    this.labels.pop();
    c.op(Op.end);
  }

  // ---- blocks

  private blockCode(x: number): void {
    const c = this.c;
    const b = this.g.blocks[x];
    const lastOrd = b.first + b.count - 1;
    const last = this.insns[lastOrd] as Insn | undefined;
    const term = isTerminator(last);
    const bodyEnd = term ? lastOrd : lastOrd + 1;
    if (this.mode === 'careful') {
      for (let k = b.first; k <= lastOrd; k++) {
        c.localGet(L_B);
        c.op(Op.i64_eqz);
        c.block(Op.if);
        c.i32(this.shape.index.at[k]);
        callImport(c, F_BUDGET);
        c.op(Op.end);
        this.countDown(1);
        if (k < bodyEnd) this.insn(k);
      }
    } else if (this.checkBudget) {
      if (this.need[x] > 0) {
        // Not enough budget for the longest run to the next checkpoint: go careful from here.
        c.localGet(L_B);
        c.i64(this.need[x]);
        c.op(Op.i64_lt_s);
        c.block(Op.if);
        c.i32(x);
        c.globalSet(G_STATE);
        for (let r = 0; r <= 11; r++) c.localGet(r);
        c.call(this.carefulFunc);
        c.op(Op.return);
        c.op(Op.end);
      }
      this.countDown(b.count);
      for (let k = b.first; k < bodyEnd; k++) this.insn(k);
    } else {
      this.countDown(b.count);
      for (let k = b.first; k < bodyEnd; k++) this.insn(k);
    }
    if (!term) {
      this.branch(x, b.succ[0]);
      return;
    }
    this.terminator(x, lastOrd, last);
  }

  private countDown(n: number): void {
    const c = this.c;
    c.localGet(L_B);
    c.i64(n);
    c.op(Op.i64_sub);
    c.localSet(L_B);
  }

  private terminator(x: number, k: Ordinal, insn: Insn | undefined): void {
    const c = this.c;
    const b = this.g.blocks[x];
    const pc = this.shape.index.at[k];
    if (insn === undefined) {
      c.i32(pc);
      callImport(c, F_END);
      c.op(Op.unreachable);
      return;
    }
    switch (insn.kind) {
      case 'jmp': {
        const [t, f] = b.succ;
        this.condition(insn.width, insn.cond, insn.dst, insn.src);
        const dt = this.brDepth(x, t);
        const df = this.brDepth(x, f);
        if (dt >= 0) {
          c.brIf(dt);
          this.branch(x, f);
        } else if (df >= 0) {
          c.op(Op.i32_eqz);
          c.brIf(df);
          this.branch(x, t);
        } else {
          c.block(Op.if);
          this.labels.push({ kind: 'if', node: -1 });
          this.branch(x, t);
          c.op(Op.else);
          this.branch(x, f);
          this.labels.pop();
          c.op(Op.end);
        }
        return;
      }
      case 'may_goto':
        this.mayGoto(x);
        return;
      case 'ja':
        this.branch(x, b.succ[0]);
        return;
      case 'exit':
        c.localGet(L_B);
        c.globalSet(G_BUDGET);
        for (let r = 0; r <= 5; r++) c.localGet(r);
        c.op(Op.return);
        return;
      case 'call':
        this.helperCall(pc, insn.helper);
        break;
      case 'call_local':
        this.localCall(pc, this.shape.index.target(k, insn.off));
        break;
      case 'callx': case 'call_kfunc': case 'ldabs': case 'ldind':
        this.rareCall(pc, insn);
        break;
      default:
        throw new Error(`internal: ${insn.kind} is not a terminator`);
    }
    this.branch(x, b.succ[0]);
  }

  private mayGoto(x: number): void {
    const c = this.c;
    const [t, f] = this.g.blocks[x].succ;
    c.globalGet(G_MAYGOTO);
    c.op(Op.i32_eqz);
    c.block(Op.if);
    this.labels.push({ kind: 'if', node: -1 });
    this.branch(x, t);
    c.op(Op.else);
    c.globalGet(G_MAYGOTO);
    c.i32(1);
    c.op(Op.i32_sub);
    c.globalSet(G_MAYGOTO);
    this.branch(x, f);
    this.labels.pop();
    c.op(Op.end);
  }

  /** A helper call: compiled into the module (an inline helper), else through the host. */
  private helperCall(pc: number, helper: number): void {
    const c = this.c;
    const inline = this.inlineHelpers?.get(helper);
    if (inline === undefined) {
      this.hostCallArgs(pc);
      c.i32(helper);
      this.hostCallDone(F_HELPER);
      return;
    }
    inline(c, this.site);
    c.localTee(L_T0);
    c.i64(INLINE_DECLINED);
    c.op(Op.i64_eq);
    c.block(Op.if);
    this.labels.push({ kind: 'if', node: -1 });
    this.hostCallArgs(pc);
    c.i32(helper);
    this.hostCallDone(F_HELPER);
    c.op(Op.else);
    c.localGet(L_T0);
    c.localSet(0);
    this.labels.pop();
    c.op(Op.end);
  }

  /** callx, kfunc calls and packet loads: apart, so programs without them do not make V8 compile this. */
  private rareCall(pc: number, insn: Extract<Insn, { kind: 'callx' | 'call_kfunc' | 'ldabs' | 'ldind' }>): void {
    const c = this.c;
    switch (insn.kind) {
      case 'callx':
        this.hostCallArgs(pc);
        this.halves(insn.dst);
        this.hostCallDone(F_CALLX);
        return;
      case 'call_kfunc':
        this.hostCallArgs(pc);
        c.i32(insn.btfId);
        c.i32(insn.module);
        this.hostCallDone(F_KFUNC);
        return;
      default:
        c.localGet(L_B);
        c.globalSet(G_BUDGET);
        c.i32(pc);
        if (insn.kind === 'ldind') {
          c.localGet(insn.src);
          c.op(Op.i32_wrap_i64);
          c.i32(insn.imm);
          c.op(Op.i32_add);
        } else {
          c.i32(insn.imm);
        }
        c.i32(insn.size);
        callImport(c, F_PACKET);
        c.i32(0);
        c.mem(Op.i64_load, SCR_R0);
        c.localSet(0);
    }
  }

  private halves(r: Reg): void {
    const c = this.c;
    c.localGet(r);
    c.op(Op.i32_wrap_i64);
    c.localGet(r);
    c.i64(32);
    c.op(Op.i64_shr_u);
    c.op(Op.i32_wrap_i64);
  }

  /**
   * A call to the host, first half: r1..r5 to their scratch words, the
   * budget to its global, and pc as the import's first argument. The
   * caller then pushes the import's other arguments and calls hostCallDone.
   */
  private hostCallArgs(pc: number): void {
    const c = this.c;
    for (let r = 1; r <= 5; r++) {
      c.i32(0);
      c.localGet(r);
      c.mem(Op.i64_store, SCR_ARG + 8 * r);
    }
    c.localGet(L_B);
    c.globalSet(G_BUDGET);
    c.i32(pc);
  }

  /** A call to the host, second half: call import `fn` (its arguments pushed), take r0 from its word. */
  private hostCallDone(fn: number): void {
    const c = this.c;
    callImport(c, fn);
    c.i32(0);
    c.mem(Op.i64_load, SCR_R0);
    c.localSet(0);
    if (this.shape.callbacks.length > 0) {
      // Callbacks the helper ran spent budget.
      c.globalGet(G_BUDGET);
      c.localSet(L_B);
    }
    this.reloadCache();
  }

  private localCall(pc: number, target: Ordinal): void {
    const c = this.c;
    c.globalGet(G_DEPTH);
    c.i32(MAX_FRAMES - 1);
    c.op(Op.i32_ge_s);
    c.block(Op.if);
    c.i32(pc);
    callImport(c, F_DEPTH);
    c.op(Op.end);
    c.globalGet(G_DEPTH);
    c.i32(1);
    c.op(Op.i32_add);
    c.globalSet(G_DEPTH);
    c.localGet(L_B);
    c.globalSet(G_BUDGET);
    for (let r = 0; r < 10; r++) c.localGet(r);
    c.call(this.funcIndex.get(target)!);
    for (let r = 5; r >= 0; r--) c.localSet(r);
    c.globalGet(G_DEPTH);
    c.i32(1);
    c.op(Op.i32_sub);
    c.globalSet(G_DEPTH);
    c.globalGet(G_BUDGET);
    c.localSet(L_B);
    this.reloadCache();
  }

  /**
   * Load the region cache into locals: only the (kind, size) pairs this
   * function checks, so loops keep few values live.
   */
  private reloadCache(): void {
    if (this.verified) return;
    const c = this.c;
    const used = this.usedCache;
    for (let shift = 0; shift <= 4; shift += 4) {
      if ((used >> shift & 15) === 0) continue;
      const read = shift === 0;
      const lo = read ? L_RLO : L_WLO, count = read ? L_RCOUNT : L_WCOUNT, at = read ? SCR_RLO : SCR_WLO;
      c.i32(0);
      c.mem(Op.i64_load, at);
      c.localSet(lo);
      for (const size of SIZES) {
        if ((used & (1 << (shift + sizeIndex(size)))) === 0) continue;
        c.i32(0);
        c.mem(Op.i64_load, at + cacheCountOffset(size));
        c.localSet(count + sizeIndex(size));
      }
    }
  }

  /** Bit (kind * 4 + size index) per checked access kind and size in this function. */
  private get usedCache(): number {
    if (this.usedCacheBits >= 0) return this.usedCacheBits;
    let bits = 0;
    for (const b of this.g.blocks) {
      for (let k = b.first; k < b.first + b.count; k++) {
        const insn = this.insns[k] as Insn | undefined;
        if (insn === undefined) continue;
        let write: boolean;
        if (insn.kind === 'ldx') write = false;
        else if (insn.kind === 'st' || insn.kind === 'stx') write = true;
        else if (insn.kind === 'atomic') write = insn.op !== 'load_acquire';
        else continue;
        if (provenAccess(this.facts, this.shape.index.at[k])) continue;
        bits |= 1 << ((write ? 4 : 0) + sizeIndex(insn.size));
      }
    }
    return (this.usedCacheBits = bits);
  }
  private usedCacheBits = -1;

  // ---- straight-line instructions

  private src64(s: Source): void {
    if (isReg(s)) this.c.localGet(s);
    else this.c.i64(s.imm | 0);
  }

  private src32(s: Source): void {
    if (isReg(s)) {
      this.c.localGet(s);
      this.c.op(Op.i32_wrap_i64);
    } else {
      this.c.i32(s.imm | 0);
    }
  }

  private condition(width: 32 | 64, cond: JmpCond, dst: Reg, src: Source): void {
    const c = this.c;
    if (width === 64) {
      c.localGet(dst);
      this.src64(src);
      if (cond === 'jset') {
        c.op(Op.i64_and);
        c.op(Op.i64_eqz);
        c.op(Op.i32_eqz);
      } else {
        c.op(CMP64[cond]);
      }
    } else {
      c.localGet(dst);
      c.op(Op.i32_wrap_i64);
      this.src32(src);
      if (cond === 'jset') {
        c.op(Op.i32_and);
        c.op(Op.i32_eqz);
        c.op(Op.i32_eqz);
      } else {
        c.op(CMP32[cond]);
      }
    }
  }

  private insn(k: Ordinal): void {
    const c = this.c;
    const insn = this.insns[k];
    const pc = this.shape.index.at[k];
    switch (insn.kind) {
      case 'alu':
        if (insn.width === 64) this.alu64(insn.op, insn.dst, insn.src);
        else this.alu32(insn.op, insn.dst, insn.src);
        return;
      case 'neg': case 'movsx':
        this.negOrMovsx(insn);
        return;
      case 'endian':
        this.endian(insn.order, insn.bits, insn.dst);
        return;
      case 'lddw':
        // A function's address is its entry slot, as the interpreter's (see lower).
        c.i64(insn.pseudo === 'func' ? BigInt(pc + 1 + Number(BigInt.asIntN(32, insn.imm))) : insn.imm);
        c.localSet(insn.dst);
        return;
      case 'ldx':
        this.address(pc, insn.src, insn.off, insn.size, false);
        c.mem(loadOp(insn.size, insn.signExtend), this.memOffset);
        c.localSet(insn.dst);
        return;
      case 'st':
        this.address(pc, insn.dst, insn.off, insn.size, true);
        c.i64(insn.imm | 0);
        c.mem(storeOp(insn.size), this.memOffset);
        return;
      case 'stx':
        this.address(pc, insn.dst, insn.off, insn.size, true);
        c.localGet(insn.src);
        c.mem(storeOp(insn.size), this.memOffset);
        return;
      case 'atomic':
        this.atomic(pc, insn);
        return;
      default:
        throw new Error(`internal: ${insn.kind} inside a block`);
    }
  }

  /** Rarer ALU forms, apart from insn() (see divide64). */
  private negOrMovsx(insn: Extract<Insn, { kind: 'neg' | 'movsx' }>): void {
    const c = this.c;
    if (insn.kind === 'neg') {
      if (insn.width === 64) {
        c.i64(0);
        c.localGet(insn.dst);
        c.op(Op.i64_sub);
      } else {
        c.i32(0);
        c.localGet(insn.dst);
        c.op(Op.i32_wrap_i64);
        c.op(Op.i32_sub);
        c.op(Op.i64_extend_i32_u);
      }
    } else {
      c.localGet(insn.src);
      if (insn.width === 64) {
        c.op(insn.bits === 8 ? Op.i64_extend8_s : insn.bits === 16 ? Op.i64_extend16_s : Op.i64_extend32_s);
      } else {
        c.op(Op.i32_wrap_i64);
        c.op(insn.bits === 8 ? Op.i32_extend8_s : Op.i32_extend16_s);
        c.op(Op.i64_extend_i32_u);
      }
    }
    c.localSet(insn.dst);
  }

  private alu64(op: AluOp, d: Reg, s: Source): void {
    const c = this.c;
    const simple = ALU64[op];
    if (op === 'mov') {
      this.src64(s);
      c.localSet(d);
      return;
    }
    if (simple !== undefined) {
      c.localGet(d);
      this.src64(s);
      c.op(simple);
      c.localSet(d);
      return;
    }
    this.divide64(op, d, s);
  }

  /** Division and modulo: apart, as most programs have none (V8 compiles a method on its first call). */
  private divide64(op: AluOp, d: Reg, s: Source): void {
    const c = this.c;
    const signed = op === 'sdiv' || op === 'smod';
    const mod = op === 'mod' || op === 'smod';
    if (!isReg(s)) {
      const v = s.imm | 0;
      if (v === 0) {
        if (!mod) { c.i64(0); c.localSet(d); }
        return;
      }
      if (signed && v === -1) {
        c.i64(0);
        if (!mod) { c.localGet(d); c.op(Op.i64_sub); }
        c.localSet(d);
        return;
      }
      c.localGet(d);
      c.i64(v);
      c.op(signed ? (mod ? Op.i64_rem_s : Op.i64_div_s) : (mod ? Op.i64_rem_u : Op.i64_div_u));
      c.localSet(d);
      return;
    }
    // d = s == 0 ? (mod ? d : 0) : s == -1 && signed ? (mod ? 0 : -d) : d op s
    c.localGet(s);
    c.op(Op.i64_eqz);
    c.block(Op.if, I64);
    if (mod) c.localGet(d);
    else c.i64(0);
    c.op(Op.else);
    if (signed) {
      c.localGet(s);
      c.i64(-1);
      c.op(Op.i64_eq);
      c.block(Op.if, I64);
      c.i64(0);
      if (!mod) { c.localGet(d); c.op(Op.i64_sub); }
      c.op(Op.else);
    }
    c.localGet(d);
    c.localGet(s);
    c.op(signed ? (mod ? Op.i64_rem_s : Op.i64_div_s) : (mod ? Op.i64_rem_u : Op.i64_div_u));
    if (signed) c.op(Op.end);
    c.op(Op.end);
    c.localSet(d);
  }

  private alu32(op: AluOp, d: Reg, s: Source): void {
    const c = this.c;
    if (op === 'mov') {
      if (isReg(s)) {
        c.localGet(s);
        c.i64(0xffffffff);
        c.op(Op.i64_and);
      } else {
        c.i64(s.imm >>> 0);
      }
      c.localSet(d);
      return;
    }
    const simple = ALU32[op];
    if (simple !== undefined) {
      c.localGet(d);
      c.op(Op.i32_wrap_i64);
      this.src32(s);
      c.op(simple);
      c.op(Op.i64_extend_i32_u);
      c.localSet(d);
      return;
    }
    this.divide32(op, d, s);
  }

  /** 32-bit division and modulo (see divide64). */
  private divide32(op: AluOp, d: Reg, s: Source): void {
    const c = this.c;
    const signed = op === 'sdiv' || op === 'smod';
    const mod = op === 'mod' || op === 'smod';
    const wrapD = (): void => { c.localGet(d); c.op(Op.i32_wrap_i64); };
    const opc = signed ? (mod ? Op.i32_rem_s : Op.i32_div_s) : (mod ? Op.i32_rem_u : Op.i32_div_u);
    if (!isReg(s)) {
      const v = s.imm | 0;
      if (v === 0) {
        if (mod) wrapD();
        else c.i32(0);
      } else if (signed && v === -1) {
        c.i32(0);
        if (!mod) { wrapD(); c.op(Op.i32_sub); }
      } else {
        wrapD();
        c.i32(v);
        c.op(opc);
      }
      c.op(Op.i64_extend_i32_u);
      c.localSet(d);
      return;
    }
    c.localGet(s);
    c.op(Op.i32_wrap_i64);
    c.op(Op.i32_eqz);
    c.block(Op.if, I32);
    if (mod) wrapD();
    else c.i32(0);
    c.op(Op.else);
    if (signed) {
      c.localGet(s);
      c.op(Op.i32_wrap_i64);
      c.i32(-1);
      c.op(Op.i32_eq);
      c.block(Op.if, I32);
      c.i32(0);
      if (!mod) { wrapD(); c.op(Op.i32_sub); }
      c.op(Op.else);
    }
    wrapD();
    c.localGet(s);
    c.op(Op.i32_wrap_i64);
    c.op(opc);
    if (signed) c.op(Op.end);
    c.op(Op.end);
    c.op(Op.i64_extend_i32_u);
    c.localSet(d);
  }

  private endian(order: 'le' | 'be' | 'swap', bits: 16 | 32 | 64, d: Reg): void {
    const c = this.c;
    if (order === 'le') {
      if (bits === 64) return;
      c.localGet(d);
      c.i64(bits === 16 ? 0xffff : 0xffffffff);
      c.op(Op.i64_and);
      c.localSet(d);
      return;
    }
    if (bits === 16) {
      c.localGet(d);
      c.i64(0xff);
      c.op(Op.i64_and);
      c.i64(8);
      c.op(Op.i64_shl);
      c.localGet(d);
      c.i64(8);
      c.op(Op.i64_shr_u);
      c.i64(0xff);
      c.op(Op.i64_and);
      c.op(Op.i64_or);
      c.localSet(d);
      return;
    }
    if (bits === 32) {
      c.localGet(d);
      c.op(Op.i32_wrap_i64);
      this.bswap32();
      c.op(Op.i64_extend_i32_u);
      c.localSet(d);
      return;
    }
    c.localGet(d);
    c.op(Op.i32_wrap_i64);
    this.bswap32();
    c.op(Op.i64_extend_i32_u);
    c.i64(32);
    c.op(Op.i64_shl);
    c.localGet(d);
    c.i64(32);
    c.op(Op.i64_shr_u);
    c.op(Op.i32_wrap_i64);
    this.bswap32();
    c.op(Op.i64_extend_i32_u);
    c.op(Op.i64_or);
    c.localSet(d);
  }

  /** Byte swap of the i32 on the stack (uses L_TI). */
  private bswap32(): void {
    const c = this.c;
    c.localTee(L_TI);
    c.i32(8);
    c.op(Op.i32_rotl);
    c.i32(0x00ff00ff);
    c.op(Op.i32_and);
    c.localGet(L_TI);
    c.i32(8);
    c.op(Op.i32_rotr);
    c.i32(0xff00ff00 | 0);
    c.op(Op.i32_and);
    c.op(Op.i32_or);
  }

  /** memarg offset for the access address() just pushed. */
  private memOffset = 0;

  /**
   * Push the i32 linear-memory address of [base + off, +size), checked
   * (unless verified), and set memOffset for the load or store.
   */
  private address(pc: number, base: Reg, off: number, size: Size, write: boolean): void {
    const c = this.c;
    if (base === 10 && !this.shape.writesR10 && off >= -STACK_SIZE && off <= -size) {
      c.localGet(L_FPB);
      this.memOffset = off + STACK_SIZE;
      return;
    }
    if (this.verified || provenAccess(this.facts, pc)) {
      c.localGet(base);
      c.op(Op.i32_wrap_i64);
      if (off >= 0) this.memOffset = off;
      else {
        c.i32(off);
        c.op(Op.i32_add);
        this.memOffset = 0;
      }
      return;
    }
    const lo = write ? L_WLO : L_RLO;
    const count = (write ? L_WCOUNT : L_RCOUNT) + sizeIndex(size);
    c.localGet(base);
    if (off !== 0) {
      c.i64(off);
      c.op(Op.i64_add);
    }
    c.localTee(L_T0);
    c.localGet(lo);
    c.op(Op.i64_sub);
    c.localGet(count);
    c.op(Op.i64_ge_u);
    c.block(Op.if);
    // Second chance: the region of the latest miss, from scratch memory.
    // The locals are not reloaded here: a value redefined on this path
    // would be carried around hot loops (measured: fnv 1.5x slower).
    const second = write ? SCR_WLO2 : SCR_RLO2;
    c.localGet(L_T0);
    c.i32(0);
    c.mem(Op.i64_load, second);
    c.op(Op.i64_sub);
    c.i32(0);
    c.mem(Op.i64_load, second + cacheCountOffset(size));
    c.op(Op.i64_ge_u);
    c.block(Op.if);
    c.i32(pc);
    this.halvesOfLocal(L_T0);
    c.i32(size);
    c.i32(write ? 1 : 0);
    callImport(c, F_MISS);
    c.op(Op.end);
    c.op(Op.end);
    c.localGet(L_T0);
    c.op(Op.i32_wrap_i64);
    this.memOffset = 0;
  }

  private halvesOfLocal(l: number): void {
    const c = this.c;
    c.localGet(l);
    c.op(Op.i32_wrap_i64);
    c.localGet(l);
    c.i64(32);
    c.op(Op.i64_shr_u);
    c.op(Op.i32_wrap_i64);
  }

  private atomic(pc: number, insn: Extract<Insn, { kind: 'atomic' }>): void {
    const c = this.c;
    if (insn.op === 'load_acquire') {
      this.address(pc, insn.src, insn.off, insn.size, false);
      c.mem(loadOp(insn.size, false), this.memOffset);
      c.localSet(insn.dst);
      return;
    }
    if (insn.op === 'store_release') {
      this.address(pc, insn.dst, insn.off, insn.size, true);
      c.localGet(insn.src);
      c.mem(storeOp(insn.size), this.memOffset);
      return;
    }
    const size = insn.size;
    this.address(pc, insn.dst, insn.off, size, true);
    if (this.memOffset !== 0) {
      c.i32(this.memOffset);
      c.op(Op.i32_add);
    }
    c.localTee(L_TI);
    c.mem(size === 8 ? Op.i64_load : Op.i64_load32_u);
    c.localSet(L_T1); // old value
    c.localGet(L_TI);
    const s = insn.src;
    switch (insn.op) {
      case 'add': case 'or': case 'and': case 'xor':
        c.localGet(L_T1);
        c.localGet(s);
        c.op({ add: Op.i64_add, or: Op.i64_or, and: Op.i64_and, xor: Op.i64_xor }[insn.op]);
        break;
      case 'xchg':
        c.localGet(s);
        break;
      case 'cmpxchg':
        c.localGet(s);
        c.localGet(L_T1);
        c.localGet(L_T1);
        c.localGet(0);
        if (size === 4) {
          c.i64(0xffffffff);
          c.op(Op.i64_and);
        }
        c.op(Op.i64_eq);
        c.op(Op.select);
        break;
    }
    c.mem(size === 8 ? Op.i64_store : Op.i64_store32);
    if (insn.op === 'cmpxchg') {
      c.localGet(L_T1);
      c.localSet(0);
    } else if (insn.fetch || insn.op === 'xchg') {
      c.localGet(L_T1);
      c.localSet(s);
    }
  }
}

function loadOp(size: Size, signed: boolean): number {
  switch (size) {
    case 1: return signed ? Op.i64_load8_s : Op.i64_load8_u;
    case 2: return signed ? Op.i64_load16_s : Op.i64_load16_u;
    case 4: return signed ? Op.i64_load32_s : Op.i64_load32_u;
    default: return Op.i64_load;
  }
}

function storeOp(size: Size): number {
  switch (size) {
    case 1: return Op.i64_store8;
    case 2: return Op.i64_store16;
    case 4: return Op.i64_store32;
    default: return Op.i64_store;
  }
}
