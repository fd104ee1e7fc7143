import { slotIndex, type Insn } from '../isa/index.js';

/**
 * Control-flow graphs of the program's functions, and the analyses the
 * structured translation needs (reverse postorder, dominator tree, loop
 * headers, merge nodes, reducibility).
 *
 * A function is everything reachable from its entry by jumps and
 * fallthrough (not a slot range), so a block reachable from two entries is
 * simply compiled into both: this follows the interpreter, for which only
 * calls and exits change frames.
 */

/** Ordinal of the pseudo-instruction after the last one (falling off the end). */
export type Ordinal = number;

export interface BasicBlock {
  /** Ordinal of the first instruction (insns.length: the "fell off the end" block). */
  readonly first: Ordinal;
  /** Instructions in the block, its terminator included. */
  readonly count: number;
  /** Successor blocks: [taken, fallthrough] for conditional jumps and may_goto. */
  readonly succ: number[];
}

export interface FunctionGraph {
  /** Entry instruction ordinal. */
  readonly entry: Ordinal;
  /** Blocks in reverse postorder; block 0 is the entry. */
  readonly blocks: readonly BasicBlock[];
  /** Immediate dominator of each block (the entry's is itself). */
  readonly idom: readonly number[];
  /** Children of each block in the dominator tree. */
  readonly domChildren: readonly (readonly number[])[];
  /** Targets of back edges (edges to a block not later in reverse postorder). */
  readonly loopHeader: readonly boolean[];
  /** Blocks with two or more incoming forward edges. */
  readonly merge: readonly boolean[];
  readonly reducible: boolean;
  readonly hasBackEdge: boolean;
  /** Entry ordinals of the functions this one calls. */
  readonly callees: readonly Ordinal[];
}

/** Instructions that end a basic block. */
export function isTerminator(insn: Insn | undefined): boolean {
  if (insn === undefined) return true; // the end pseudo-instruction
  switch (insn.kind) {
    case 'jmp': case 'ja': case 'may_goto': case 'exit':
    case 'call': case 'callx': case 'call_kfunc': case 'call_local':
    case 'ldabs': case 'ldind':
      return true;
    default:
      return false;
  }
}

/** Ordinal-level view of the program's jumps (targets already validated by lower()). */
export class ProgramIndex {
  readonly at: number[];
  private readonly ordOfSlot: Int32Array;

  constructor(readonly insns: readonly Insn[]) {
    this.at = slotIndex(insns);
    const slots = this.at[insns.length];
    this.ordOfSlot = new Int32Array(slots + 1).fill(-1);
    for (let k = 0; k <= insns.length; k++) this.ordOfSlot[this.at[k]] = k;
  }

  /** Ordinal of the jump or call target of instruction k. */
  target(k: Ordinal, off: number): Ordinal {
    return this.ordOfSlot[this.at[k] + 1 + off];
  }

  /** Successor instructions within the function (calls fall through). */
  successors(k: Ordinal): Ordinal[] {
    const insn = this.insns[k];
    if (insn === undefined) return [];
    switch (insn.kind) {
      case 'jmp': case 'may_goto':
        return [this.target(k, insn.off), k + 1];
      case 'ja':
        return [this.target(k, insn.off)];
      case 'exit':
        return [];
      default:
        return [k + 1];
    }
  }
}

export function buildFunction(index: ProgramIndex, entry: Ordinal): FunctionGraph {
  const n = index.insns.length;
  // Reachable instructions and leaders.
  const reach = new Uint8Array(n + 1);
  const leader = new Uint8Array(n + 1);
  leader[entry] = 1;
  const work = [entry];
  reach[entry] = 1;
  const callees = new Set<Ordinal>();
  while (work.length > 0) {
    const k = work.pop()!;
    const insn = index.insns[k];
    if (insn?.kind === 'call_local') callees.add(index.target(k, insn.off));
    const succ = index.successors(k);
    const term = isTerminator(insn);
    for (const s of succ) {
      if (term || s !== k + 1) leader[s] = 1;
      if (!reach[s]) {
        reach[s] = 1;
        work.push(s);
      }
    }
  }
  // Blocks by leader, in discovery order first.
  const blockOf = new Map<Ordinal, number>();
  const raw: { first: number; count: number; succOrd: Ordinal[] }[] = [];
  for (let k = 0; k <= n; k++) {
    if (!reach[k] || !leader[k]) continue;
    let e = k;
    while (!isTerminator(index.insns[e]) && !leader[e + 1]) e++;
    blockOf.set(k, raw.length);
    raw.push({ first: k, count: e - k + 1, succOrd: index.successors(e) });
  }
  const rawSucc = raw.map((b) => b.succOrd.map((s) => blockOf.get(s)!));
  // Reverse postorder from the entry (iterative DFS).
  const start = blockOf.get(entry)!;
  const post: number[] = [];
  const state = new Uint8Array(raw.length);
  const stack: [number, number][] = [[start, 0]];
  state[start] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const succ = rawSucc[top[0]];
    if (top[1] < succ.length) {
      const s = succ[top[1]++];
      if (state[s] === 0) {
        state[s] = 1;
        stack.push([s, 0]);
      }
    } else {
      post.push(top[0]);
      stack.pop();
    }
  }
  const order = post.reverse();
  const rpoOf = new Int32Array(raw.length).fill(-1);
  order.forEach((b, i) => { rpoOf[b] = i; });
  const blocks: BasicBlock[] = order.map((b) => ({
    first: raw[b].first,
    count: raw[b].count,
    succ: rawSucc[b].map((s) => rpoOf[s]),
  }));
  const m = blocks.length;
  const preds: number[][] = Array.from({ length: m }, () => []);
  blocks.forEach((b, i) => { for (const s of b.succ) preds[s].push(i); });
  // Dominators (Cooper, Harvey, Kennedy: iterate over reverse postorder).
  const idom = new Int32Array(m).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a > b) a = idom[a];
      while (b > a) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < m; i++) {
      let d = -1;
      for (const p of preds[i]) {
        if (idom[p] === -1) continue;
        d = d === -1 ? p : intersect(p, d);
      }
      if (d !== idom[i]) {
        idom[i] = d;
        changed = true;
      }
    }
  }
  const dominates = (a: number, b: number): boolean => {
    while (b !== a && b !== 0) b = idom[b];
    return b === a;
  };
  const domChildren: number[][] = Array.from({ length: m }, () => []);
  for (let i = 1; i < m; i++) domChildren[idom[i]].push(i);
  const loopHeader = new Array<boolean>(m).fill(false);
  const forwardIn = new Int32Array(m);
  let reducible = true;
  let hasBackEdge = false;
  blocks.forEach((b, i) => {
    for (const s of b.succ) {
      if (s <= i) {
        hasBackEdge = true;
        loopHeader[s] = true;
        if (!dominates(s, i)) reducible = false;
      } else {
        forwardIn[s]++;
      }
    }
  });
  return {
    entry,
    blocks,
    idom: Array.from(idom),
    domChildren,
    loopHeader,
    merge: Array.from(forwardIn, (c) => c >= 2),
    reducible,
    hasBackEdge,
    callees: [...callees],
  };
}
