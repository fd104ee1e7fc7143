import { ScriptError, type Loc } from './errors.js';

export type TokenKind =
  | 'ident' | 'int' | 'string' | 'var' | 'map' | 'param' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier or punctuation text; the decoded value for strings; digits for ints. */
  readonly text: string;
  readonly loc: Loc;
}

const PUNCTS = [
  '<<=', '>>=', '...',
  '==', '!=', '<=', '>=', '&&', '||', '<<', '>>', '->', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
  '{', '}', '(', ')', '[', ']', ';', ',', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '?', ':', '.',
];

/**
 * On-demand lexer: the parser asks for an ordinary token or, between
 * probes, for a raw attach point (`uprobe:/bin/bash:readline` has slashes
 * and colons that are not operators there).
 */
export class Lexer {
  private pos = 0;
  private line = 1;
  private col = 1;
  private cached: { at: number; tok: Token; pos: number; line: number; col: number } | undefined;

  constructor(readonly src: string) {}

  private skipSpace(): void {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === '\n') { this.pos++; this.line++; this.col = 1; continue; }
      if (c === ' ' || c === '\t' || c === '\r') { this.advance(1); continue; }
      if (c === '/' && s[this.pos + 1] === '/') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.advance(1);
        continue;
      }
      if (c === '/' && s[this.pos + 1] === '*') {
        const start = this.here();
        this.advance(2);
        while (this.pos < s.length && !(s[this.pos] === '*' && s[this.pos + 1] === '/')) {
          if (s[this.pos] === '\n') { this.pos++; this.line++; this.col = 1; } else this.advance(1);
        }
        if (this.pos >= s.length) throw new ScriptError('unterminated comment', this.span(start));
        this.advance(2);
        continue;
      }
      return;
    }
  }

  private advance(n: number): void {
    this.pos += n;
    this.col += n;
  }

  private here(): { line: number; col: number } {
    return { line: this.line, col: this.col };
  }

  private span(start: { line: number; col: number }): Loc {
    return { line: start.line, col: start.col, endLine: this.line, endCol: this.col };
  }

  peek(): Token {
    if (this.cached && this.cached.at === this.pos) return this.cached.tok;
    const save = { pos: this.pos, line: this.line, col: this.col };
    const tok = this.scan();
    this.cached = { at: save.pos, tok, pos: this.pos, line: this.line, col: this.col };
    this.pos = save.pos; this.line = save.line; this.col = save.col;
    return tok;
  }

  next(): Token {
    const t = this.peek();
    const c = this.cached!;
    this.pos = c.pos; this.line = c.line; this.col = c.col;
    return t;
  }

  /** True when only whitespace and comments remain. */
  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }

  /** A raw attach point: everything up to whitespace, ',' or '{' (quotes kept together). */
  attachPoint(): Token | undefined {
    this.skipSpace();
    const start = this.here();
    let text = '';
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '"') {
        const end = s.indexOf('"', this.pos + 1);
        if (end < 0) throw new ScriptError('unterminated string', this.span(start));
        text += s.slice(this.pos + 1, end);
        this.advance(end + 1 - this.pos);
        continue;
      }
      if (/[\s,{]/.test(c)) break;
      // A predicate may follow without a space: `BEGIN/1/`; attach points with slashes contain ':' before them.
      if (c === '/' && !text.includes(':')) break;
      text += c;
      this.advance(1);
    }
    if (text === '') return undefined;
    return { kind: 'ident', text, loc: this.span(start) };
  }

  private scan(): Token {
    this.skipSpace();
    const s = this.src;
    const start = this.here();
    if (this.pos >= s.length) return { kind: 'eof', text: '', loc: this.span(start) };
    const c = s[this.pos];
    const word = /^[A-Za-z_][A-Za-z0-9_]*/;
    if (c === '$' || c === '@') {
      const m = word.exec(s.slice(this.pos + 1)) ?? (c === '$' ? /^[0-9]+/.exec(s.slice(this.pos + 1)) : null);
      const name = m ? m[0] : '';
      if (c === '$' && name === '') throw new ScriptError(`syntax error, unexpected $`, this.span(start));
      this.advance(1 + name.length);
      const kind: TokenKind = c === '@' ? 'map' : /^[0-9]/.test(name) ? 'param' : 'var';
      return { kind, text: c === '$' && kind === 'param' ? name : c + name, loc: this.span(start) };
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = word.exec(s.slice(this.pos))!;
      this.advance(m[0].length);
      return { kind: 'ident', text: m[0], loc: this.span(start) };
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*(e[0-9]+)?)/.exec(s.slice(this.pos))!;
      this.advance(m[0].length);
      let text = m[0].replace(/_/g, '');
      const e = /^([0-9]+)e([0-9]+)$/.exec(text);
      if (e) text = (BigInt(e[1]) * 10n ** BigInt(e[2])).toString();
      if (/[A-Za-z_]/.test(s[this.pos] ?? '')) {
        throw new ScriptError(`syntax error, unexpected identifier`, this.span(start));
      }
      return { kind: 'int', text, loc: this.span(start) };
    }
    if (c === '"') return this.string(start);
    if (c === "'") {
      // bpftrace has no char literals; give a clear error.
      this.advance(1);
      throw new ScriptError(`invalid character '''`, this.span(start));
    }
    for (const p of PUNCTS) {
      if (s.startsWith(p, this.pos)) {
        this.advance(p.length);
        return { kind: 'punct', text: p, loc: this.span(start) };
      }
    }
    this.advance(1);
    throw new ScriptError(`invalid character '${c}'`, this.span(start));
  }

  private string(start: { line: number; col: number }): Token {
    const s = this.src;
    this.advance(1);
    let out = '';
    for (;;) {
      if (this.pos >= s.length || s[this.pos] === '\n') throw new ScriptError('unterminated string', this.span(start));
      const c = s[this.pos];
      if (c === '"') { this.advance(1); break; }
      if (c === '\\') {
        const e = s[this.pos + 1];
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b' };
        if (e !== undefined && e in simple) { out += simple[e]; this.advance(2); continue; }
        const oct = /^[0-7]{1,3}/.exec(s.slice(this.pos + 1));
        if (oct) { out += String.fromCharCode(parseInt(oct[0], 8) & 0xff); this.advance(1 + oct[0].length); continue; }
        const hex = /^x([0-9a-fA-F]{1,2})/.exec(s.slice(this.pos + 1));
        if (hex) { out += String.fromCharCode(parseInt(hex[1], 16)); this.advance(1 + hex[0].length); continue; }
        const at = this.here();
        this.advance(2);
        throw new ScriptError(`invalid escape character '\\${e ?? ''}'`, this.span(at));
      }
      out += c;
      this.advance(1);
    }
    return { kind: 'string', text: out, loc: this.span(start) };
  }
}
