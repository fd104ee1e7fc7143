/**
 * Structure checks done before any simulation (the kernel's
 * add_subprog/check_subprogs/check_cfg): subprogram boundaries, jump ranges,
 * the last instruction of each function, reachability, jumps into the middle
 * of a 64-bit immediate load, the static call graph, and a backward register
 * liveness analysis used by state pruning. Everything works on slot indices,
 * as the kernel's instruction numbers do.
 */
import type { Insn } from '../isa/index.js';
import { Reject } from './errors.js';
import { HELPERS } from './helpers.js';

export interface Program {
  readonly insns: readonly Insn[];
  /** Instruction at each slot; undefined for the second slot of an lddw. */
  readonly atSlot: readonly (Insn | undefined)[];
  readonly nslots: number;
  /** Sorted start slots of the subprograms (first is 0). */
  readonly subprogs: readonly number[];
  /** Registers live before each slot, as a bit mask over r0..r9. */
  readonly liveIn: readonly number[];
  /**
   * Registers whose exact scalar value may matter for safety from each slot on
   * (a static over-approximation of the kernel's precision marks): scalars
   * outside this mask are interchangeable when comparing states.
   */
  readonly preciseIn: readonly number[];
  /** Loop (strongly connected component) number of each slot, 0 outside loops, as the kernel numbers them. */
  readonly scc: readonly number[];
  /** Slots where states are compared and stored (branch targets, conditional jumps). */
  readonly prunePoints: ReadonlySet<number>;
}

export function buildSlots(insns: readonly Insn[]): (Insn | undefined)[] {
  const at: (Insn | undefined)[] = [];
  for (const i of insns) {
    at.push(i);
    if (i.kind === 'lddw') at.push(undefined);
  }
  return at;
}

export const subprogOf = (subprogs: readonly number[], slot: number): number => {
  let k = 0;
  while (k + 1 < subprogs.length && subprogs[k + 1] <= slot) k++;
  return k;
};

function findSubprogs(at: readonly (Insn | undefined)[]): number[] {
  const starts = new Set<number>([0]);
  at.forEach((i, t) => {
    if (!i) return;
    let target: number | undefined;
    if (i.kind === 'call_local') target = t + i.off + 1;
    else if (i.kind === 'lddw' && i.pseudo === 'func') target = t + Number(BigInt.asIntN(32, i.imm)) + 1;
    if (target === undefined) return;
    if (target < 0 || target >= at.length) throw new Reject(t, 'call to invalid destination', undefined, 'EINVAL');
    starts.add(target);
  });
  return [...starts].sort((a, b) => a - b);
}

function checkSubprogs(at: readonly (Insn | undefined)[], subprogs: readonly number[]): void {
  let cur = 0;
  let start = subprogs[0];
  let end = subprogs[1] ?? at.length;
  for (let t = 0; t < at.length; t++) {
    const i = at[t];
    if (i && (i.kind === 'jmp' || i.kind === 'ja' || i.kind === 'may_goto')) {
      const to = t + i.off + 1;
      if (to < start || to >= end) throw new Reject(t, `jump out of range from insn ${t} to ${to}`, undefined, 'EINVAL');
    }
    if (t === end - 1) {
      if (!i || (i.kind !== 'exit' && i.kind !== 'ja')) {
        throw new Reject(t, 'last insn is not an exit or jmp', 'every function must end with exit or an unconditional jump', 'EINVAL');
      }
      start = end;
      cur++;
      end = subprogs[cur + 1] ?? at.length;
    }
  }
}

/** Successor slots of the instruction at slot t. */
export function successors(at: readonly (Insn | undefined)[], t: number): number[] {
  const i = at[t];
  if (!i) return [t + 1];
  switch (i.kind) {
    case 'exit': return [];
    case 'ja': return [t + i.off + 1];
    case 'jmp': case 'may_goto': return [t + 1, t + i.off + 1];
    case 'call_local': return [t + 1, t + i.off + 1];
    case 'lddw': return i.pseudo === 'func' ? [t + 2, t + Number(BigInt.asIntN(32, i.imm)) + 1] : [t + 2];
    default: return [t + 1];
  }
}

function checkReachable(at: readonly (Insn | undefined)[]): void {
  const seen = new Uint8Array(at.length);
  const stack = [0];
  seen[0] = 1;
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (const w of successors(at, t)) {
      if (w < 0 || w >= at.length) throw new Reject(t, `jump out of range from insn ${t} to ${w}`, undefined, 'EINVAL');
      if (!seen[w]) { seen[w] = 1; stack.push(w); }
    }
  }
  for (let t = 0; t < at.length; t++) {
    if (!seen[t]) throw new Reject(t, `unreachable insn ${t}`, 'remove dead code or the jump that skips it', 'EINVAL');
    if (at[t]?.kind === 'lddw') {
      if (seen[t + 1]) throw new Reject(t, `jump into the middle of ldimm64 insn ${t}`, undefined, 'EINVAL');
      t++;
    }
  }
}

const R = (n: number): number => 1 << n;
const ARGS = R(1) | R(2) | R(3) | R(4) | R(5);
const CALLER_SAVED = R(0) | ARGS;
/** The bit of a register operand; 0 for an immediate. Module-level: closures in hot functions cost an allocation per call. */
const srcBit = (s: unknown): number => (typeof s === 'number' ? R(s) : 0);

/** Number of registers a helper call reads; unknown or unavailable helpers read all five. */
export type HelperArity = (id: number) => number;

function useDef(i: Insn | undefined, arity: HelperArity): { use: number; def: number } {
  if (!i) return { use: 0, def: 0 };
  const reg = srcBit;
  switch (i.kind) {
    case 'alu': return { use: (i.op === 'mov' ? 0 : R(i.dst)) | reg(i.src), def: R(i.dst) };
    case 'neg': case 'endian': return { use: R(i.dst), def: R(i.dst) };
    case 'movsx': return { use: R(i.src), def: R(i.dst) };
    case 'lddw': return { use: 0, def: R(i.dst) };
    // LD_ABS may end the program early, so the kernel keeps every register alive across it.
    case 'ldabs': case 'ldind': return { use: 0x3ff, def: 0 };
    case 'ldx': return { use: R(i.src), def: R(i.dst) };
    case 'st': return { use: R(i.dst), def: 0 };
    case 'stx': return { use: R(i.dst) | R(i.src), def: 0 };
    case 'atomic': {
      if (i.op === 'load_acquire') return { use: R(i.src), def: R(i.dst) };
      if (i.op === 'cmpxchg') return { use: R(i.dst) | R(i.src) | R(0), def: R(0) };
      return { use: R(i.dst) | R(i.src), def: i.fetch ? R(i.src) : 0 };
    }
    case 'jmp': return { use: R(i.dst) | reg(i.src), def: 0 };
    case 'call': {
      // A helper reads only the arguments its prototype declares.
      const n = arity(i.helper);
      let use = 0;
      for (let k = 1; k <= n; k++) use |= R(k);
      return { use, def: CALLER_SAVED };
    }
    case 'call_local': case 'call_kfunc': return { use: ARGS, def: CALLER_SAVED };
    case 'callx': return { use: ARGS | R(i.dst), def: CALLER_SAVED };
    case 'exit': return { use: R(0), def: 0 };
    default: return { use: 0, def: 0 };
  }
}

function computeLiveness(at: readonly (Insn | undefined)[], arity: HelperArity): number[] {
  const n = at.length;
  const live = new Array<number>(n).fill(0);
  const ud = at.map((i) => useDef(i, arity));
  const succ = at.map((i, t) => (i?.kind === 'lddw' ? [t + 2] : successors(at, t)).filter((w) => w >= 0 && w < n));
  // A call_local's successors are the callee entry and the return point; liveness
  // flows only along the return point (the callee reads its own arguments).
  at.forEach((i, t) => { if (i?.kind === 'call_local') succ[t] = [t + 1].filter((w) => w < n); });
  let changed = true;
  while (changed) {
    changed = false;
    for (let t = n - 1; t >= 0; t--) {
      let out = 0;
      for (const w of succ[t]) out |= live[w];
      const v = ud[t].use | (out & ~ud[t].def);
      if (v !== live[t]) { live[t] = v; changed = true; }
    }
  }
  return live;
}

/** One backward step of computePrecision over instruction i. */
function precisionStep(i: Insn | undefined, out: number, retChecked: boolean): number {
  if (!i) return out;
  const reg = srcBit;
  switch (i.kind) {
    case 'alu': {
      const d = R(i.dst);
      const keep = out & ~d;
      const dstRel = (out & d) !== 0;
      if (i.op === 'mov') return keep | (dstRel ? reg(i.src) : 0);
      // A register operand may be pointer arithmetic, which needs the scalar's exact range.
      const ptrArith = (i.op === 'add' || i.op === 'sub') ? reg(i.src) | (typeof i.src === 'number' ? d : 0) : 0;
      return keep | (dstRel ? d | reg(i.src) : 0) | ptrArith;
    }
    case 'neg': case 'endian': return out;
    case 'movsx': return (out & ~R(i.dst)) | (out & R(i.dst) ? R(i.src) : 0);
    case 'lddw': return out & ~R(i.dst);
    case 'ldabs': return (out & ~CALLER_SAVED) | R(6);
    case 'ldind': return (out & ~CALLER_SAVED) | R(6) | R(i.src);
    case 'ldx': return (out & ~R(i.dst)) | R(i.src);
    case 'st': return out | R(i.dst);
    case 'stx': return out | R(i.dst) | R(i.src);
    case 'atomic': return out | R(i.dst) | R(i.src) | (i.op === 'cmpxchg' ? R(0) : 0);
    case 'jmp': return out | R(i.dst) | reg(i.src);
    case 'call': case 'call_local': case 'call_kfunc': return (out & ~CALLER_SAVED) | ARGS;
    case 'callx': return (out & ~CALLER_SAVED) | ARGS | R(i.dst);
    case 'exit': return retChecked ? R(0) : 0;
    default: return out;
  }
}

/**
 * Backward analysis: a register is precision-relevant when its value can reach
 * a safety decision (a branch, an address, a helper argument, pointer
 * arithmetic, a checked return value) before being overwritten.
 */
function computePrecision(at: readonly (Insn | undefined)[], retChecked: boolean): number[] {
  const n = at.length;
  const rel = new Array<number>(n).fill(0);
  const succ = at.map((i, t) => (i?.kind === 'call_local' || i?.kind === 'lddw' ? [t + (i.kind === 'lddw' ? 2 : 1)] : successors(at, t)).filter((w) => w >= 0 && w < n));
  let changed = true;
  while (changed) {
    changed = false;
    for (let t = n - 1; t >= 0; t--) {
      let out = 0;
      for (const w of succ[t]) out |= rel[w];
      const v = precisionStep(at[t], out, retChecked);
      if (v !== rel[t]) { rel[t] = v; changed = true; }
    }
  }
  return rel;
}

/** Tarjan's SCCs per subprogram, ignoring call edges; loops are numbered in completion order. */
function computeScc(at: readonly (Insn | undefined)[], subprogs: readonly number[]): number[] {
  const n = at.length;
  const scc = new Array<number>(n).fill(0);
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  let counter = 0, next = 1;
  const succs = at.map((i, t) => (i?.kind === 'call_local' ? [t + 1] : i?.kind === 'lddw' ? [t + 2] : successors(at, t)).filter((w) => w >= 0 && w < n));
  const visit = (root: number): void => {
    // Iterative Tarjan: frames hold the node and its next successor position.
    const work: [number, number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root); onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1];
      const [v, k] = top;
      const ss = succs[v];
      if (k < ss.length) {
        top[1]++;
        const w = ss[k];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push(w); onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
        continue;
      }
      work.pop();
      if (work.length) { const p = work[work.length - 1][0]; low[p] = Math.min(low[p], low[v]); }
      if (low[v] !== index[v]) continue;
      const members: number[] = [];
      let w: number;
      do { w = stack.pop()!; onStack[w] = 0; members.push(w); } while (w !== v);
      const selfLoop = members.length === 1 && ss.includes(v);
      if (members.length > 1 || selfLoop) {
        for (const m of members) scc[m] = next;
        next++;
      }
    }
  };
  for (const start of subprogs) if (index[start] < 0) visit(start);
  return scc;
}

function prunePoints(at: readonly (Insn | undefined)[]): Set<number> {
  const pts = new Set<number>();
  at.forEach((i, t) => {
    if (!i) return;
    if (i.kind === 'jmp' || i.kind === 'may_goto') { pts.add(t); pts.add(t + i.off + 1); }
    else if (i.kind === 'ja') pts.add(t + i.off + 1);
    else if (i.kind === 'call_local') { pts.add(t); pts.add(t + i.off + 1); pts.add(t + 1); }
    else if (i.kind === 'call' || i.kind === 'call_kfunc' || i.kind === 'callx') {
      pts.add(t + 1);
      // Callback-calling helpers are revisited after each callback run.
      if (i.kind === 'call' && HELPERS.get(i.helper)?.callback) pts.add(t);
    }
    else if (i.kind === 'lddw' && i.pseudo === 'func') pts.add(t + Number(BigInt.asIntN(32, i.imm)) + 1);
    if (i.kind === 'may_goto') pts.add(t);
  });
  return pts;
}

/** Run the structure checks; throws Reject with the kernel's message on the first problem. */
export function analyzeProgram(
  insns: readonly Insn[], retChecked = false, arity: HelperArity = (id) => HELPERS.get(id)?.args.length ?? 5,
  /** Runs between the subprogram and reachability checks, where the kernel resolves 64-bit immediates. */
  resolveImm64?: (atSlot: readonly (Insn | undefined)[]) => void,
): Program {
  const atSlot = buildSlots(insns);
  if (atSlot.length === 0) throw new Reject(0, 'empty program', undefined, 'EINVAL');
  const subprogs = findSubprogs(atSlot);
  checkSubprogs(atSlot, subprogs);
  resolveImm64?.(atSlot);
  if (subprogs.length > 1) {
    const t = atSlot.findIndex((i, k) => (i?.kind === 'ldabs' || i?.kind === 'ldind') && k >= subprogs[1]);
    if (t >= 0) throw new Reject(t, 'LD_ABS is not allowed in subprogs without BTF', 'legacy packet loads need BTF function info when the program has subprograms', 'EINVAL');
  }
  checkReachable(atSlot);
  return {
    insns, atSlot, nslots: atSlot.length, subprogs,
    liveIn: computeLiveness(atSlot, arity), preciseIn: computePrecision(atSlot, retChecked || subprogs.length > 1),
    prunePoints: prunePoints(atSlot), scc: computeScc(atSlot, subprogs),
  };
}

