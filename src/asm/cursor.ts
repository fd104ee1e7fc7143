/**
 * A read position in one line's tokens, with the checks both parsers share:
 * registers, immediates in range, and errors that point at a column.
 */
import type { Reg } from '../isa/index.js';
import { AsmError } from './errors.js';
import { numberValue, type Token } from './lexer.js';

/** A parsed register and whether it was spelled as a 32-bit subregister (w1). */
export interface RegTok {
  readonly reg: Reg;
  readonly sub: boolean;
  readonly col: number;
}

/** A jump or call target: a relative offset, or a label resolved later. */
export type Target = { readonly off: number } | { readonly label: string; readonly col: number };

export class Cursor {
  pos = 0;
  constructor(
    readonly toks: readonly Token[],
    readonly line: number,
    readonly source: string,
    /** Column just past the end of the line, for "expected X" at the end. */
    readonly endCol: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.toks.length;
  }

  peek(k = 0): Token | undefined {
    return this.toks[this.pos + k];
  }

  col(): number {
    return this.peek()?.col ?? this.endCol;
  }

  fail(reason: string, col = this.col()): never {
    throw new AsmError(reason, this.line, col, this.source);
  }

  next(what: string): Token {
    const t = this.toks[this.pos];
    if (!t) this.fail(`expected ${what}, found end of line`);
    this.pos++;
    return t;
  }

  /** True (and consumes it) when the next token is the operator or word `text`. */
  accept(text: string): boolean {
    const t = this.peek();
    if (t && t.type !== 'num' && t.text === text) {
      this.pos++;
      return true;
    }
    return false;
  }

  expect(text: string): Token {
    const t = this.peek();
    if (!t || t.type === 'num' || t.text !== text) {
      this.fail(`expected '${text}'${t ? `, found '${t.text}'` : ', found end of line'}`);
    }
    this.pos++;
    return t;
  }

  end(): void {
    const t = this.peek();
    if (t) this.fail(`unexpected '${t.text}' after instruction`);
  }

  isRegAhead(k = 0): boolean {
    const t = this.peek(k);
    return !!t && t.type === 'id' && /^%?[rw]\d+$/.test(t.text);
  }

  /** r0..r10, w0..w10, or the ubpf spelling %r0. */
  reg(): RegTok {
    const t = this.next('a register');
    const m = t.type === 'id' ? /^(%?)([rw])(\d+)$/.exec(t.text) : null;
    if (!m) this.fail(`expected a register, found '${t.text}'`, t.col);
    const n = Number(m[3]);
    if (n > 10 || m[3].length > 2 || (m[1] === '%' && m[2] === 'w')) this.fail(`unknown register '${t.text}'`, t.col);
    return { reg: n as Reg, sub: m[2] === 'w', col: t.col };
  }

  /** A 64-bit register (r1); `w` spellings are errors. */
  reg64(): Reg {
    const r = this.reg();
    if (r.sub) this.fail(`expected a 64-bit register, found 'w${r.reg}'`, r.col);
    return r.reg;
  }

  /** Optionally signed integer: `-0x10`, `+3`, `42`. */
  signed(what = 'a number'): { value: bigint; col: number } {
    const col = this.col();
    let neg = false;
    if (this.accept('-')) neg = true;
    else this.accept('+');
    const t = this.next(what);
    if (t.type !== 'num') this.fail(`expected ${what}, found '${t.text}'`, t.col);
    const v = numberValue(t);
    return { value: neg ? -v : v, col };
  }

  /** A 32-bit immediate: signed, or unsigned up to 0xffffffff (wrapped like llvm-mc). */
  imm32(what = 'an immediate'): number {
    const { value, col } = this.signed(what);
    if (value < -0x80000000n || value > 0xffffffffn) this.fail(`immediate ${value} does not fit in 32 bits`, col);
    return Number(BigInt.asIntN(32, value));
  }

  /** A 16-bit signed offset. */
  off16(what = 'an offset'): number {
    const { value, col } = this.signed(what);
    if (value < -0x8000n || value > 0x7fffn) this.fail(`offset ${value} does not fit in 16 signed bits`, col);
    return Number(value);
  }

  /** A 64-bit value: anything from -2^63 to 2^64-1. */
  imm64(what = 'an immediate'): bigint {
    const { value, col } = this.signed(what);
    if (value < -(1n << 63n) || value >= 1n << 64n) this.fail(`immediate ${value} does not fit in 64 bits`, col);
    return BigInt.asUintN(64, value);
  }

  /**
   * A jump target: `+3`, `-0x1`, `pc+3` (kernel), or a label. `wide` allows
   * the 32-bit range of gotol and local calls.
   */
  target(wide = false): Target {
    const t = this.peek();
    if (!t) this.fail('expected a jump target, found end of line');
    if (t.type === 'id' && t.text === 'pc' && (this.peek(1)?.text === '+' || this.peek(1)?.text === '-')) this.pos++;
    else if (t.type === 'id') {
      this.pos++;
      return { label: t.text, col: t.col };
    }
    return { off: wide ? this.imm32('a jump offset') : this.off16('a jump offset') };
  }
}
