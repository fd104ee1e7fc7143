/**
 * Run one program on the interpreter and on the JIT and describe what each
 * did (r0, input memory, the first frame's stack, instructions executed, or
 * the error with its class, pc and message), for deep-equal comparison.
 */
import type { Insn } from '../../src/isa/index.js';
import { compile } from '../../src/jit/index.js';
import { HelperArgumentError, Vm, type Helper, type HelperTable, type PreparedProgram } from '../../src/vm/index.js';

export type Outcome =
  | { readonly ok: true; readonly r0: bigint; readonly mem: number[]; readonly stack: number[]; readonly executed: number }
  | { readonly ok: false; readonly error: string; readonly message: string; readonly pc: number | undefined };

/** Helpers with every kind of effect: a result, a halt, an error, a checked pointer. */
export const TEST_HELPERS: HelperTable = new Map<number, Helper>([
  [1, (c) => c.arg(1) * 3n + c.arg(2)],
  [2, (c) => { c.halt(); return c.argI32(1) + 7; }],
  [3, () => { throw new HelperArgumentError('rejected'); }],
  [4, (c) => c.space.view.getUint8(c.argAddr(1, 4, 'read'))],
  [5, (c) => { const a = c.argAddr(1, 1, 'write'); c.space.bytes[a] ^= 0x5a; return a; }],
  [6, (c) => c.argNumber(2)],
]);

export function outcome(p: PreparedProgram, mem: Uint8Array, budget?: number): Outcome {
  try {
    const r = p.run(mem, budget === undefined ? {} : { budget });
    const stack = p.space.region('stack0')!;
    return { ok: true, r0: r.r0, mem: [...r.mem], stack: [...p.space.bytesOf(stack)], executed: r.executed };
  } catch (e) {
    const err = e as Error & { pc?: number };
    return { ok: false, error: err.constructor.name, message: err.message, pc: err.pc };
  }
}

export interface Pair {
  readonly interp: Outcome;
  readonly jit: Outcome;
}

export function both(program: readonly Insn[], mem: Uint8Array, opts: { budget?: number; helpers?: HelperTable; runs?: number } = {}): Pair {
  const helpers = opts.helpers ?? TEST_HELPERS;
  let vm: PreparedProgram, jit: PreparedProgram;
  try {
    vm = new Vm(program, { helpers, budget: opts.budget });
  } catch (e) {
    const err = e as Error & { pc?: number };
    const o: Outcome = { ok: false, error: err.constructor.name, message: err.message, pc: err.pc };
    let j: Outcome;
    try {
      compile(program, { helpers, budget: opts.budget });
      j = { ok: true, r0: 0n, mem: [], stack: [], executed: 0 };
    } catch (e2) {
      const err2 = e2 as Error & { pc?: number };
      j = { ok: false, error: err2.constructor.name, message: err2.message, pc: err2.pc };
    }
    return { interp: o, jit: j };
  }
  jit = compile(program, { helpers, budget: opts.budget });
  let interp = outcome(vm, mem);
  let j = outcome(jit, mem);
  // Later runs reuse the prepared program (stacks cleared, caches warm).
  for (let i = 1; i < (opts.runs ?? 1); i++) {
    interp = outcome(vm, mem);
    j = outcome(jit, mem);
  }
  return { interp, jit: j };
}
