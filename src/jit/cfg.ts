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

/**
 * Successors of instruction k within the function into out[0..1]; returns
 * how many (successors() without the array).
 */
function successorsInto(index: ProgramIndex, k: Ordinal, out: Int32Array): number {
  const insn = index.insns[k];
  if (insn === undefined) return 0;
  switch (insn.kind) {
    case 'jmp': case 'may_goto':
      out[0] = index.target(k, insn.off);
      out[1] = k + 1;
      return 2;
    case 'ja':
      out[0] = index.target(k, insn.off);
      return 1;
    case 'exit':
      return 0;
    default:
      out[0] = k + 1;
      return 1;
  }
}

/*
 * Written with flat typed arrays and plain loops, no closures: it runs on
 * every compile, mostly before V8 has optimized it.
 */
export function buildFunction(index: ProgramIndex, entry: Ordinal): FunctionGraph {
  const insns = index.insns;
  const n = insns.length;
  const out = new Int32Array(2);
  // Reachable instructions and leaders.
  const reach = new Uint8Array(n + 1);
  const leader = new Uint8Array(n + 1);
  leader[entry] = 1;
  reach[entry] = 1;
  const work: number[] = [entry];
  const callees: Ordinal[] = [];
  while (work.length > 0) {
    const k = work.pop()!;
    const insn = insns[k] as Insn | undefined;
    if (insn !== undefined && insn.kind === 'call_local') {
      const t = index.target(k, insn.off);
      if (!callees.includes(t)) callees.push(t);
    }
    const ns = successorsInto(index, k, out);
    const term = isTerminator(insn);
    for (let j = 0; j < ns; j++) {
      const s = out[j];
      if (term || s !== k + 1) leader[s] = 1;
      if (reach[s] === 0) {
        reach[s] = 1;
        work.push(s);
      }
    }
  }
  // Blocks by leader, in instruction order first: first, count, up to two successors.
  const blockOf = new Int32Array(n + 1);
  let nb = 0;
  for (let k = 0; k <= n; k++) if (reach[k] === 1 && leader[k] === 1) nb++;
  const rawFirst = new Int32Array(nb);
  const rawCount = new Int32Array(nb);
  const rawN = new Uint8Array(nb);
  const rawS = new Int32Array(2 * nb);
  nb = 0;
  for (let k = 0; k <= n; k++) {
    if (reach[k] === 0 || leader[k] === 0) continue;
    let e = k;
    while (!isTerminator(insns[e]) && leader[e + 1] === 0) e++;
    blockOf[k] = nb;
    rawFirst[nb] = k;
    rawCount[nb] = e - k + 1;
    rawN[nb] = successorsInto(index, e, out);
    rawS[2 * nb] = out[0];
    rawS[2 * nb + 1] = out[1];
    nb++;
  }
  for (let b = 0; b < nb; b++) for (let j = 0; j < rawN[b]; j++) rawS[2 * b + j] = blockOf[rawS[2 * b + j]];
  // Reverse postorder from the entry (iterative DFS; every block is reachable, so all appear).
  const post = new Int32Array(nb);
  let np = 0;
  const visited = new Uint8Array(nb);
  const stackBlock = new Int32Array(nb);
  const stackNext = new Uint8Array(nb);
  let sp = 1;
  stackBlock[0] = blockOf[entry];
  visited[blockOf[entry]] = 1;
  while (sp > 0) {
    const b = stackBlock[sp - 1];
    const j = stackNext[sp - 1];
    if (j < rawN[b]) {
      stackNext[sp - 1] = j + 1;
      const s = rawS[2 * b + j];
      if (visited[s] === 0) {
        visited[s] = 1;
        stackBlock[sp] = s;
        stackNext[sp] = 0;
        sp++;
      }
    } else {
      post[np++] = b;
      sp--;
    }
  }
  const m = np;
  const rpoOf = new Int32Array(nb);
  for (let i = 0; i < m; i++) rpoOf[post[m - 1 - i]] = i;
  const blocks: BasicBlock[] = new Array<BasicBlock>(m);
  const predCount = new Int32Array(m + 1);
  for (let i = 0; i < m; i++) {
    const b = post[m - 1 - i];
    const succ: number[] = [];
    for (let j = 0; j < rawN[b]; j++) {
      const s = rpoOf[rawS[2 * b + j]];
      succ.push(s);
      predCount[s + 1]++;
    }
    blocks[i] = { first: rawFirst[b], count: rawCount[b], succ };
  }
  // Predecessors, flat: those of block i are predList[predStart[i] .. predStart[i + 1]).
  for (let i = 0; i < m; i++) predCount[i + 1] += predCount[i];
  const predStart = predCount;
  const predList = new Int32Array(predStart[m]);
  const fill = predStart.slice(0, m);
  for (let i = 0; i < m; i++) for (const s of blocks[i].succ) predList[fill[s]++] = i;
  // Dominators (Cooper, Harvey, Kennedy: iterate over reverse postorder).
  const idom = new Int32Array(m).fill(-1);
  idom[0] = 0;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < m; i++) {
      let d = -1;
      for (let p = predStart[i]; p < predStart[i + 1]; p++) {
        let a = predList[p];
        if (idom[a] === -1) continue;
        if (d !== -1) {
          // Intersect a and d: walk up the tree to their common dominator.
          let b = d;
          while (a !== b) {
            while (a > b) a = idom[a];
            while (b > a) b = idom[b];
          }
        }
        d = a;
      }
      if (d !== idom[i]) {
        idom[i] = d;
        changed = true;
      }
    }
  }
  const domChildren: number[][] = new Array<number[]>(m);
  for (let i = 0; i < m; i++) domChildren[i] = [];
  for (let i = 1; i < m; i++) domChildren[idom[i]].push(i);
  const loopHeader = new Array<boolean>(m).fill(false);
  const merge = new Array<boolean>(m).fill(false);
  const forwardIn = new Int32Array(m);
  let reducible = true;
  let hasBackEdge = false;
  for (let i = 0; i < m; i++) {
    for (const s of blocks[i].succ) {
      if (s <= i) {
        hasBackEdge = true;
        loopHeader[s] = true;
        // Reducible when every back edge goes to a block that dominates its source.
        let b = i;
        while (b !== s && b !== 0) b = idom[b];
        if (b !== s) reducible = false;
      } else if (++forwardIn[s] === 2) {
        merge[s] = true;
      }
    }
  }
  return { entry, blocks, idom: Array.from(idom), domChildren, loopHeader, merge, reducible, hasBackEdge, callees };
}
