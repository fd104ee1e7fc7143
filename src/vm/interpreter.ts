import { BpfkitError } from '../errors/index.js';
import {
  HelperArgumentError, VmBudgetError, VmCallDepthError, VmError, VmHelperError, VmProgramError, VmUnknownHelperError,
  type Access,
} from './errors.js';
import { findHelper, HelperCall, type Helper, type HelperTable } from './helpers.js';
import { bswap32, divmod64, mulHigh32, setBig, setSafeInt, toBigUint } from './int64.js';
import { framePointer, MAX_FRAMES, PAGE_SHIFT } from './layout.js';
import { ATOMIC_FETCH, OP, type Lowered } from './lower.js';
import type { AddressSpace } from './memory.js';

/**
 * The reference interpreter: RFC 9669 semantics (plus Linux's additions) over
 * the lowered program form (lower.ts).
 *
 * Performance choices, measured with bench/interp.ts:
 * - registers are two Int32Arrays of 32-bit halves and 64-bit arithmetic
 *   works on the halves, so the hot loop allocates nothing (BigInt only for
 *   64-bit division with a high word set);
 * - one switch over small dense operation numbers, with the rare ALU
 *   operations in a separate function to keep the loop small;
 * - the loop is a closure per machine with nothing before it that needs
 *   type feedback (see makeLoop);
 * - executed instructions are counted per straight-line block when control
 *   leaves it, not one by one; the budget error still names the exact
 *   instruction past the budget.
 */

/** Linux's BPF_MAX_LOOPS: how many times may_goto falls through before it jumps. */
export const MAY_GOTO_BUDGET = 8 * 1024 * 1024;

/** Helper ids below this are resolved once into an array; others are looked up per call. */
const HELPER_CACHE = 4096;

/** Registers, frames and host bindings of one prepared program. */
export class Machine {
  /** Register file, low halves: r0..r10, then the program's constants. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly ctx: HelperCall;
  /** Saved r6..r10 (5 pairs) and return slot of each caller frame. */
  readonly savedLo = new Int32Array(MAX_FRAMES * 5);
  readonly savedHi = new Int32Array(MAX_FRAMES * 5);
  readonly returnPc = new Int32Array(MAX_FRAMES);
  /** Deepest frame index the last run reached (its stacks may need zeroing). */
  maxDepth = 0;
  /** Frame depth and instructions counted when the loop last called a helper (for callbacks). */
  depth = 0;
  executed = 0;
  /** Instructions callbacks ran during the current helper call (added to the caller's count). */
  nested = 0;
  /** The budget of the current run. */
  budget = 0;
  /** Instructions the loops enclosing the running one had counted when it started (callbacks). */
  spent = 0;
  private readonly helperCache: (Helper | undefined)[] = [];
  /** The interpreter loop specialised to this machine. */
  readonly loop: Loop;

  constructor(
    readonly program: Lowered,
    readonly space: AddressSpace,
    readonly helpers: HelperTable | undefined,
    readonly kfuncs: HelperTable | undefined,
  ) {
    this.lo = program.constLo.slice();
    this.hi = program.constHi.slice();
    this.ctx = new HelperCall(space, this.lo, this.hi);
    this.ctx.runCallback = (fn, args) => this.callFunction(fn, args);
    this.loop = makeLoop(this);
  }

  /** HelperContext.callFunction: run the function at slot `fn` in a new frame, from inside a helper. */
  callFunction(fn: number, args: readonly (number | bigint)[]): bigint {
    const c = this.ctx;
    const callPc = c.pc, id = c.id;
    if (!this.program.callbacks.has(fn)) throw new HelperArgumentError(`0x${fn.toString(16)} is not a function of the program`);
    const d = this.depth + 1;
    if (d >= MAX_FRAMES) throw new VmCallDepthError(callPc, MAX_FRAMES);
    const lo = this.lo, hi = this.hi;
    const savedLo = lo.slice(0, 11), savedHi = hi.slice(0, 11);
    const depth = this.depth, executed = this.executed, nested = this.nested;
    for (let r = 0; r <= 9; r++) lo[r] = hi[r] = 0;
    for (let r = 0; r < args.length && r < 5; r++) setBig(lo, hi, r + 1, BigInt(args[r]));
    lo[10] = framePointer(d);
    hi[10] = 0;
    if (d > this.maxDepth) this.maxDepth = d;
    const space = this.space;
    const spent = this.spent;
    this.spent = spent + executed;
    this.nested = 0; // the callback's own helper calls account their callbacks here
    let n: number;
    try {
      n = this.loop(this.budget - this.spent, space.view, space.pageRegion, space.readEnd, space.writeEnd, space.limit, fn, d);
    } catch (e) {
      // The budget is the run's, not what was left of it.
      if (e instanceof VmBudgetError) throw new VmBudgetError(e.pc, this.budget);
      throw e;
    } finally {
      this.spent = spent;
    }
    const r0 = toBigUint(lo[0], hi[0]);
    lo.set(savedLo);
    hi.set(savedHi);
    this.depth = depth;
    this.executed = executed + n;
    this.nested = nested + n;
    c.pc = callPc;
    c.id = id;
    c.halted = false;
    return r0;
  }

  helper(id: number): Helper | undefined {
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
}

/**
 * Run the program from slot 0 with r1..r5 already set in `m`. Returns the
 * number of instructions executed; r0 is left in m.lo[0] / m.hi[0].
 */
export function execute(m: Machine, budget: number): number {
  const space = m.space;
  m.maxDepth = 0;
  m.budget = budget;
  m.spent = 0;
  m.nested = 0;
  m.lo[10] = FRAME0;
  m.hi[10] = 0;
  return m.loop(budget, space.view, space.pageRegion, space.readEnd, space.writeEnd, space.limit, 0, 0);
}

const FRAME0 = framePointer(0);

/** The interpreter loop for one machine (see makeLoop). */
export type Loop = (
  budget: number, dv: DataView, pt: Uint16Array, rEnd: Float64Array, wEnd: Float64Array, lim: number,
  /** Slot to start at and the frame depth there (a callback's: returns when that frame exits). */
  start: number, base: number,
) => number;

/**
 * The interpreter loop, as a closure over one machine's program and
 * registers. Two V8 behaviours make this shape fast:
 * - on-stack replacement specialises the compiled loop to the closure's
 *   context, so the program's and registers' typed arrays become constants;
 * - nothing with type feedback runs before the loop (the memory views come
 *   as arguments), so that code can also serve later calls from the top
 *   instead of being thrown away for want of feedback there.
 */
export function makeLoop(m: Machine): Loop {
  const p = m.program, space = m.space;
  const code = p.code, aux = p.aux, ord = p.ord;
  const lo = m.lo, hi = m.hi, savedLo = m.savedLo, savedHi = m.savedHi, returnPc = m.returnPc;
  return (budget, dv, pt, rEnd, wEnd, lim, start, base) => {
    let maxDepth = m.maxDepth;
    // Instructions are counted per straight-line block, when control leaves it
    // (taken jump, call, exit), not one by one: n counts the finished blocks,
    // bs is the ordinal of the current block's first instruction.
    let pc = start, n = 0, bs = ord[start], depth = base, mayGoto = MAY_GOTO_BUDGET;

    for (;;) {
      const i = pc++;
      const c = code[i];
      const d = (c >>> 8) & 15, s = c >>> 12;
      switch (c & 255) {
        // ---- ALU64
        case OP.ADD64: {
          const a = (lo[d] >>> 0) + (lo[s] >>> 0);
          lo[d] = a;
          hi[d] = hi[d] + hi[s] + (a > 0xffffffff ? 1 : 0);
          continue;
        }
        case OP.SUB64: {
          const a = lo[d] >>> 0, b = lo[s] >>> 0;
          lo[d] = a - b;
          hi[d] = hi[d] - hi[s] - (a < b ? 1 : 0);
          continue;
        }
        case OP.MUL64: {
          const al = lo[d], bl = lo[s];
          hi[d] = mulHigh32(al >>> 0, bl >>> 0) + Math.imul(al, hi[s]) + Math.imul(hi[d], bl);
          lo[d] = Math.imul(al, bl);
          continue;
        }
        case OP.OR64: lo[d] |= lo[s]; hi[d] |= hi[s]; continue;
        case OP.AND64: lo[d] &= lo[s]; hi[d] &= hi[s]; continue;
        case OP.XOR64: lo[d] ^= lo[s]; hi[d] ^= hi[s]; continue;
        case OP.MOV64: lo[d] = lo[s]; hi[d] = hi[s]; continue;
        case OP.LDDW: lo[d] = lo[s]; hi[d] = hi[s]; pc++; continue;
        case OP.LSH64: {
          const c = lo[s] & 63;
          if (c >= 32) {
            hi[d] = lo[d] << (c - 32);
            lo[d] = 0;
          } else if (c !== 0) {
            hi[d] = (hi[d] << c) | (lo[d] >>> (32 - c));
            lo[d] = lo[d] << c;
          }
          continue;
        }
        case OP.RSH64: {
          const c = lo[s] & 63;
          if (c >= 32) {
            lo[d] = hi[d] >>> (c - 32);
            hi[d] = 0;
          } else if (c !== 0) {
            lo[d] = (lo[d] >>> c) | (hi[d] << (32 - c));
            hi[d] = hi[d] >>> c;
          }
          continue;
        }
        case OP.ARSH64: {
          const c = lo[s] & 63;
          if (c >= 32) {
            lo[d] = hi[d] >> (c - 32);
            hi[d] = hi[d] >> 31;
          } else if (c !== 0) {
            lo[d] = (lo[d] >>> c) | (hi[d] << (32 - c));
            hi[d] = hi[d] >> c;
          }
          continue;
        }

        // ---- ALU (32-bit): results are zero-extended
        case OP.ADD32: lo[d] = lo[d] + lo[s]; hi[d] = 0; continue;
        case OP.SUB32: lo[d] = lo[d] - lo[s]; hi[d] = 0; continue;
        case OP.MUL32: lo[d] = Math.imul(lo[d], lo[s]); hi[d] = 0; continue;
        case OP.OR32: lo[d] |= lo[s]; hi[d] = 0; continue;
        case OP.AND32: lo[d] &= lo[s]; hi[d] = 0; continue;
        case OP.XOR32: lo[d] ^= lo[s]; hi[d] = 0; continue;
        case OP.MOV32: lo[d] = lo[s]; hi[d] = 0; continue;
        case OP.LSH32: lo[d] = lo[d] << (lo[s] & 31); hi[d] = 0; continue;
        case OP.RSH32: lo[d] = lo[d] >>> (lo[s] & 31); hi[d] = 0; continue;
        case OP.ARSH32: lo[d] = lo[d] >> (lo[s] & 31); hi[d] = 0; continue;

        // ---- sign extension and byte order
        case OP.LE16: lo[d] &= 0xffff; hi[d] = 0; continue;
        case OP.LE32: hi[d] = 0; continue;
        case OP.NOP: continue;
        case OP.BE16: { const v = lo[d]; lo[d] = ((v & 0xff) << 8) | ((v >>> 8) & 0xff); hi[d] = 0; continue; }
        case OP.BE32: lo[d] = bswap32(lo[d]); hi[d] = 0; continue;
        case OP.BE64: { const l = lo[d]; lo[d] = bswap32(hi[d]); hi[d] = bswap32(l); continue; }

        // ---- loads: address = src + off; an address with high bits set faults
        case OP.LDXB: {
          const a = (lo[s] >>> 0) + aux[i];
          const r = hi[s] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 1 > rEnd[r]) throw fault(m, i, 'read', s, aux[i], 1, n - bs, budget);
          lo[d] = dv.getUint8(a);
          hi[d] = 0;
          continue;
        }
        case OP.LDXSB: {
          const a = (lo[s] >>> 0) + aux[i];
          const r = hi[s] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 1 > rEnd[r]) throw fault(m, i, 'read', s, aux[i], 1, n - bs, budget);
          const v = dv.getInt8(a);
          lo[d] = v;
          hi[d] = v >> 31;
          continue;
        }
        case OP.LDXH: {
          const a = (lo[s] >>> 0) + aux[i];
          const r = hi[s] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 2 > rEnd[r]) throw fault(m, i, 'read', s, aux[i], 2, n - bs, budget);
          lo[d] = dv.getUint16(a, true);
          hi[d] = 0;
          continue;
        }
        case OP.LDXSH: {
          const a = (lo[s] >>> 0) + aux[i];
          const r = hi[s] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 2 > rEnd[r]) throw fault(m, i, 'read', s, aux[i], 2, n - bs, budget);
          const v = dv.getInt16(a, true);
          lo[d] = v;
          hi[d] = v >> 31;
          continue;
        }
        case OP.LDXW: {
          const a = (lo[s] >>> 0) + aux[i];
          const r = hi[s] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 4 > rEnd[r]) throw fault(m, i, 'read', s, aux[i], 4, n - bs, budget);
          lo[d] = dv.getInt32(a, true);
          hi[d] = 0;
          continue;
        }
        case OP.LDXSW: {
          const a = (lo[s] >>> 0) + aux[i];
          const r = hi[s] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 4 > rEnd[r]) throw fault(m, i, 'read', s, aux[i], 4, n - bs, budget);
          const v = dv.getInt32(a, true);
          lo[d] = v;
          hi[d] = v >> 31;
          continue;
        }
        case OP.LDXDW: {
          const a = (lo[s] >>> 0) + aux[i];
          const r = hi[s] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 8 > rEnd[r]) throw fault(m, i, 'read', s, aux[i], 8, n - bs, budget);
          lo[d] = dv.getInt32(a, true);
          hi[d] = dv.getInt32(a + 4, true);
          continue;
        }

        // ---- stores: address = dst + off, value from src (register or constant)
        case OP.STXB: {
          const a = (lo[d] >>> 0) + aux[i];
          const r = hi[d] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 1 > wEnd[r]) throw fault(m, i, 'write', d, aux[i], 1, n - bs, budget);
          dv.setUint8(a, lo[s]);
          continue;
        }
        case OP.STXH: {
          const a = (lo[d] >>> 0) + aux[i];
          const r = hi[d] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 2 > wEnd[r]) throw fault(m, i, 'write', d, aux[i], 2, n - bs, budget);
          dv.setUint16(a, lo[s], true);
          continue;
        }
        case OP.STXW: {
          const a = (lo[d] >>> 0) + aux[i];
          const r = hi[d] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 4 > wEnd[r]) throw fault(m, i, 'write', d, aux[i], 4, n - bs, budget);
          dv.setInt32(a, lo[s], true);
          continue;
        }
        case OP.STXDW: {
          const a = (lo[d] >>> 0) + aux[i];
          const r = hi[d] === 0 && a >= 0 && a < lim ? pt[a >>> PAGE_SHIFT] : 0;
          if (r === 0 || a + 8 > wEnd[r]) throw fault(m, i, 'write', d, aux[i], 8, n - bs, budget);
          dv.setInt32(a, lo[s], true);
          dv.setInt32(a + 4, hi[s], true);
          continue;
        }

        // ---- loads and stores the verifier proved in bounds (lower() with facts):
        // no region check; the DataView still bounds them to the linear memory.
        case OP.LDXB_U: lo[d] = dv.getUint8((lo[s] >>> 0) + aux[i]); hi[d] = 0; continue;
        case OP.LDXSB_U: { const v = dv.getInt8((lo[s] >>> 0) + aux[i]); lo[d] = v; hi[d] = v >> 31; continue; }
        case OP.LDXH_U: lo[d] = dv.getUint16((lo[s] >>> 0) + aux[i], true); hi[d] = 0; continue;
        case OP.LDXSH_U: { const v = dv.getInt16((lo[s] >>> 0) + aux[i], true); lo[d] = v; hi[d] = v >> 31; continue; }
        case OP.LDXW_U: lo[d] = dv.getInt32((lo[s] >>> 0) + aux[i], true); hi[d] = 0; continue;
        case OP.LDXSW_U: { const v = dv.getInt32((lo[s] >>> 0) + aux[i], true); lo[d] = v; hi[d] = v >> 31; continue; }
        case OP.LDXDW_U: {
          const a = (lo[s] >>> 0) + aux[i];
          lo[d] = dv.getInt32(a, true);
          hi[d] = dv.getInt32(a + 4, true);
          continue;
        }
        case OP.STXB_U: dv.setUint8((lo[d] >>> 0) + aux[i], lo[s]); continue;
        case OP.STXH_U: dv.setUint16((lo[d] >>> 0) + aux[i], lo[s], true); continue;
        case OP.STXW_U: dv.setInt32((lo[d] >>> 0) + aux[i], lo[s], true); continue;
        case OP.STXDW_U: {
          const a = (lo[d] >>> 0) + aux[i];
          dv.setInt32(a, lo[s], true);
          dv.setInt32(a + 4, hi[s], true);
          continue;
        }

        // ---- jumps: a taken jump breaks out of the switch, a jump not taken continues
        case OP.JEQ: if (lo[d] === lo[s] && hi[d] === hi[s]) break; continue;
        case OP.JNE: if (lo[d] !== lo[s] || hi[d] !== hi[s]) break; continue;
        case OP.JSET: if ((lo[d] & lo[s]) !== 0 || (hi[d] & hi[s]) !== 0) break; continue;
        case OP.JGT: if (hi[d] >>> 0 > hi[s] >>> 0 || (hi[d] === hi[s] && lo[d] >>> 0 > lo[s] >>> 0)) break; continue;
        case OP.JGE: if (hi[d] >>> 0 > hi[s] >>> 0 || (hi[d] === hi[s] && lo[d] >>> 0 >= lo[s] >>> 0)) break; continue;
        case OP.JLT: if (hi[d] >>> 0 < hi[s] >>> 0 || (hi[d] === hi[s] && lo[d] >>> 0 < lo[s] >>> 0)) break; continue;
        case OP.JLE: if (hi[d] >>> 0 < hi[s] >>> 0 || (hi[d] === hi[s] && lo[d] >>> 0 <= lo[s] >>> 0)) break; continue;
        case OP.JSGT: if (hi[d] > hi[s] || (hi[d] === hi[s] && lo[d] >>> 0 > lo[s] >>> 0)) break; continue;
        case OP.JSGE: if (hi[d] > hi[s] || (hi[d] === hi[s] && lo[d] >>> 0 >= lo[s] >>> 0)) break; continue;
        case OP.JSLT: if (hi[d] < hi[s] || (hi[d] === hi[s] && lo[d] >>> 0 < lo[s] >>> 0)) break; continue;
        case OP.JSLE: if (hi[d] < hi[s] || (hi[d] === hi[s] && lo[d] >>> 0 <= lo[s] >>> 0)) break; continue;
        case OP.JEQ32: if (lo[d] === lo[s]) break; continue;
        case OP.JNE32: if (lo[d] !== lo[s]) break; continue;
        case OP.JSET32: if ((lo[d] & lo[s]) !== 0) break; continue;
        case OP.JGT32: if (lo[d] >>> 0 > lo[s] >>> 0) break; continue;
        case OP.JGE32: if (lo[d] >>> 0 >= lo[s] >>> 0) break; continue;
        case OP.JLT32: if (lo[d] >>> 0 < lo[s] >>> 0) break; continue;
        case OP.JLE32: if (lo[d] >>> 0 <= lo[s] >>> 0) break; continue;
        case OP.JSGT32: if (lo[d] > lo[s]) break; continue;
        case OP.JSGE32: if (lo[d] >= lo[s]) break; continue;
        case OP.JSLT32: if (lo[d] < lo[s]) break; continue;
        case OP.JSLE32: if (lo[d] <= lo[s]) break; continue;
        case OP.JA: break;
        case OP.MAY_GOTO:
          if (mayGoto === 0) break;
          mayGoto--;
          continue;

        // ---- calls
        case OP.CALL:
        case OP.CALLX:
        case OP.CALL_KFUNC: {
          // Count the block this instruction ends before it has any effect.
          if (n + ord[i] - bs + 1 > budget) throw overBudget(p, n - bs, budget);
          n += ord[i] - bs + 1;
          bs = ord[pc];
          m.depth = depth;
          m.executed = n;
          const halted = hostCall(m, i);
          if (m.nested !== 0) {
            n += m.nested;
            m.nested = 0;
          }
          // A helper may have mapped regions (grown the memory): refresh the views.
          dv = space.view; pt = space.pageRegion; rEnd = space.readEnd; wEnd = space.writeEnd; lim = space.limit;
          if (halted) return n;
          continue;
        }
        case OP.CALL_LOCAL: {
          pc = aux[i];
          // Count the block this instruction ends before it has any effect.
          if (n + ord[i] - bs + 1 > budget) throw overBudget(p, n - bs, budget);
          n += ord[i] - bs + 1;
          bs = ord[pc];
          if (depth + 1 >= MAX_FRAMES) throw new VmCallDepthError(i, MAX_FRAMES);
          const b = depth * 5;
          for (let r = 0; r < 5; r++) {
            savedLo[b + r] = lo[6 + r];
            savedHi[b + r] = hi[6 + r];
          }
          returnPc[depth] = i + 1;
          depth++;
          if (depth > maxDepth) m.maxDepth = maxDepth = depth;
          lo[10] = framePointer(depth);
          hi[10] = 0;
          continue;
        }
        case OP.EXIT: {
          if (n + ord[i] - bs + 1 > budget) throw overBudget(p, n - bs, budget);
          n += ord[i] - bs + 1;
          if (depth === base) return n;
          depth--;
          const b = depth * 5;
          for (let r = 0; r < 5; r++) {
            lo[6 + r] = savedLo[b + r];
            hi[6 + r] = savedHi[b + r];
          }
          pc = returnPc[depth];
          bs = ord[pc];
          continue;
        }
        case OP.LDIND: {
          // Count the block this instruction ends before it has any effect.
          if (n + ord[i] - bs + 1 > budget) throw overBudget(p, n - bs, budget);
          n += ord[i] - bs + 1;
          bs = ord[pc];
          if (!packetLoad(m, i)) return n;
          continue;
        }
        case OP.ATOMIC: {
          // Count the block this instruction ends before it has any effect.
          if (n + ord[i] - bs + 1 > budget) throw overBudget(p, n - bs, budget);
          n += ord[i] - bs + 1;
          bs = ord[pc];
          atomic(m, i, d, s);
          continue;
        }
        default:
          // Division, negation and sign extension: rarer, kept out of this loop
          // (a smaller function here is measurably faster for V8).
          if ((c & 255) < OP.LDXB) {
            rareAlu(lo, hi, c & 255, d, s);
            continue;
          }
          if (n + ord[i] - bs + 1 > budget) throw overBudget(p, n - bs, budget);
          throw new VmProgramError(i, i === p.slots ? 'execution fell off the end of the program' : 'jump into the second slot of a 64-bit immediate load');
      }
      // Only taken jumps get here (every other case continues): count the block they end.
      pc = aux[i];
      const t = ord[i] - bs + 1;
      if (n + t > budget) throw overBudget(p, n - bs, budget);
      n += t;
      bs = ord[pc];
    }
  };
}

/** The ALU operations the main loop leaves out (see the default case in makeLoop). */
function rareAlu(lo: Int32Array, hi: Int32Array, op: number, d: number, s: number): void {
  switch (op) {
    case OP.DIV64:
      if (hi[d] === 0 && hi[s] === 0) {
        const b = lo[s] >>> 0;
        lo[d] = b === 0 ? 0 : (lo[d] >>> 0) / b;
      } else divmod64(lo, hi, d, s, false, false);
      return;
    case OP.SDIV64: divmod64(lo, hi, d, s, true, false); return;
    case OP.MOD64:
      if (hi[d] === 0 && hi[s] === 0) {
        const b = lo[s] >>> 0;
        if (b !== 0) lo[d] = (lo[d] >>> 0) % b;
      } else divmod64(lo, hi, d, s, false, true);
      return;
    case OP.SMOD64: divmod64(lo, hi, d, s, true, true); return;
    case OP.NEG64: {
      const l = lo[d];
      lo[d] = -l;
      hi[d] = l === 0 ? -hi[d] : ~hi[d];
      return;
    }
    case OP.DIV32: {
      const b = lo[s] >>> 0;
      lo[d] = b === 0 ? 0 : (lo[d] >>> 0) / b;
      hi[d] = 0;
      return;
    }
    case OP.SDIV32: {
      const b = lo[s];
      // ToInt32 truncates toward zero and wraps INT32_MIN / -1 to INT32_MIN.
      lo[d] = b === 0 ? 0 : lo[d] / b;
      hi[d] = 0;
      return;
    }
    case OP.MOD32: {
      const b = lo[s] >>> 0;
      if (b !== 0) lo[d] = (lo[d] >>> 0) % b;
      hi[d] = 0;
      return;
    }
    case OP.SMOD32: {
      const b = lo[s];
      if (b !== 0) lo[d] = lo[d] % b;
      hi[d] = 0;
      return;
    }
    case OP.NEG32: lo[d] = -lo[d]; hi[d] = 0; return;
    case OP.MOVSX64_8: { const v = (lo[s] << 24) >> 24; lo[d] = v; hi[d] = v >> 31; return; }
    case OP.MOVSX64_16: { const v = (lo[s] << 16) >> 16; lo[d] = v; hi[d] = v >> 31; return; }
    case OP.MOVSX64_32: { const v = lo[s]; lo[d] = v; hi[d] = v >> 31; return; }
    case OP.MOVSX32_8: lo[d] = (lo[s] << 24) >> 24; hi[d] = 0; return;
    case OP.MOVSX32_16: lo[d] = (lo[s] << 16) >> 16; hi[d] = 0; return;
  }
}

/**
 * The budget error for the first instruction past the budget, given the
 * count of the current block's start (nb = finished blocks' count minus the
 * block's first ordinal).
 */
function overBudget(p: Lowered, nb: number, budget: number): VmBudgetError {
  return new VmBudgetError(p.slotOf[budget - nb], budget);
}

/**
 * The memory error for base register `base` + `off`, with the full 64-bit
 * address; or the budget error if the faulting instruction is past the budget.
 */
function fault(m: Machine, pc: number, access: Access, base: number, off: number, size: number, nb: number, budget: number): VmError {
  if (nb + m.program.ord[pc] + 1 > budget) return overBudget(m.program, nb, budget);
  const address = BigInt.asUintN(64, toBigUint(m.lo[base], m.hi[base]) + BigInt(off));
  return m.space.fault(pc, access, address, size);
}

/** Atomic read-modify-write (rare: kept out of the main loop). */
function atomic(m: Machine, pc: number, d: number, s: number): void {
  const lo = m.lo, hi = m.hi;
  const code = m.program.aux2[pc];
  const size = code >> 4;
  const off = m.program.aux[pc];
  const space = m.space;
  const base = (lo[d] >>> 0) + off;
  if (hi[d] !== 0 || base < 0) throw fault(m, pc, 'write', d, off, size, 0, Infinity); // budget already counted
  const a = space.check(base, size, 'write', pc);
  const dv = space.view;
  const op = code & 7;
  const fetch = (code & ATOMIC_FETCH) !== 0;
  if (size === 4) {
    const old = dv.getInt32(a, true);
    let v = lo[s];
    switch (op) {
      case 0: v = old + v; break;
      case 1: v = old | v; break;
      case 2: v = old & v; break;
      case 3: v = old ^ v; break;
      case 4: break; // xchg
      case 5: // cmpxchg: compare with r0's low half, old value into r0
        v = old === lo[0] ? v : old;
        dv.setInt32(a, v, true);
        lo[0] = old;
        hi[0] = 0;
        return;
    }
    dv.setInt32(a, v, true);
    if (fetch) { lo[s] = old; hi[s] = 0; }
    return;
  }
  const oldLo = dv.getInt32(a, true), oldHi = dv.getInt32(a + 4, true);
  let vLo = lo[s], vHi = hi[s];
  switch (op) {
    case 0: {
      const sum = (oldLo >>> 0) + (vLo >>> 0);
      vHi = oldHi + vHi + (sum > 0xffffffff ? 1 : 0);
      vLo = sum | 0;
      break;
    }
    case 1: vLo |= oldLo; vHi |= oldHi; break;
    case 2: vLo &= oldLo; vHi &= oldHi; break;
    case 3: vLo ^= oldLo; vHi ^= oldHi; break;
    case 4: break;
    case 5:
      if (oldLo !== lo[0] || oldHi !== hi[0]) { vLo = oldLo; vHi = oldHi; }
      dv.setInt32(a, vLo, true);
      dv.setInt32(a + 4, vHi, true);
      lo[0] = oldLo;
      hi[0] = oldHi;
      return;
  }
  dv.setInt32(a, vLo, true);
  dv.setInt32(a + 4, vHi, true);
  if (fetch) { lo[s] = oldLo; hi[s] = oldHi; }
}

/** call, callx and call_kfunc: returns true when the helper halted the program. */
function hostCall(m: Machine, pc: number): boolean {
  const p = m.program;
  let id: number;
  let fn: Helper | undefined;
  if (p.op[pc] === OP.CALL_KFUNC) {
    id = p.aux[pc];
    fn = p.aux2[pc] === 0 ? findHelper(m.kfuncs, id) : undefined;
    if (fn === undefined) throw new VmUnknownHelperError(pc, id, p.aux2[pc] === 0 ? 'kfunc (BTF id)' : `kfunc of module ${p.aux2[pc]} (BTF id)`);
  } else {
    if (p.op[pc] === OP.CALLX) {
      const r = p.dst[pc];
      if (m.hi[r] !== 0 || m.lo[r] < 0) throw new VmUnknownHelperError(pc, toBigUint(m.lo[r], m.hi[r]));
      id = m.lo[r];
    } else {
      id = p.aux[pc];
    }
    fn = m.helper(id);
    if (fn === undefined) throw new VmUnknownHelperError(pc, id);
  }
  const c = m.ctx;
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
  const lo = m.lo, hi = m.hi;
  if (typeof r === 'number') {
    if ((r | 0) === r) { lo[0] = r; hi[0] = r >> 31; }
    else if (Number.isSafeInteger(r)) setSafeInt(lo, hi, 0, r);
    else throw new VmHelperError(pc, id, new HelperArgumentError(`returned ${r}, not an integer`));
  } else if (typeof r === 'bigint') {
    setBig(lo, hi, 0, r);
  } else {
    throw new VmHelperError(pc, id, new HelperArgumentError(`returned a ${typeof r}, not a number or bigint`));
  }
  return c.halted;
}

/**
 * Legacy packet loads (ldabs/ldind): big-endian read from the region named
 * "packet" into r0. As on Linux, an offset outside the packet ends the
 * program with r0 = 0 (returns false).
 */
function packetLoad(m: Machine, pc: number): boolean {
  const p = m.program;
  const size = p.aux2[pc];
  const off = (m.lo[p.src[pc]] + p.aux[pc]) | 0;
  const packet = m.space.region('packet');
  if (packet === undefined || off < 0 || off + size > packet.size) {
    m.lo[0] = m.hi[0] = 0;
    return false;
  }
  const dv = m.space.view;
  const a = packet.start + off;
  m.hi[0] = 0;
  switch (size) {
    case 1: m.lo[0] = dv.getUint8(a); break;
    case 2: m.lo[0] = dv.getUint16(a, false); break;
    case 4: m.lo[0] = dv.getInt32(a, false); break;
    default: m.lo[0] = dv.getInt32(a + 4, false); m.hi[0] = dv.getInt32(a, false); break;
  }
  return true;
}
