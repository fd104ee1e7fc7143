/**
 * A verifier state: the call frames (registers and stack of each function on
 * the simulated call stack), acquired references, and the link to the last
 * checkpoint used for loop detection and pruning bookkeeping.
 */
import { NOT_INIT, type RegState } from './reg-state.js';
import { EMPTY_SLOT, type StackSlot } from './stack.js';

export interface Frame {
  readonly regs: RegState[];
  stack: StackSlot[];
  readonly frameno: number;
  /** Slot index of the call instruction that created this frame (-1 for main). */
  readonly callsite: number;
  readonly subprog: number;
  /** Set for a callback's frame: the range its R0 must be in at exit. */
  callbackRet?: readonly [number, number];
}

export interface Ref {
  readonly id: number;
  readonly insn: number;
}

/** A stored state at a prune point. `branches` counts paths still exploring below it. */
export interface Checkpoint {
  readonly state: VState;
  readonly insn: number;
  branches: number;
  readonly parent: Checkpoint | null;
  /** Paths that reached here and were pruned or finished (for the kernel's miss heuristics). */
  hits: number;
  /** Visits that matched neither way while new states were being recorded. */
  misses: number;
}

export interface VState {
  frames: Frame[];
  refs: Ref[];
  parent: Checkpoint | null;
  /** may_goto iterations taken on this path (the kernel's may_goto_depth). */
  mayGotoDepth: number;
  /** Callback iterations simulated on this path (callback_unroll_depth). */
  callbackDepth: number;
}

export function newFrame(frameno: number, callsite: number, subprog: number): Frame {
  return { regs: Array.from({ length: 11 }, () => NOT_INIT), stack: [], frameno, callsite, subprog };
}

export function cloneFrame(f: Frame): Frame {
  return { regs: f.regs.slice(), stack: f.stack.slice(), frameno: f.frameno, callsite: f.callsite, subprog: f.subprog, callbackRet: f.callbackRet };
}

export function cloneState(s: VState): VState {
  return { frames: s.frames.map(cloneFrame), refs: s.refs.slice(), parent: s.parent, mayGotoDepth: s.mayGotoDepth, callbackDepth: s.callbackDepth };
}

export const curFrame = (s: VState): Frame => s.frames[s.frames.length - 1];

export function getSlot(f: Frame, spi: number): StackSlot {
  return f.stack[spi] ?? EMPTY_SLOT;
}

export function setSlot(f: Frame, spi: number, slot: StackSlot): void {
  while (f.stack.length <= spi) f.stack.push(EMPTY_SLOT);
  f.stack[spi] = slot;
}

/** Apply `fn` to every register and spilled register in every frame, replacing it with the result. */
export function mapAllRegs(s: VState, fn: (r: RegState) => RegState): void {
  for (const f of s.frames) {
    for (let i = 0; i < f.regs.length; i++) f.regs[i] = fn(f.regs[i]);
    for (let i = 0; i < f.stack.length; i++) {
      const slot = f.stack[i];
      if (slot.types[7] !== 'r') continue;
      const nr = fn(slot.spilled);
      if (nr !== slot.spilled) f.stack[i] = { types: slot.types, spilled: nr };
    }
  }
}
