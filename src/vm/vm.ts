import { decode, type Insn } from '../isa/index.js';
import type { InlineHelper } from '../jit/translate.js';
import type { Engine, PreparedProgram } from './engine.js';
import { VmConfigError } from './errors.js';
import type { HelperTable } from './helpers.js';
import { setBig, toBigUint } from './int64.js';
import { execute, Machine } from './interpreter.js';
import { lower } from './lower.js';
import { AddressSpace, type Region } from './memory.js';
import type { VerifiedFacts } from './verified.js';

/**
 * Default instruction budget per run: Linux's verifier limit on processed
 * instructions (BPF_COMPLEXITY_LIMIT_INSNS). A program the kernel accepts
 * runs well within it unless it loops through helpers or may_goto.
 */
export const DEFAULT_BUDGET = 1_000_000;

export interface VmOptions {
  /** Helpers by id, for `call` and `callx`. */
  readonly helpers?: HelperTable;
  /** Kernel functions by BTF id (module 0 only), for `call_kfunc`. */
  readonly kfuncs?: HelperTable;
  /** Maximum instructions per run (default DEFAULT_BUDGET). */
  readonly budget?: number;
  /** Address space to run in (default: a new one). */
  readonly space?: AddressSpace;
  /**
   * The verifier's facts for this very program (verify(program, { facts:
   * true }).facts, same instructions and maps): loads and stores it proved
   * in bounds run without the region check. See VerifiedFacts.
   */
  readonly verified?: VerifiedFacts;
  /**
   * Helpers the JIT compiles into its module (see InlineHelper; a runtime
   * collection's map lookups and updates). The interpreter ignores them:
   * its helper table must still hold every helper.
   */
  readonly inlineHelpers?: ReadonlyMap<number, InlineHelper>;
}

export interface RunOptions {
  /** Input memory: copied into a writable region, its address in r1 and length in r2. */
  readonly mem?: Uint8Array;
  readonly helpers?: HelperTable;
  readonly budget?: number;
}

export interface RunResult {
  /** r0 as an unsigned 64-bit value. */
  readonly r0: bigint;
  /** Input memory contents after the run (empty when there was none). */
  readonly mem: Uint8Array;
  /** Instructions executed. */
  readonly executed: number;
}

export interface CallResult {
  readonly r0: bigint;
  readonly executed: number;
}

const NO_ARGS: readonly number[] = [];
const NO_OPTIONS: { budget?: number } = {};
const EMPTY = new Uint8Array(0);

/** The region name of the conformance-style input memory. */
export const INPUT_REGION = 'input';

/**
 * A program prepared for repeated runs: decoded, lowered and bound to an
 * address space and helpers once.
 */
export class Vm implements PreparedProgram {
  readonly engine: Engine = 'interp';
  readonly program: readonly Insn[];
  readonly space: AddressSpace;
  readonly budget: number;
  private readonly machine: Machine;
  private input: Region | undefined;

  constructor(program: readonly Insn[] | Uint8Array, options: VmOptions = {}) {
    this.program = program instanceof Uint8Array ? decode(program) : program;
    this.space = options.space ?? new AddressSpace();
    this.budget = checkBudget(options.budget ?? DEFAULT_BUDGET);
    this.machine = new Machine(lower(this.program, options.verified), this.space, options.helpers, options.kfuncs);
  }

  /**
   * The conformance-suite convention: `mem` is copied into a writable region
   * (replacing the previous run's), r1 = its address (0 when empty), r2 = its
   * length.
   */
  run(mem: Uint8Array = EMPTY, options: { budget?: number } = NO_OPTIONS): RunResult {
    let region = this.input;
    if (region !== undefined && (!this.space.isMapped(region) || region.size !== mem.length)) {
      if (this.space.isMapped(region)) this.space.unmap(region);
      region = this.input = undefined;
    }
    if (mem.length > 0) {
      if (region === undefined) region = this.input = this.space.map(INPUT_REGION, mem);
      else this.space.bytes.set(mem, region.start);
    }
    const { r0, executed } = region === undefined ? this.call(NO_ARGS, options) : this.call([region.start, region.size], options);
    const after = region === undefined ? new Uint8Array(0) : this.space.bytes.slice(region.start, region.start + region.size);
    return { r0, mem: after, executed };
  }

  /** Run from the entry with r1..r5 = args (missing ones are 0). */
  call(args: readonly (number | bigint)[] = NO_ARGS, options: { budget?: number } = NO_OPTIONS): CallResult {
    const m = this.machine;
    const budget = options.budget === undefined ? this.budget : checkBudget(options.budget);
    const space = this.space;
    if (space.dirtyFrames > 0) space.clearStacks(space.dirtyFrames);
    const lo = m.lo, hi = m.hi;
    for (let r = 0; r <= 10; r++) lo[r] = hi[r] = 0;
    for (let r = 0; r < args.length && r < 5; r++) {
      const v = args[r];
      if (typeof v === 'bigint') setBig(lo, hi, r + 1, v);
      else {
        lo[r + 1] = v;
        hi[r + 1] = Math.floor(v / 4294967296);
      }
    }
    let executed: number;
    try {
      executed = execute(m, budget);
    } finally {
      const used = m.program.writes ? m.maxDepth + 1 : 0;
      if (used > space.dirtyFrames) space.dirtyFrames = used;
    }
    return { r0: toBigUint(lo[0], hi[0]), executed };
  }
}

function checkBudget(b: number): number {
  if (!(b > 0) || !Number.isSafeInteger(b)) throw new VmConfigError(`instruction budget must be a positive integer, not ${b}`);
  return b;
}

/** Run a program once (see Vm for repeated runs). */
export function run(program: readonly Insn[] | Uint8Array, options: RunOptions = {}): RunResult {
  return new Vm(program, { helpers: options.helpers, budget: options.budget }).run(options.mem);
}
