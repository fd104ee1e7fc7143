/**
 * Recursive-descent parser for the bpftrace language (0.17 syntax): probes
 * with attach points, predicates and action blocks; C-like expressions with
 * bpftrace's operator precedence.
 */
import type { AttachPoint, BinaryOp, Expr, MapExpr, Probe, Script, Stmt, TypeName, VarExpr } from './ast.js';
import { ScriptError, type Loc } from './errors.js';
import { Lexer, type Token } from './lexer.js';

const BINARY_LEVELS: readonly (readonly BinaryOp[])[] = [
  ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
];

/**
 * Levels of nesting (parentheses, operators, blocks, else-if chains) the
 * parser follows; deeper input is a ScriptError at the place it goes too
 * deep, not a stack overflow (later passes recurse over the tree as well).
 */
const MAX_NESTING = 200;

const INT_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'int', 'char', 'short', 'long', 'unsigned', 'void', 'bool', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64']);

function join(a: Loc, b: Loc): Loc {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of file';
    case 'ident': return 'identifier';
    case 'int': return 'integer';
    case 'string': return 'string';
    case 'var': return 'variable';
    case 'map': return 'map';
    case 'param': return 'positional parameter';
    case 'punct': return t.text;
  }
}

export function parse(source: string): Script {
  try {
    return new Parser(source).script();
  } catch (e) {
    // MAX_NESTING leaves room on any stack we have met; this is the guard for one that is smaller.
    if (e instanceof RangeError) throw new ScriptError(`program too deeply nested to parse (${e.message})`, undefined);
    throw e;
  }
}

class Parser {
  private readonly lx: Lexer;
  /** Nesting levels open now (see nested). */
  private depth = 0;
  constructor(source: string) {
    this.lx = new Lexer(source);
  }

  /** Parse one nesting level with `f`, starting at the next token. */
  private nested<T>(f: () => T): T {
    if (this.depth >= MAX_NESTING) throw new ScriptError(`nesting too deep (more than ${MAX_NESTING} levels)`, this.lx.peek().loc);
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private unexpected(t: Token, expecting?: string): never {
    throw new ScriptError(`syntax error, unexpected ${describe(t)}${expecting ? `, expecting ${expecting}` : ''}`, t.loc);
  }

  private isPunct(text: string): boolean {
    const t = this.lx.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private expect(text: string): Token {
    const t = this.lx.next();
    if (t.kind !== 'punct' || t.text !== text) this.unexpected(t, text);
    return t;
  }

  script(): Script {
    const probes: Probe[] = [];
    this.skipPreamble();
    while (!this.lx.atEnd()) probes.push(this.probe());
    if (probes.length === 0) throw new ScriptError('No probes found', undefined);
    return { probes };
  }

  /** `#include` lines and `#define`s: the C preprocessor is not used; skip them. */
  private skipPreamble(): void {
    // Handled by the source being pre-filtered in parse(); nothing here.
  }

  private probe(): Probe {
    const aps: AttachPoint[] = [];
    for (;;) {
      const ap = this.lx.attachPoint();
      if (!ap) this.unexpected(this.lx.peek());
      aps.push({ text: ap.text, loc: ap.loc });
      if (this.isPunct(',')) { this.lx.next(); continue; }
      break;
    }
    let predicate: Expr | undefined;
    if (this.isPunct('/')) {
      this.lx.next();
      predicate = this.expr(true);
      this.expect('/');
    }
    const open = this.lx.peek();
    if (!(open.kind === 'punct' && open.text === '{')) this.unexpected(open, '{');
    const body = this.block();
    return { attachPoints: aps, predicate, body, loc: join(aps[0].loc, aps[aps.length - 1].loc) };
  }

  private block(): Stmt[] {
    return this.nested(() => this.blockBody());
  }

  private blockBody(): Stmt[] {
    this.expect('{');
    const out: Stmt[] = [];
    while (!this.isPunct('}')) {
      const t = this.lx.peek();
      if (t.kind === 'eof') this.unexpected(t, '}');
      if (this.isPunct(';')) { this.lx.next(); continue; }
      const s = this.stmt();
      out.push(s);
      const blockLike = s.kind === 'if' || s.kind === 'unroll' || s.kind === 'while' || s.kind === 'for';
      if (this.isPunct(';')) this.lx.next();
      else if (!this.isPunct('}') && !blockLike) this.unexpected(this.lx.peek());
    }
    this.lx.next();
    return out;
  }

  private stmt(): Stmt {
    const t = this.lx.peek();
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'if': return this.ifStmt();
        case 'unroll': {
          this.lx.next();
          this.expect('(');
          const n = this.lx.next();
          if (n.kind !== 'int') this.unexpected(n, 'integer');
          this.expect(')');
          const count = Number(n.text);
          if (count < 1 || count > 100) throw new ScriptError('unroll maximum value is 100 and minimum value is 1', n.loc);
          return { kind: 'unroll', count, body: this.block(), loc: t.loc };
        }
        case 'while': {
          this.lx.next();
          this.expect('(');
          const cond = this.expr();
          this.expect(')');
          return { kind: 'while', cond, body: this.block(), loc: t.loc };
        }
        case 'for': {
          this.lx.next();
          this.expect('(');
          const v = this.lx.next();
          if (v.kind !== 'var') this.unexpected(v, 'variable');
          this.expect(':');
          const m = this.lx.next();
          if (m.kind !== 'map') this.unexpected(m, 'map');
          this.expect(')');
          return { kind: 'for', variable: v.text, map: { kind: 'map', name: m.text, keys: [], loc: m.loc }, body: this.block(), loc: t.loc };
        }
        case 'return': case 'break': case 'continue':
          this.lx.next();
          return { kind: 'jump', which: t.text, loc: t.loc };
      }
    }
    const e = this.expr();
    const op = this.lx.peek();
    if (op.kind === 'punct' && /^(=|\+=|-=|\*=|\/=|%=|&=|\|=|\^=|<<=|>>=)$/.test(op.text)) {
      if (e.kind !== 'map' && e.kind !== 'var') this.unexpected(op);
      this.lx.next();
      let value = this.expr();
      if (op.text !== '=') {
        value = { kind: 'binary', op: op.text.slice(0, -1) as BinaryOp, left: e, right: value, loc: join(e.loc, value.loc) };
      }
      return { kind: 'assign', target: e as MapExpr | VarExpr, value, loc: join(e.loc, value.loc), opLoc: op.loc };
    }
    return { kind: 'expr', expr: e, loc: e.loc };
  }

  private ifStmt(): Stmt {
    const t = this.lx.next();
    this.expect('(');
    const cond = this.expr();
    this.expect(')');
    const then = this.block();
    let els: Stmt[] | undefined;
    const e = this.lx.peek();
    if (e.kind === 'ident' && e.text === 'else') {
      this.lx.next();
      const n = this.lx.peek();
      els = n.kind === 'ident' && n.text === 'if' ? [this.nested(() => this.ifStmt())] : this.block();
    }
    return { kind: 'if', cond, then, else: els, loc: t.loc };
  }

  /** inPredicate: a bare '/' ends the predicate, so division needs parentheses there (as in bpftrace). */
  expr(inPredicate = false): Expr {
    return this.nested(() => this.ternary(inPredicate));
  }

  private ternary(inPredicate: boolean): Expr {
    const cond = this.binary(0, inPredicate);
    if (this.isPunct('?')) {
      this.lx.next();
      const a = this.expr(inPredicate);
      this.expect(':');
      const b = this.expr(inPredicate);
      return { kind: 'ternary', cond, then: a, else: b, loc: join(cond.loc, b.loc) };
    }
    return cond;
  }

  private binary(level: number, inPredicate: boolean): Expr {
    if (level >= BINARY_LEVELS.length) return this.unary(inPredicate);
    let left = this.binary(level + 1, inPredicate);
    for (;;) {
      const t = this.lx.peek();
      if (t.kind !== 'punct' || !BINARY_LEVELS[level].includes(t.text as BinaryOp)) return left;
      if (inPredicate && t.text === '/') return left;
      this.lx.next();
      const right = this.binary(level + 1, inPredicate);
      left = { kind: 'binary', op: t.text as BinaryOp, left, right, loc: join(left.loc, right.loc) };
    }
  }

  private unary(inPredicate: boolean): Expr {
    const t = this.lx.peek();
    if (t.kind === 'punct') {
      if (t.text === '!' || t.text === '~' || t.text === '-' || t.text === '*' || t.text === '&') {
        this.lx.next();
        const operand = this.nested(() => this.unary(inPredicate));
        if (t.text === '-' && operand.kind === 'int') return { kind: 'int', value: -operand.value, loc: join(t.loc, operand.loc) };
        return { kind: 'unary', op: t.text, operand, loc: join(t.loc, operand.loc) };
      }
      if (t.text === '++' || t.text === '--') {
        this.lx.next();
        const target = this.nested(() => this.unary(inPredicate));
        return { kind: 'incdec', op: t.text, prefix: true, target, loc: join(t.loc, target.loc) };
      }
    }
    return this.postfix(inPredicate);
  }

  private postfix(inPredicate: boolean): Expr {
    let e = this.primary(inPredicate);
    for (;;) {
      const t = this.lx.peek();
      if (t.kind !== 'punct') return e;
      if (t.text === '.' || t.text === '->') {
        this.lx.next();
        const f = this.lx.next();
        if (f.kind !== 'ident' && f.kind !== 'int') this.unexpected(f, 'identifier');
        e = { kind: 'field', base: e, field: f.text, arrow: t.text === '->', loc: join(e.loc, f.loc) };
      } else if (t.text === '[') {
        this.lx.next();
        const index = this.expr();
        const close = this.expect(']');
        e = { kind: 'index', base: e, index, loc: join(e.loc, close.loc) };
      } else if (t.text === '++' || t.text === '--') {
        this.lx.next();
        e = { kind: 'incdec', op: t.text, prefix: false, target: e, loc: join(e.loc, t.loc) };
      } else return e;
    }
  }

  private args(): { args: Expr[]; close: Token } {
    this.expect('(');
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.expr());
        if (this.isPunct(',')) { this.lx.next(); continue; }
        break;
      }
    }
    return { args, close: this.expect(')') };
  }

  private primary(inPredicate: boolean): Expr {
    const t = this.lx.next();
    switch (t.kind) {
      case 'int': return { kind: 'int', value: BigInt(t.text), loc: t.loc };
      case 'string': return { kind: 'str', value: t.text, loc: t.loc };
      case 'var': return { kind: 'var', name: t.text, loc: t.loc };
      case 'param': return { kind: 'param', index: Number(t.text), loc: t.loc };
      case 'map': {
        if (this.isPunct('[')) {
          this.lx.next();
          const keys: Expr[] = [];
          for (;;) {
            keys.push(this.expr());
            if (this.isPunct(',')) { this.lx.next(); continue; }
            break;
          }
          const close = this.expect(']');
          return { kind: 'map', name: t.text, keys, loc: join(t.loc, close.loc) };
        }
        return { kind: 'map', name: t.text, keys: [], loc: t.loc };
      }
      case 'ident': {
        if (this.isPunct('(')) {
          const { args, close } = this.args();
          return { kind: 'call', name: t.text, args, loc: join(t.loc, close.loc) };
        }
        return { kind: 'builtin', name: t.text, loc: t.loc };
      }
      case 'punct':
        if (t.text === '(') {
          const cast = this.castType();
          if (cast) {
            this.expect(')');
            const expr = this.unary(inPredicate);
            return { kind: 'cast', type: cast, expr, loc: join(t.loc, expr.loc) };
          }
          const first = this.expr();
          if (this.isPunct(',')) {
            const elems = [first];
            while (this.isPunct(',')) {
              this.lx.next();
              elems.push(this.expr());
            }
            const close = this.expect(')');
            return { kind: 'tuple', elems, loc: join(t.loc, close.loc) };
          }
          this.expect(')');
          return first;
        }
        return this.unexpected(t);
      default:
        return this.unexpected(t);
    }
  }

  /** After '(': a type name followed by '*'s and ')', or undefined (then nothing is consumed). */
  private castType(): TypeName | undefined {
    const t = this.lx.peek();
    if (t.kind !== 'ident') return undefined;
    let name: string;
    if (t.text === 'struct' || t.text === 'union' || t.text === 'enum') {
      this.lx.next();
      const n = this.lx.next();
      if (n.kind !== 'ident') this.unexpected(n, 'identifier');
      name = `${t.text} ${n.text}`;
    } else if (INT_TYPES.has(t.text)) {
      this.lx.next();
      name = t.text;
    } else return undefined;
    let pointer = 0;
    while (this.isPunct('*')) { this.lx.next(); pointer++; }
    return { name, pointer };
  }
}

/** Blank out preprocessor lines, keeping line numbers (bpftrace runs cpp; we only skip includes). */
export function stripPreprocessor(source: string): string {
  return source.split('\n').map((l) => (/^\s*#/.test(l) ? '' : l)).join('\n');
}
