/**
 * The intermediate form shared by the code generator, the optimizer and the
 * final assembler: a DAG of basic blocks, each a list of statements ending in
 * one conditional jump (or a return), as in libpcap's gencode.h. Blocks still
 * being built keep their unresolved exits threaded through `et`/`ef` (the
 * "sense" list), which is how `and`/`or`/`not` are composed without copying.
 */

/** Statement code for a deleted statement. */
export const NOP = -1;
/** Scratch memory words, then the accumulator and the index register, as "atoms". */
export const A_ATOM = 16;
export const X_ATOM = 17;
export const N_ATOMS = 18;
/** Stands for "both A and X" in use/def analysis. */
export const AX_ATOM = N_ATOMS;

export interface Stmt {
  code: number;
  k: number;
  /** Block-local jump targets (only protochain's hand-built loops use these). */
  jt: Slist | null;
  jf: Slist | null;
}

export interface Slist {
  s: Stmt;
  next: Slist | null;
}

export interface Edge {
  id: number;
  /** Branch opcode, negated for the false edge (used by jump threading). */
  code: number;
  edom: Uint32Array;
  succ: Block | null;
  pred: Block;
  next: Edge | null;
}

export class Block {
  id = 0;
  stmts: Slist | null = null;
  s: Stmt;
  mark = 0;
  longjt = 0;
  longjf = 0;
  level = 0;
  offset = 0;
  sense = false;
  et: Edge;
  ef: Edge;
  head: Block;
  link: Block | null = null;
  dom: Uint32Array = new Uint32Array(0);
  closure: Uint32Array = new Uint32Array(0);
  inEdges: Edge | null = null;
  def = 0;
  kill = 0;
  inUse = 0;
  outUse = 0;
  oval = 0;
  val = new Uint32Array(N_ATOMS);

  constructor(code: number, k = 0) {
    this.s = { code, k, jt: null, jf: null };
    this.et = { id: 0, code: 0, edom: new Uint32Array(0), succ: null, pred: this, next: null };
    this.ef = { id: 0, code: 0, edom: new Uint32Array(0), succ: null, pred: this, next: null };
    this.head = this;
  }

  get jt(): Block | null {
    return this.et.succ;
  }
  set jt(b: Block | null) {
    this.et.succ = b;
  }
  get jf(): Block | null {
    return this.ef.succ;
  }
  set jf(b: Block | null) {
    this.ef.succ = b;
  }
}

export function stmt(code: number, k = 0): Slist {
  return { s: { code, k: k >>> 0, jt: null, jf: null }, next: null };
}

/** Append list `s1` to the end of list `s0`. */
export function sappend(s0: Slist, s1: Slist | null): void {
  let p = s0;
  while (p.next) p = p.next;
  p.next = s1;
}

/** Build a statement list from its elements, in order. */
export function slist(...items: Slist[]): Slist {
  for (let i = 0; i + 1 < items.length; i++) sappend(items[i]!, items[i + 1]!);
  return items[0]!;
}

/** Point every unresolved exit on `list` at `target`. */
export function backpatch(list: Block | null, target: Block): void {
  while (list) {
    let next: Block | null;
    if (!list.sense) {
      next = list.jt;
      list.jt = target;
    } else {
      next = list.jf;
      list.jf = target;
    }
    list = next;
  }
}

/** Concatenate the unresolved-exit list of `b1` onto `b0`'s. */
export function merge(b0: Block, b1: Block): void {
  let p = b0;
  for (;;) {
    const nxt = !p.sense ? p.jt : p.jf;
    if (!nxt) break;
    p = nxt;
  }
  if (!p.sense) p.jt = b1;
  else p.jf = b1;
}

export function genAnd(b0: Block, b1: Block): void {
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  b1.sense = !b1.sense;
  merge(b1, b0);
  b1.sense = !b1.sense;
  b1.head = b0.head;
}

export function genOr(b0: Block, b1: Block): void {
  b0.sense = !b0.sense;
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  merge(b1, b0);
  b1.head = b0.head;
}

export function genNot(b: Block): void {
  b.sense = !b.sense;
}
