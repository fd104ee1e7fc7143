/**
 * Splits one line of assembly into tokens that remember their column, so
 * every error can point at the character that caused it.
 */
import { AsmError } from './errors.js';

export type TokenType = 'id' | 'num' | 'op';

export interface Token {
  readonly type: TokenType;
  /** Identifiers keep their case; numbers keep their spelling (0x10, 16). */
  readonly text: string;
  /** 1-based column in the original line. */
  readonly col: number;
}

// Longest first, so `<<=` wins over `<<` and `<`.
const OPERATORS = [
  's>>=', '<<=', '>>=', 's/=', 's%=', 's>=', 's<=',
  '+=', '-=', '*=', '/=', '|=', '&=', '^=', '%=', '==', '!=', '>=', '<=', 's>', 's<',
  '>', '<', '=', '&', '+', '-', '*', '(', ')', '[', ']', ',', ':', '#',
];

const ID_START = /[A-Za-z_.$]/;
const ID_CHAR = /[A-Za-z0-9_.$]/;

/**
 * Tokenize `text`, which starts at column `col0` of `source` (line `line`).
 * Comments are already gone.
 */
export function tokenize(text: string, line: number, col0: number, source: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const col = col0 + i;
    // `s` glued to an operator is a signed operator (`s>>=`, `s<`), not a name.
    if (c === 's') {
      const op = OPERATORS.find((o) => o.startsWith('s') && text.startsWith(o, i));
      if (op) {
        out.push({ type: 'op', text: op, col });
        i += op.length;
        continue;
      }
    }
    // `%r1` is one word (ubpf registers); a lone `%` belongs to `%=`.
    if (ID_START.test(c) || (c === '%' && /[A-Za-z]/.test(text[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < text.length && ID_CHAR.test(text[j])) j++;
      out.push({ type: 'id', text: text.slice(i, j), col });
      i = j;
      continue;
    }
    if (c >= '0' && c <= '9') {
      let j = i + 1;
      if (c === '0' && (text[j] === 'x' || text[j] === 'X')) {
        j++;
        while (j < text.length && /[0-9a-fA-F]/.test(text[j])) j++;
        if (j === i + 2) throw new AsmError(`malformed number '${text.slice(i, j + 1)}'`, line, col, source);
      } else {
        while (j < text.length && /[0-9]/.test(text[j])) j++;
      }
      if (j < text.length && ID_CHAR.test(text[j])) {
        let k = j;
        while (k < text.length && ID_CHAR.test(text[k])) k++;
        throw new AsmError(`malformed number '${text.slice(i, k)}'`, line, col, source);
      }
      out.push({ type: 'num', text: text.slice(i, j), col });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => !o.startsWith('s') && text.startsWith(o, i));
    if (op) {
      out.push({ type: 'op', text: op, col });
      i += op.length;
      continue;
    }
    throw new AsmError(`unexpected character '${c}'`, line, col, source);
  }
  return out;
}

/** Value of a number token (decimal or 0x hex). */
export function numberValue(tok: Token): bigint {
  return BigInt(tok.text.toLowerCase());
}
