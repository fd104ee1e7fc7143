/**
 * Parser for pcap-filter(7) expressions. It builds a syntax tree with
 * libpcap's qualifier inheritance already resolved ("host a or b" gives `b`
 * the qualifiers of `a`), following grammar.y: `and`/`or` share one
 * precedence and associate to the left; in arithmetic `%` and `^` have no
 * precedence, so (as in bison's default shift) they take everything to their
 * right. Code is generated afterwards, walking the tree in the order bison
 * would have reduced it.
 */
import { FilterError } from './errors.js';
import { type QAddr, type QDir, type QProto, type Qual, QERR } from './gencode.js';
import { type Token, tokenize } from './lexer.js';

export type ArthNode =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'len' }
  | { readonly k: 'load'; readonly proto: QProto; readonly idx: ArthNode; readonly size: number; readonly pos: number }
  | { readonly k: 'bin'; readonly op: string; readonly l: ArthNode; readonly r: ArthNode; readonly pos: number }
  | { readonly k: 'neg'; readonly a: ArthNode };

export type FilterNode =
  | { readonly k: 'and' | 'or'; readonly l: FilterNode; readonly r: FilterNode }
  | { readonly k: 'not'; readonly e: FilterNode }
  | { readonly k: 'abbrev'; readonly proto: QProto; readonly pos: number }
  | { readonly k: 'rel'; readonly op: string; readonly a0: ArthNode; readonly a1: ArthNode; readonly pos: number }
  | { readonly k: 'ncode'; readonly text: string | null; readonly v: number; readonly q: Qual; readonly pos: number }
  | { readonly k: 'scode'; readonly name: string; readonly q: Qual; readonly pos: number }
  | { readonly k: 'mcode'; readonly s1: string; readonly s2: string | null; readonly masklen: number; readonly q: Qual; readonly pos: number }
  | { readonly k: 'mcode6'; readonly s1: string; readonly masklen: number; readonly q: Qual; readonly pos: number }
  | { readonly k: 'ecode'; readonly s: string; readonly q: Qual; readonly pos: number }
  | { readonly k: 'fail'; readonly msg: string; readonly pos: number }
  | { readonly k: 'other'; readonly what: string; readonly proto: QProto; readonly n: number; readonly has: boolean; readonly op: string; readonly n2: number; readonly pos: number };

/**
 * A syntax error. libpcap generates code while it parses, so a primitive
 * completed before the bad token can fail first with its own message:
 * `completed` lists those primitives, in order, for the compiler to check.
 */
export class FilterSyntaxError extends FilterError {
  constructor(position: number, readonly completed: readonly FilterNode[]) {
    super("can't parse filter expression: syntax error", position);
  }
}

class ParseFail extends Error {
  constructor(readonly pos: number) {
    super('syntax error');
  }
}

const PNAMES = new Set<string>([
  'link', 'ip', 'arp', 'rarp', 'sctp', 'tcp', 'udp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'atalk', 'aarp',
  'decnet', 'lat', 'sca', 'mopdl', 'moprc', 'ip6', 'icmp6', 'ah', 'esp', 'iso', 'esis', 'isis', 'l1', 'l2', 'iih', 'lsp',
  'snp', 'psnp', 'csnp', 'clnp', 'stp', 'ipx', 'netbeui', 'radio',
]);
const DQUALS = new Set(['src', 'dst', 'addr1', 'addr2', 'addr3', 'addr4', 'ra', 'ta']);
const AQUALS = new Set(['host', 'net', 'port', 'portrange']);
const HEAD_TAIL = new Set([...DQUALS, ...AQUALS, 'proto', 'protochain', 'gateway']);

/** Binding powers for the arithmetic operators that have a bison precedence. */
const ARITH_PREC: Record<string, number> = { '|': 1, '&': 2, '<<': 3, '>>': 3, '+': 4, '-': 4, '*': 5, '/': 5 };
const MAX_DEPTH = 200;

interface Parsed<T> {
  node: T;
  q: Qual;
}

class Parser {
  private i = 0;
  private furthest = 0;
  private furthestIndex = 0;
  private keepLog: { node: FilterNode; end: number }[] | undefined;
  /** Primitives completed so far, with the index of the token after each (for error precedence). */
  readonly completed: { node: FilterNode; end: number }[] = [];
  private depth = 0;
  private arithMemo = new Map<number, { node: ArthNode; end: number } | null>();

  constructor(private readonly toks: Token[]) {}

  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }

  private fail(): never {
    if (this.peek().pos >= this.furthest) {
      this.furthest = this.peek().pos;
      this.furthestIndex = Math.min(this.i, this.toks.length - 1);
    }
    throw new ParseFail(this.peek().pos);
  }

  private isKw(t: Token, ...names: string[]): boolean {
    return t.kind === 'kw' && names.includes(t.text);
  }

  private isOp(t: Token, ...ops: string[]): boolean {
    return t.kind === 'op' && ops.includes(t.text);
  }

  private isNot(t: Token): boolean {
    return (t.kind === 'kw' && t.text === '!') || (t.kind === 'op' && t.text === '!');
  }

  private expectOp(op: string): void {
    if (!this.isOp(this.peek(), op)) this.fail();
    this.i++;
  }

  /** Run `f`; on a syntax failure restore the position and return undefined. */
  private attempt<T>(f: () => T): T | undefined {
    const save = this.i;
    const depth = this.depth;
    const logged = this.completed.length;
    try {
      return f();
    } catch (e) {
      if (e instanceof ParseFail) {
        this.i = save;
        this.depth = depth;
        this.completed.length = logged;
        return undefined;
      }
      throw e;
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new FilterError("can't parse filter expression: expression nested too deeply", this.peek().pos);
  }

  parseProgram(): FilterNode | null {
    try {
      if (this.peek().kind === 'eof') return null;
      const e = this.parseExpr(QERR);
      if (this.peek().kind !== 'eof') this.fail();
      return e.node;
    } catch (e) {
      if (e instanceof ParseFail) {
        throw new FilterSyntaxError(
          Math.max(this.furthest, e.pos),
          this.completed.filter((c) => c.end <= this.furthestIndex).map((c) => c.node),
        );
      }
      throw e;
    }
  }

  /** Note a finished primitive (libpcap generates its code, and reports its errors, as soon as it is reduced). */
  private done<T extends FilterNode>(node: T): T {
    this.completed.push({ node, end: this.i });
    return node;
  }

  private isFollower(t: Token): boolean {
    return t.kind === 'eof' || this.isKw(t, 'and', 'or') || this.isOp(t, ')');
  }

  private parseExpr(ctx: Qual): Parsed<FilterNode> {
    this.enter();
    let { node, q } = this.parseTerm(ctx);
    while (this.isKw(this.peek(), 'and', 'or')) {
      const op = this.peek().text as 'and' | 'or';
      this.i++;
      const qCtx = q;
      // A name or address can only be an id; bison reduces it (and libpcap
      // compiles it) even when a bad token follows, so keep it in the log.
      const first = this.peek();
      const onlyId = first.kind === 'id' || first.kind === 'hid' || first.kind === 'hid6' || first.kind === 'eid' || first.kind === 'aid';
      const logged = this.completed.length;
      const id = this.attempt(() => {
        const r = this.parseId(qCtx);
        if (!this.isFollower(this.peek())) {
          if (onlyId) this.keepLog = this.completed.slice(logged);
          this.fail();
        }
        return r;
      });
      if (!id && this.keepLog) {
        this.completed.push(...this.keepLog);
        this.keepLog = undefined;
      }
      const rhs = id ?? this.parseTerm(qCtx);
      node = { k: op, l: node, r: rhs.node };
      q = rhs.q;
    }
    this.depth--;
    return { node, q };
  }

  private parseTerm(ctx: Qual): Parsed<FilterNode> {
    if (this.isNot(this.peek())) {
      this.i++;
      this.enter();
      const t = this.parseTerm(ctx);
      this.depth--;
      return { node: { k: 'not', e: t.node }, q: t.q };
    }
    return this.parseRterm(ctx);
  }

  private startsArith(): boolean {
    const t = this.peek();
    if (t.kind === 'num' || this.isOp(t, '-', '(') || this.isKw(t, 'len')) return true;
    return t.kind === 'kw' && PNAMES.has(t.text) && this.isOp(this.peek(1), '[');
  }

  private parseRterm(ctx: Qual): Parsed<FilterNode> {
    const t = this.peek();
    if (this.startsArith()) {
      const rel = this.attempt(() => this.parseRelation());
      if (rel) return { node: rel, q: QERR };
    }
    if (this.isOp(t, '(')) {
      this.i++;
      const e = this.parseExpr(ctx);
      this.expectOp(')');
      return { node: e.node, q: ctx };
    }
    if (t.kind !== 'kw') this.fail();
    let pqual: QProto = 'default';
    if (PNAMES.has(t.text)) {
      const next = this.peek(1);
      if (next.kind === 'kw' && (HEAD_TAIL.has(next.text) || next.text === 'broadcast' || next.text === 'multicast')) {
        pqual = t.text as QProto;
        this.i++;
      } else {
        this.i++;
        // Bison needs a valid lookahead to choose this reduction.
        const node: FilterNode = { k: 'abbrev', proto: t.text as QProto, pos: t.pos };
        return { node: this.isFollower(this.peek()) ? this.done(node) : node, q: QERR };
      }
    }
    const h = this.peek();
    if (this.isKw(h, 'broadcast', 'multicast')) {
      this.i++;
      return { node: this.done({ k: 'other', what: h.text, proto: pqual, n: 0, has: false, op: '', n2: 0, pos: h.pos }), q: QERR };
    }
    if (h.kind === 'kw' && HEAD_TAIL.has(h.text)) {
      const q = this.parseHead(pqual);
      return this.parseId(q);
    }
    if (pqual !== 'default') this.fail();
    return this.parseOther();
  }

  private parseHead(proto: QProto): Qual {
    let dir: QDir = 'default';
    let addr: QAddr = 'default';
    const t = this.peek();
    if (t.kind === 'kw' && DQUALS.has(t.text)) {
      this.i++;
      dir = t.text as QDir;
      if ((t.text === 'src' || t.text === 'dst') && this.isKw(this.peek(), 'and', 'or')) {
        const other = t.text === 'src' ? 'dst' : 'src';
        if (this.isKw(this.peek(1), other)) {
          dir = this.peek().text === 'or' ? 'or' : 'and';
          this.i += 2;
        }
      }
      const a = this.peek();
      if (a.kind === 'kw' && AQUALS.has(a.text)) {
        this.i++;
        addr = a.text as QAddr;
      }
      return { proto, dir, addr };
    }
    this.i++;
    return { proto, dir, addr: t.text as QAddr };
  }

  private parsePnum(): number {
    if (this.isOp(this.peek(), '(')) {
      this.i++;
      const v = this.parsePnum();
      this.expectOp(')');
      return v;
    }
    const t = this.peek();
    if (t.kind !== 'num') this.fail();
    this.i++;
    return t.value;
  }

  private parseOther(): Parsed<FilterNode> {
    const t = this.peek();
    const mk = (what: string, n = 0, has = false, op = '', n2 = 0): Parsed<FilterNode> => ({
      node: this.done({ k: 'other', what, proto: 'default', n, has, op, n2, pos: t.pos }),
      q: QERR,
    });
    this.i++;
    switch (t.text) {
      case 'less':
      case 'greater': {
        const n = this.peek();
        if (n.kind !== 'num') this.fail();
        this.i++;
        return mk(t.text, n.value);
      }
      case 'byte': {
        const n = this.peek();
        if (n.kind !== 'num') this.fail();
        this.i++;
        const op = this.peek();
        if (!this.isOp(op, '&', '|', '<', '>', '=')) this.fail();
        this.i++;
        const n2 = this.peek();
        if (n2.kind !== 'num') this.fail();
        this.i++;
        return mk('byte', n.value, true, op.text, n2.value);
      }
      case 'vlan':
      case 'mpls':
      case 'pppoes': {
        const v = this.attempt(() => this.parsePnum());
        return mk(t.text, v ?? 0, v !== undefined);
      }
      case 'llc': {
        // llc [i|s|u|rr|rnr|rej|ui|ua|disc|dm|sabme|test|xid|frmr]
        const n = this.peek();
        if (n.kind === 'id' || this.isKw(n, 'rnr')) {
          this.i++;
          return mk('llc', 0, true, n.kind === 'id' ? n.text : 'rnr');
        }
        return mk('llc');
      }
      case 'pppoed':
      case 'inbound':
      case 'outbound':
        return mk(t.text);
      case 'geneve': {
        const v = this.attempt(() => this.parsePnum());
        return mk(t.text, v ?? 0, v !== undefined);
      }
      case 'ifindex': {
        const n = this.peek();
        if (n.kind !== 'num') this.fail();
        this.i++;
        return mk('ifindex', n.value);
      }
      default:
        this.i--;
        this.fail();
    }
  }

  /** `id` in grammar.y: a value with the inherited qualifiers `q`. */
  private parseId(q: Qual): Parsed<FilterNode> {
    const t = this.peek();
    if (t.kind === 'num') {
      this.i++;
      return { node: this.done({ k: 'ncode', text: null, v: t.value, q, pos: t.pos }), q };
    }
    if (this.isOp(t, '(')) {
      this.i++;
      this.enter();
      let node: FilterNode;
      const first = this.peek();
      if (first.kind === 'num' || this.isOp(first, '(')) {
        const numOrPid = this.attempt(() => {
          const v = this.parsePnum();
          return this.done({ k: 'ncode', text: null, v, q, pos: first.pos } as FilterNode);
        });
        node = numOrPid ?? this.parseId(q).node;
      } else node = this.parseNid(q);
      while (this.isKw(this.peek(), 'and', 'or')) {
        const op = this.peek().text as 'and' | 'or';
        this.i++;
        node = { k: op, l: node, r: this.parseId(q).node };
      }
      this.expectOp(')');
      this.depth--;
      return { node, q };
    }
    return { node: this.parseNid(q), q };
  }

  private parseNid(q: Qual): FilterNode {
    const n = this.parseNidInner(q);
    return n.k === 'not' ? n : this.done(n);
  }

  private parseNidInner(q: Qual): FilterNode {
    const t = this.peek();
    switch (t.kind) {
      case 'id':
        this.i++;
        return { k: 'scode', name: t.text, q, pos: t.pos };
      case 'hid': {
        this.i++;
        if (this.isOp(this.peek(), '/')) {
          this.i++;
          const n = this.peek();
          if (n.kind !== 'num') this.fail();
          this.i++;
          return { k: 'mcode', s1: t.text, s2: null, masklen: n.value, q, pos: t.pos };
        }
        if (this.isKw(this.peek(), 'mask')) {
          this.i++;
          const m = this.peek();
          if (m.kind !== 'hid') this.fail();
          this.i++;
          return { k: 'mcode', s1: t.text, s2: m.text, masklen: 0, q, pos: t.pos };
        }
        if (q.addr === 'port' || q.addr === 'portrange' || q.addr === 'proto' || q.addr === 'protochain') {
          return { k: 'fail', msg: `'${q.addr}' modifier applied to ip host`, pos: t.pos };
        }
        return { k: 'ncode', text: t.text, v: 0, q, pos: t.pos };
      }
      case 'hid6': {
        this.i++;
        if (this.isOp(this.peek(), '/')) {
          this.i++;
          const n = this.peek();
          if (n.kind !== 'num') this.fail();
          this.i++;
          return { k: 'mcode6', s1: t.text, masklen: n.value, q, pos: t.pos };
        }
        return { k: 'mcode6', s1: t.text, masklen: 128, q, pos: t.pos };
      }
      case 'eid':
        this.i++;
        return { k: 'ecode', s: t.text, q, pos: t.pos };
      case 'aid':
        this.i++;
        return { k: 'fail', msg: 'aid supported only on ARCnet', pos: t.pos };
      default:
        if (this.isNot(t)) {
          this.i++;
          this.enter();
          const inner = this.parseId(q).node;
          this.depth--;
          return { k: 'not', e: inner };
        }
        this.fail();
    }
  }

  // ---- arithmetic ----
  private parseRelation(): FilterNode {
    const start = this.peek().pos;
    const a0 = this.parseArith(0);
    const r = this.peek();
    if (!this.isOp(r, '>', '>=', '=', '<=', '<', '!=')) this.fail();
    this.i++;
    const a1 = this.parseArith(0);
    return this.done({ k: 'rel', op: r.text, a0, a1, pos: start });
  }

  private parseArith(minPrec: number): ArthNode {
    if (minPrec === 0) {
      const start = this.i;
      const memo = this.arithMemo.get(start);
      if (memo === null) this.fail();
      if (memo) {
        this.i = memo.end;
        return memo.node;
      }
      try {
        const node = this.parseArithInner(0);
        this.arithMemo.set(start, { node, end: this.i });
        return node;
      } catch (e) {
        if (e instanceof ParseFail) this.arithMemo.set(start, null);
        throw e;
      }
    }
    return this.parseArithInner(minPrec);
  }

  private parseArithInner(minPrec: number): ArthNode {
    this.enter();
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') break;
      if (t.text === '%' || t.text === '^') {
        this.i++;
        const right = this.parseArith(0);
        left = { k: 'bin', op: t.text, l: left, r: right, pos: t.pos };
        continue;
      }
      const prec = ARITH_PREC[t.text];
      if (prec === undefined || prec < minPrec) break;
      this.i++;
      const right = this.parseArithInner(prec + 1);
      left = { k: 'bin', op: t.text, l: left, r: right, pos: t.pos };
    }
    this.depth--;
    return left;
  }

  private parseUnary(): ArthNode {
    const t = this.peek();
    if (this.isOp(t, '-')) {
      this.i++;
      return { k: 'neg', a: this.parseArithInner(6) };
    }
    if (t.kind === 'num') {
      this.i++;
      return { k: 'num', v: t.value };
    }
    if (this.isKw(t, 'len')) {
      this.i++;
      return { k: 'len' };
    }
    if (this.isOp(t, '(')) {
      this.i++;
      const a = this.parseArith(0);
      this.expectOp(')');
      return a;
    }
    if (t.kind === 'kw' && PNAMES.has(t.text) && this.isOp(this.peek(1), '[')) {
      this.i += 2;
      const idx = this.parseArith(0);
      let size = 1;
      if (this.isOp(this.peek(), ':')) {
        this.i++;
        const n = this.peek();
        if (n.kind !== 'num') this.fail();
        this.i++;
        size = n.value;
      }
      this.expectOp(']');
      return { k: 'load', proto: t.text as QProto, idx, size, pos: t.pos };
    }
    this.fail();
  }
}

/** Parse a filter expression; null for the empty expression (accept everything). */
export function parseFilter(expr: string): FilterNode | null {
  return new Parser(tokenize(expr)).parseProgram();
}
