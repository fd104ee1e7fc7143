/**
 * The flow-graph optimizer, following the algorithm of libpcap's optimize.c
 * (itself from the BPF+ paper): value numbering with constant folding over
 * each block, peephole rules, dead-store removal, jump threading along edge
 * dominators, or/and pull-up, and finally merging of identical blocks. We
 * keep libpcap's visiting orders (block numbering, level lists, edge ids)
 * because the output must match `tcpdump -d` instruction for instruction.
 */
import { A_ATOM, AX_ATOM, Block, type Edge, N_ATOMS, NOP, type Slist, type Stmt, X_ATOM, sappend } from './ir.js';
import { FilterError } from './errors.js';

const BPF_CLASS = (c: number): number => c & 0x07;
const BPF_SIZE = (c: number): number => c & 0x18;
const BPF_MODE = (c: number): number => c & 0xe0;
const BPF_OP = (c: number): number => c & 0xf0;
const BPF_SRC = (c: number): number => c & 0x08;
const BPF_RVAL = (c: number): number => c & 0x18;
const BPF_MISCOP = (c: number): number => c & 0xf8;

const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, H = 0x08, B = 0x10;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const K = 0x00, X = 0x08, A = 0x10;
const TAX = 0x00, TXA = 0x80;
void W; void H; void B; void JA;

const MODULUS = 213;
const VAL_UNKNOWN = 0;

interface ValNode {
  code: number;
  v0: number;
  v1: number;
  val: number;
  next: ValNode | null;
}

const setMember = (p: Uint32Array, a: number): boolean => ((p[a >>> 5]! >>> (a & 31)) & 1) !== 0;
const setInsert = (p: Uint32Array, a: number): void => {
  p[a >>> 5] = p[a >>> 5]! | (1 << (a & 31));
};
const setIntersect = (a: Uint32Array, b: Uint32Array): void => {
  for (let i = 0; i < a.length; i++) a[i] = a[i]! & b[i]!;
};
const setUnion = (a: Uint32Array, b: Uint32Array): void => {
  for (let i = 0; i < a.length; i++) a[i] = a[i]! | b[i]!;
};
const atomElem = (set: number, atom: number): boolean => ((set >>> atom) & 1) !== 0;
const atomMask = (atom: number): number => 1 << atom;

function atomuse(s: Stmt): number {
  const c = s.code;
  if (c === NOP) return -1;
  switch (BPF_CLASS(c)) {
    case RET:
      return BPF_RVAL(c) === A ? A_ATOM : BPF_RVAL(c) === X ? X_ATOM : -1;
    case LD:
    case LDX:
      return BPF_MODE(c) === IND ? X_ATOM : BPF_MODE(c) === MEM ? s.k : -1;
    case ST:
      return A_ATOM;
    case STX:
      return X_ATOM;
    case JMP:
    case ALU:
      return BPF_SRC(c) === X ? AX_ATOM : A_ATOM;
    case MISC:
      return BPF_MISCOP(c) === TXA ? X_ATOM : A_ATOM;
  }
  return -1;
}

function atomdef(s: Stmt): number {
  if (s.code === NOP) return -1;
  switch (BPF_CLASS(s.code)) {
    case LD:
    case ALU:
      return A_ATOM;
    case LDX:
      return X_ATOM;
    case ST:
    case STX:
      return s.k;
    case MISC:
      return BPF_MISCOP(s.code) === TAX ? X_ATOM : A_ATOM;
  }
  return -1;
}

/** Root holder so the optimizer can replace the root block. */
export interface Icode {
  root: Block;
}

class Optimizer {
  done = false;
  nonBranchMovement = false;
  blocks: Block[] = [];
  edges: Edge[] = [];
  nodewords = 0;
  edgewords = 0;
  levels: (Block | null)[] = [];
  curMark = 1;
  hashtbl: (ValNode | null)[] = new Array<ValNode | null>(MODULUS).fill(null);
  curval = 0;
  vmapConst: boolean[] = [];
  vmapVal: number[] = [];

  constructor(readonly ic: Icode) {}

  private isMarked(b: Block): boolean {
    return b.mark === this.curMark;
  }

  private unMarkAll(): void {
    this.curMark += 1;
  }

  // ---- setup ----
  init(): void {
    this.unMarkAll();
    this.numberBlocks(this.ic.root);
    const n = this.blocks.length;
    this.edgewords = ((2 * n) >>> 5) + 1;
    this.nodewords = (n >>> 5) + 1;
    this.levels = new Array<Block | null>(n).fill(null);
    this.edges = new Array<Edge>(2 * n);
    for (let i = 0; i < n; i++) {
      const b = this.blocks[i]!;
      b.dom = new Uint32Array(this.nodewords);
      b.closure = new Uint32Array(this.nodewords);
      b.et.edom = new Uint32Array(this.edgewords);
      b.ef.edom = new Uint32Array(this.edgewords);
      b.et.id = i;
      this.edges[i] = b.et;
      b.ef.id = n + i;
      this.edges[n + i] = b.ef;
      b.et.pred = b;
      b.ef.pred = b;
    }
  }

  private numberBlocks(root: Block): void {
    // Depth-first, true branch first, as number_blks_r; an explicit stack, as
    // a long chain of `or`s makes the graph thousands of blocks deep.
    const stack: (Block | null)[] = [root];
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (!p || this.isMarked(p)) continue;
      p.mark = this.curMark;
      p.id = this.blocks.length;
      this.blocks.push(p);
      stack.push(p.jf, p.jt);
    }
  }

  // ---- graph analyses ----
  private findLevels(): void {
    this.levels.fill(null);
    this.unMarkAll();
    // Post-order (find_levels_r), with an explicit stack: marked on entry, levelled when both branches are.
    const stack: { b: Block; next: 0 | 1 | 2 }[] = [];
    const enter = (b: Block): void => {
      if (this.isMarked(b)) return;
      b.mark = this.curMark;
      b.link = null;
      stack.push({ b, next: b.jt ? 0 : 2 });
    };
    enter(this.ic.root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const b = top.b;
      if (top.next === 0) {
        top.next = 1;
        enter(b.jt!);
        continue;
      }
      if (top.next === 1) {
        top.next = 2;
        enter(b.jf!);
        continue;
      }
      stack.pop();
      const level = b.jt ? Math.max(b.jt.level, b.jf!.level) + 1 : 0;
      b.level = level;
      b.link = this.levels[level] ?? null;
      this.levels[level] = b;
    }
  }

  private *byLevel(from: number, to: number): Generator<Block> {
    // from high to low when from > to, else ascending
    if (from >= to) {
      for (let l = from; l >= to; l--) for (let b = this.levels[l] ?? null; b; b = b.link) yield b;
    } else {
      for (let l = from; l <= to; l++) for (let b = this.levels[l] ?? null; b; b = b.link) yield b;
    }
  }

  private findDom(root: Block): void {
    for (const b of this.blocks) b.dom.fill(0xffffffff);
    root.dom.fill(0);
    for (const b of this.byLevel(root.level, 0)) {
      setInsert(b.dom, b.id);
      if (!b.jt) continue;
      setIntersect(b.jt.dom, b.dom);
      setIntersect(b.jf!.dom, b.dom);
    }
  }

  private propedom(ep: Edge): void {
    setInsert(ep.edom, ep.id);
    if (ep.succ) {
      setIntersect(ep.succ.et.edom, ep.edom);
      setIntersect(ep.succ.ef.edom, ep.edom);
    }
  }

  private findEdom(root: Block): void {
    for (const b of this.blocks) {
      b.et.edom.fill(0xffffffff);
      b.ef.edom.fill(0xffffffff);
    }
    root.et.edom.fill(0);
    root.ef.edom.fill(0);
    for (const b of this.byLevel(root.level, 0)) {
      this.propedom(b.et);
      this.propedom(b.ef);
    }
  }

  private findClosure(root: Block): void {
    for (const b of this.blocks) b.closure.fill(0);
    for (const b of this.byLevel(root.level, 0)) {
      setInsert(b.closure, b.id);
      if (!b.jt) continue;
      setUnion(b.jt.closure, b.closure);
      setUnion(b.jf!.closure, b.closure);
    }
  }

  private computeLocalUd(b: Block): void {
    let def = 0, use = 0, killed = 0;
    const noteUse = (atom: number): void => {
      if (atom < 0) return;
      if (atom === AX_ATOM) {
        if (!atomElem(def, X_ATOM)) use |= atomMask(X_ATOM);
        if (!atomElem(def, A_ATOM)) use |= atomMask(A_ATOM);
      } else if (atom < N_ATOMS) {
        if (!atomElem(def, atom)) use |= atomMask(atom);
      }
    };
    for (let s = b.stmts; s; s = s.next) {
      if (s.s.code === NOP) continue;
      noteUse(atomuse(s.s));
      const atom = atomdef(s.s);
      if (atom >= 0) {
        if (!atomElem(use, atom)) killed |= atomMask(atom);
        def |= atomMask(atom);
      }
    }
    if (BPF_CLASS(b.s.code) === JMP) noteUse(atomuse(b.s));
    b.def = def;
    b.kill = killed;
    b.inUse = use;
  }

  private findUd(root: Block): void {
    const maxlevel = root.level;
    for (const p of this.byLevel(maxlevel, 0)) {
      this.computeLocalUd(p);
      p.outUse = 0;
    }
    for (let i = 1; i <= maxlevel; i++) {
      for (let p = this.levels[i] ?? null; p; p = p.link) {
        p.outUse |= p.jt!.inUse | p.jf!.inUse;
        p.inUse |= p.outUse & ~p.kill;
      }
    }
  }

  // ---- value numbering ----
  private initVal(): void {
    this.curval = 0;
    this.vmapConst = [false];
    this.vmapVal = [0];
    this.hashtbl.fill(null);
  }

  private F(code: number, v0: number, v1: number): number {
    v0 >>>= 0;
    v1 >>>= 0;
    const hash = (((code ^ (v0 << 4) ^ (v1 << 8)) >>> 0) % MODULUS);
    for (let p = this.hashtbl[hash] ?? null; p; p = p.next) if (p.code === code && p.v0 === v0 && p.v1 === v1) return p.val;
    const val = ++this.curval;
    if (BPF_MODE(code) === IMM && (BPF_CLASS(code) === LD || BPF_CLASS(code) === LDX)) {
      this.vmapVal[val] = v0;
      this.vmapConst[val] = true;
    } else {
      this.vmapVal[val] = 0;
      this.vmapConst[val] = false;
    }
    this.hashtbl[hash] = { code, v0, v1, val, next: this.hashtbl[hash] ?? null };
    return val;
  }

  private K(i: number): number {
    return this.F(LD | IMM | W, i, 0);
  }

  private isConst(v: number): boolean {
    return this.vmapConst[v] === true;
  }

  private constVal(v: number): number {
    return this.vmapVal[v] ?? 0;
  }

  private changed(): void {
    this.nonBranchMovement = true;
    this.done = false;
  }

  private vstore(s: Stmt, vals: Uint32Array, idx: number, newval: number, alter: boolean): void {
    if (alter && newval !== VAL_UNKNOWN && vals[idx] === newval) s.code = NOP;
    else vals[idx] = newval;
  }

  private foldOp(s: Stmt, v0: number, v1: number): void {
    let a = this.constVal(v0);
    const b = this.constVal(v1);
    switch (BPF_OP(s.code)) {
      case ADD: a = (a + b) >>> 0; break;
      case SUB: a = (a - b) >>> 0; break;
      case MUL: a = Math.imul(a, b) >>> 0; break;
      case DIV:
        if (b === 0) throw new FilterError('division by zero');
        a = Math.floor(a / b) >>> 0;
        break;
      case MOD:
        if (b === 0) throw new FilterError('modulus by zero');
        a = a % b;
        break;
      case AND: a = (a & b) >>> 0; break;
      case OR: a = (a | b) >>> 0; break;
      case XOR: a = (a ^ b) >>> 0; break;
      case LSH: a = b < 32 ? (a << b) >>> 0 : 0; break;
      case RSH: a = b < 32 ? a >>> b : 0; break;
      default: throw new Error('fold_op: bad op');
    }
    s.k = a;
    s.code = LD | IMM;
    this.changed();
  }

  private optStmt(s: Stmt, val: Uint32Array, alter: boolean): void {
    let v: number;
    switch (s.code) {
      case LD | ABS | W:
      case LD | ABS | H:
      case LD | ABS | B:
        v = this.F(s.code, s.k, 0);
        this.vstore(s, val, A_ATOM, v, alter);
        break;
      case LD | IND | W:
      case LD | IND | H:
      case LD | IND | B:
        v = val[X_ATOM]!;
        if (alter && this.isConst(v)) {
          s.code = LD | ABS | BPF_SIZE(s.code);
          s.k = (s.k + this.constVal(v)) >>> 0;
          v = this.F(s.code, s.k, 0);
          this.changed();
        } else v = this.F(s.code, s.k, v);
        this.vstore(s, val, A_ATOM, v, alter);
        break;
      case LD | LEN:
        v = this.F(s.code, 0, 0);
        this.vstore(s, val, A_ATOM, v, alter);
        break;
      case LD | IMM:
        v = this.K(s.k);
        this.vstore(s, val, A_ATOM, v, alter);
        break;
      case LDX | IMM:
        v = this.K(s.k);
        this.vstore(s, val, X_ATOM, v, alter);
        break;
      case LDX | MSH | B:
        v = this.F(s.code, s.k, 0);
        this.vstore(s, val, X_ATOM, v, alter);
        break;
      case ALU | NEG:
        if (alter && this.isConst(val[A_ATOM]!)) {
          s.code = LD | IMM;
          s.k = (0 - this.constVal(val[A_ATOM]!)) >>> 0;
          val[A_ATOM] = this.K(s.k);
        } else val[A_ATOM] = this.F(s.code, val[A_ATOM]!, 0);
        break;
      case ALU | ADD | K:
      case ALU | SUB | K:
      case ALU | MUL | K:
      case ALU | DIV | K:
      case ALU | MOD | K:
      case ALU | AND | K:
      case ALU | OR | K:
      case ALU | XOR | K:
      case ALU | LSH | K:
      case ALU | RSH | K: {
        const op = BPF_OP(s.code);
        if (alter) {
          if (s.k === 0) {
            if (op === ADD || op === LSH || op === RSH || op === OR || op === XOR) {
              s.code = NOP;
              break;
            }
            if (op === MUL || op === AND) {
              s.code = LD | IMM;
              val[A_ATOM] = this.K(s.k);
              break;
            }
            if (op === DIV) throw new FilterError('division by zero');
            if (op === MOD) throw new FilterError('modulus by zero');
          }
          if (this.isConst(val[A_ATOM]!)) {
            this.foldOp(s, val[A_ATOM]!, this.K(s.k));
            val[A_ATOM] = this.K(s.k);
            break;
          }
        }
        val[A_ATOM] = this.F(s.code, val[A_ATOM]!, this.K(s.k));
        break;
      }
      case ALU | ADD | X:
      case ALU | SUB | X:
      case ALU | MUL | X:
      case ALU | DIV | X:
      case ALU | MOD | X:
      case ALU | AND | X:
      case ALU | OR | X:
      case ALU | XOR | X:
      case ALU | LSH | X:
      case ALU | RSH | X: {
        const op = BPF_OP(s.code);
        if (alter && this.isConst(val[X_ATOM]!)) {
          if (this.isConst(val[A_ATOM]!)) {
            this.foldOp(s, val[A_ATOM]!, val[X_ATOM]!);
            val[A_ATOM] = this.K(s.k);
          } else {
            s.code = ALU | K | op;
            s.k = this.constVal(val[X_ATOM]!);
            if ((op === LSH || op === RSH) && s.k > 31) throw new FilterError('shift by more than 31 bits');
            this.changed();
            val[A_ATOM] = this.F(s.code, val[A_ATOM]!, this.K(s.k));
          }
          break;
        }
        if (alter && this.isConst(val[A_ATOM]!) && this.constVal(val[A_ATOM]!) === 0) {
          if (op === ADD || op === OR || op === XOR) {
            s.code = MISC | TXA;
            this.vstore(s, val, A_ATOM, val[X_ATOM]!, alter);
            break;
          } else if (op === MUL || op === DIV || op === MOD || op === AND || op === LSH || op === RSH) {
            s.code = LD | IMM;
            s.k = 0;
            this.vstore(s, val, A_ATOM, this.K(s.k), alter);
            break;
          } else if (op === NEG) {
            s.code = NOP;
            break;
          }
        }
        val[A_ATOM] = this.F(s.code, val[A_ATOM]!, val[X_ATOM]!);
        break;
      }
      case MISC | TXA:
        this.vstore(s, val, A_ATOM, val[X_ATOM]!, alter);
        break;
      case LD | MEM:
        v = val[s.k]!;
        if (alter && this.isConst(v)) {
          s.code = LD | IMM;
          s.k = this.constVal(v);
          this.changed();
        }
        this.vstore(s, val, A_ATOM, v, alter);
        break;
      case MISC | TAX:
        this.vstore(s, val, X_ATOM, val[A_ATOM]!, alter);
        break;
      case LDX | MEM:
        v = val[s.k]!;
        if (alter && this.isConst(v)) {
          s.code = LDX | IMM;
          s.k = this.constVal(v);
          this.changed();
        }
        this.vstore(s, val, X_ATOM, v, alter);
        break;
      case ST:
        this.vstore(s, val, s.k, val[A_ATOM]!, alter);
        break;
      case STX:
        this.vstore(s, val, s.k, val[X_ATOM]!, alter);
        break;
    }
  }

  private optPeep(b: Block): void {
    let s: Slist | null = b.stmts;
    if (!s) return;
    const thisOp = (p: Slist | null): Slist | null => {
      while (p && p.s.code === NOP) p = p.next;
      return p;
    };
    let last: Slist = s;
    let next: Slist | null;
    for (;; s = next) {
      s = thisOp(s);
      if (!s) break;
      next = thisOp(s.next);
      if (!next) break;
      last = next;
      if (s.s.code === ST && next.s.code === (LDX | MEM) && s.s.k === next.s.k) {
        this.changed();
        next.s.code = MISC | TAX;
      }
      if (s.s.code === (LD | IMM) && next.s.code === (MISC | TAX)) {
        s.s.code = LDX | IMM;
        next.s.code = MISC | TXA;
        this.changed();
      }
      if (s.s.code === (LD | IMM)) {
        if (atomElem(b.outUse, X_ATOM)) continue;
        const add = next.s.code !== (LDX | MSH | B) ? next : thisOp(next.next);
        if (!add || add.s.code !== (ALU | ADD | X)) continue;
        const tax = thisOp(add.next);
        if (!tax || tax.s.code !== (MISC | TAX)) continue;
        const ild = thisOp(tax.next);
        if (!ild || BPF_CLASS(ild.s.code) !== LD || BPF_MODE(ild.s.code) !== IND) continue;
        ild.s.k = (ild.s.k + s.s.k) >>> 0;
        s.s.code = NOP;
        add.s.code = NOP;
        tax.s.code = NOP;
        this.changed();
      }
    }
    if (b.s.code === (JMP | JEQ | K) && !atomElem(b.outUse, A_ATOM)) {
      if (last.s.code === (ALU | SUB | X)) {
        const v = b.val[X_ATOM]!;
        if (this.isConst(v)) {
          b.s.k = (b.s.k + this.constVal(v)) >>> 0;
          last.s.code = NOP;
          this.changed();
        } else if (b.s.k === 0) {
          last.s.code = NOP;
          b.s.code = JMP | JEQ | X;
          this.changed();
        }
      } else if (last.s.code === (ALU | SUB | K)) {
        last.s.code = NOP;
        b.s.k = (b.s.k + last.s.k) >>> 0;
        this.changed();
      } else if (last.s.code === (ALU | AND | K) && b.s.k === 0) {
        b.s.k = last.s.k;
        b.s.code = JMP | K | JSET;
        last.s.code = NOP;
        this.changed();
        const tmp = b.jt;
        b.jt = b.jf;
        b.jf = tmp;
      }
    }
    if (b.s.code === (JMP | K | JSET)) {
      if (b.s.k === 0) b.jt = b.jf;
      if (b.s.k === 0xffffffff) b.jf = b.jt;
    }
    let v = b.val[X_ATOM]!;
    if (this.isConst(v) && BPF_SRC(b.s.code) === X) {
      b.s.code &= ~X;
      b.s.k = this.constVal(v);
    }
    v = b.val[A_ATOM]!;
    if (this.isConst(v) && BPF_SRC(b.s.code) === K) {
      let r = this.constVal(v);
      switch (BPF_OP(b.s.code)) {
        case JEQ: r = r === b.s.k ? 1 : 0; break;
        case JGT: r = r > b.s.k ? 1 : 0; break;
        case JGE: r = r >= b.s.k ? 1 : 0; break;
        case JSET: r = (r & b.s.k) >>> 0; break;
        default: throw new Error('opt_peep: bad jump');
      }
      if (b.jf !== b.jt) this.changed();
      if (r) b.jf = b.jt;
      else b.jt = b.jf;
    }
  }

  private deadstmt(s: Stmt, last: (Stmt | null)[]): void {
    let atom = atomuse(s);
    if (atom >= 0) {
      if (atom === AX_ATOM) {
        last[X_ATOM] = null;
        last[A_ATOM] = null;
      } else last[atom] = null;
    }
    atom = atomdef(s);
    if (atom >= 0) {
      const prev = last[atom];
      if (prev) {
        this.changed();
        prev.code = NOP;
      }
      last[atom] = s;
    }
  }

  private optDeadstores(b: Block): void {
    const last: (Stmt | null)[] = new Array<Stmt | null>(N_ATOMS).fill(null);
    for (let s = b.stmts; s; s = s.next) this.deadstmt(s.s, last);
    this.deadstmt(b.s, last);
    for (let atom = 0; atom < N_ATOMS; atom++) {
      const l = last[atom];
      if (l && !atomElem(b.outUse, atom)) {
        l.code = NOP;
        this.changed();
      }
    }
  }

  private optBlk(b: Block, doStmts: boolean): void {
    let p = b.inEdges;
    if (!p) b.val.fill(0);
    else {
      b.val.set(p.pred.val);
      while ((p = p.next) !== null) {
        for (let i = 0; i < N_ATOMS; i++) if (b.val[i] !== p.pred.val[i]) b.val[i] = 0;
      }
    }
    const aval = b.val[A_ATOM]!;
    const xval = b.val[X_ATOM]!;
    for (let s = b.stmts; s; s = s.next) this.optStmt(s.s, b.val, doStmts);
    if (
      doStmts &&
      ((b.outUse === 0 && aval !== VAL_UNKNOWN && b.val[A_ATOM] === aval && xval !== VAL_UNKNOWN && b.val[X_ATOM] === xval) ||
        BPF_CLASS(b.s.code) === RET)
    ) {
      if (b.stmts) {
        b.stmts = null;
        this.changed();
      }
    } else {
      this.optPeep(b);
      this.optDeadstores(b);
    }
    b.oval = BPF_SRC(b.s.code) === K ? this.K(b.s.k) : b.val[X_ATOM]!;
    b.et.code = b.s.code;
    b.ef.code = -b.s.code;
  }

  private static useConflict(b: Block, succ: Block): boolean {
    const use = succ.outUse;
    if (use === 0) return false;
    for (let atom = 0; atom < N_ATOMS; atom++) if (atomElem(use, atom) && b.val[atom] !== succ.val[atom]) return true;
    return false;
  }

  private static foldEdge(child: Block, ep: Edge): Block | null {
    let code = ep.code;
    let sense: boolean;
    if (code < 0) {
      code = -code;
      sense = false;
    } else sense = true;
    if (child.s.code !== code) return null;
    const aval0 = child.val[A_ATOM];
    const oval0 = child.oval;
    const aval1 = ep.pred.val[A_ATOM];
    const oval1 = ep.pred.oval;
    if (aval0 !== aval1) return null;
    if (oval0 === oval1) return sense ? child.jt : child.jf;
    if (sense && code === (JMP | JEQ | K)) return child.jf;
    return null;
  }

  private optJ(ep: Edge): void {
    const succ = ep.succ!;
    if (!succ.jt) return;
    if (succ.jt === succ.jf) {
      if (!Optimizer.useConflict(ep.pred, succ.jt)) {
        this.changed();
        ep.succ = succ.jt;
      }
    }
    top: for (;;) {
      for (let i = 0; i < this.edgewords; i++) {
        let x = ep.edom[i]!;
        while (x !== 0) {
          const k = 31 - Math.clz32(x & -x);
          x = (x & ~(1 << k)) >>> 0;
          const target = Optimizer.foldEdge(ep.succ!, this.edges[k + i * 32]!);
          if (target && !Optimizer.useConflict(ep.pred, target)) {
            this.done = false;
            ep.succ = target;
            if (target.jt) continue top;
            return;
          }
        }
      }
      return;
    }
  }

  /** or_pullup (sameSide = 'jt') and and_pullup (sameSide = 'jf'). */
  private pullup(b: Block, isOr: boolean): void {
    let ep = b.inEdges;
    if (!ep) return;
    const val = ep.pred.val[A_ATOM];
    for (ep = ep.next; ep; ep = ep.next) if (val !== ep.pred.val[A_ATOM]) return;
    // A "slot" is a (block, side) pair standing for a pointer to a successor.
    type Side = 'jt' | 'jf';
    const same: Side = isOr ? 'jt' : 'jf';
    const walk: Side = isOr ? 'jf' : 'jt';
    const first = b.inEdges!.pred;
    let diffB: Block = first;
    let diffS: Side = first.jt === b ? 'jt' : 'jf';
    let atTop = true;
    for (;;) {
      const d = diffB[diffS];
      if (!d) return;
      if (d[same] !== b[same]) return;
      if (!setMember(d.dom, b.id)) return;
      if (d.val[A_ATOM] !== val) break;
      diffB = d;
      diffS = walk;
      atTop = false;
    }
    let sameB: Block = diffB[diffS]!;
    let sameS: Side = walk;
    for (;;) {
      const sp = sameB[sameS];
      if (!sp) return;
      if (sp[same] !== b[same]) return;
      if (!setMember(sp.dom, b.id)) return;
      if (sp.val[A_ATOM] === val) break;
      sameB = sp;
      sameS = walk;
    }
    const pull = sameB[sameS]!;
    sameB[sameS] = pull[walk];
    pull[walk] = diffB[diffS];
    if (atTop) {
      for (let e = b.inEdges; e; e = e.next) {
        if (e.pred.jt === b) e.pred.jt = pull;
        else e.pred.jf = pull;
      }
    } else diffB[diffS] = pull;
    this.done = false;
  }

  private findInedges(root: Block): void {
    for (const b of this.blocks) b.inEdges = null;
    for (let level = root.level; level > 0; level--) {
      for (let b = this.levels[level] ?? null; b; b = b.link) {
        b.et.next = b.jt!.inEdges;
        b.jt!.inEdges = b.et;
        b.ef.next = b.jf!.inEdges;
        b.jf!.inEdges = b.ef;
      }
    }
  }

  private optBlks(doStmts: boolean): void {
    this.initVal();
    const root = this.ic.root;
    const maxlevel = root.level;
    this.findInedges(root);
    for (const p of this.byLevel(maxlevel, 0)) this.optBlk(p, doStmts);
    if (doStmts) return;
    for (let i = 1; i <= maxlevel; i++) {
      for (let p = this.levels[i] ?? null; p; p = p.link) {
        this.optJ(p.et);
        this.optJ(p.ef);
      }
    }
    this.findInedges(root);
    for (let i = 1; i <= maxlevel; i++) {
      for (let p = this.levels[i] ?? null; p; p = p.link) {
        this.pullup(p, true);
        this.pullup(p, false);
      }
    }
  }

  loop(doStmts: boolean): void {
    let loopCount = 0;
    for (;;) {
      this.done = true;
      this.nonBranchMovement = false;
      this.findLevels();
      this.findDom(this.ic.root);
      this.findClosure(this.ic.root);
      this.findUd(this.ic.root);
      this.findEdom(this.ic.root);
      this.optBlks(doStmts);
      if (this.done) break;
      if (this.nonBranchMovement) loopCount = 0;
      else if (++loopCount >= 100) {
        this.done = true;
        break;
      }
    }
  }

  /** Equal signatures <=> eq_blk: same branch, same successors, same non-NOP statements. */
  private static signature(b: Block): string {
    let key = `${b.s.code},${b.s.k},${b.et.succ ? b.et.succ.id : -1},${b.ef.succ ? b.ef.succ.id : -1}`;
    for (let s = b.stmts; s; s = s.next) if (s.s.code !== NOP) key += `;${s.s.code},${s.s.k}`;
    return key;
  }

  internBlocks(): void {
    const n = this.blocks.length;
    for (;;) {
      let done = true;
      for (const b of this.blocks) b.link = null;
      this.unMarkAll();
      // The blocks reachable from the root (explicit stack: the graph can be thousands deep).
      for (const stack = [this.ic.root]; stack.length > 0;) {
        const p = stack.pop()!;
        if (this.isMarked(p)) continue;
        p.mark = this.curMark;
        if (BPF_CLASS(p.s.code) !== RET) stack.push(p.jt!, p.jf!);
      }
      // libpcap compares every pair; a signature map finds the same partner
      // (the nearest equal block after i) in linear time.
      const latest = new Map<string, Block>();
      for (let i = n - 1; i >= 0; i--) {
        const bi = this.blocks[i]!;
        if (!this.isMarked(bi)) continue;
        const key = Optimizer.signature(bi);
        const bj = latest.get(key);
        if (bj) bi.link = bj.link ? bj.link : bj;
        latest.set(key, bi);
      }
      for (const p of this.blocks) {
        if (!p.jt) continue;
        if (p.jt.link) {
          done = false;
          p.jt = p.jt.link;
        }
        if (p.jf!.link) {
          done = false;
          p.jf = p.jf!.link;
        }
      }
      if (done) break;
    }
  }
}

function optRoot(ic: Icode): void {
  const s = ic.root.stmts;
  ic.root.stmts = null;
  while (BPF_CLASS(ic.root.s.code) === JMP && ic.root.jt === ic.root.jf) ic.root = ic.root.jt!;
  const tmp = ic.root.stmts;
  if (tmp && s) sappend(s, tmp);
  ic.root.stmts = s ?? tmp;
  if (BPF_CLASS(ic.root.s.code) === RET) ic.root.stmts = null;
}

/** Optimize the flow graph in place (libpcap's bpf_optimize). */
export function optimizeIcode(ic: Icode): void {
  const opt = new Optimizer(ic);
  opt.init();
  opt.loop(false);
  opt.loop(true);
  opt.internBlocks();
  optRoot(ic);
}

