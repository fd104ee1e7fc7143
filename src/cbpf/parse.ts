/**
 * Reading listings back: the three formats of `tcpdump -d`, `-dd` and
 * `-ddd`, plus the comma-separated one-line form of `-ddd` that
 * `iptables -m bpf --bytecode` and `tc ... bpf bytecode` take.
 *
 * The `-d` form loses k (and jt, jf) where bpf_image does not print them
 * (`ret a`, `tax`, `txa`, `neg`, `unimp`): those come back as 0.
 */
import { ancillaryK } from './ancillary.js';
import { CbpfParseError } from './errors.js';
import type { SockFilter } from './insn.js';
import type { DumpLevel } from './image.js';

export type ListingFormat = 'd' | 'dd' | 'ddd';

/** Which format a listing is in, from its first meaningful character. */
export function detectFormat(text: string): ListingFormat {
  const m = /[^\s]/.exec(stripComments(text));
  if (!m) throw new CbpfParseError('empty program listing', 1, 1);
  const c = m[0];
  if (c === '{') return 'dd';
  if (/[0-9]/.test(c)) return 'ddd';
  return 'd';
}

/** Parse a listing in any of the three formats (detected unless given). */
export function parseListing(text: string, format?: ListingFormat | DumpLevel): SockFilter[] {
  const f = typeof format === 'number' ? (['d', 'dd', 'ddd'] as const)[format - 1] : format ?? detectFormat(text);
  switch (f) {
    case 'd': return parseDump(text);
    case 'dd': return parseDumpC(text);
    case 'ddd': return parseDumpDecimal(text);
  }
}

/** Blank out `//` and `/* *\/` comments and `;`-comments while keeping line and column positions. */
function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
}

/** A cursor over one line that reports errors at 1-based line:column. */
class LineCursor {
  pos = 0;
  constructor(readonly text: string, readonly line: number) {}
  fail(reason: string, at = this.pos): never {
    throw new CbpfParseError(reason, this.line, at + 1);
  }
  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }
  peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }
  expect(s: string): void {
    this.skipSpace();
    if (!this.text.startsWith(s, this.pos)) this.fail(`expected '${s}'`);
    this.pos += s.length;
  }
  tryConsume(s: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }
  word(): string {
    this.skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail('expected a mnemonic');
    this.pos += m[0].length;
    return m[0];
  }
  /** An integer: decimal or 0x hex, optionally negative (leading zeros are decimal, as in `(010)`). */
  integer(what: string): { value: number; at: number } {
    this.skipSpace();
    const at = this.pos;
    const m = /^[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    let body = m[0].replace(/[uUlL]+$/, '');
    const neg = body.startsWith('-');
    if (neg || body.startsWith('+')) body = body.slice(1);
    let value: number;
    if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
    else if (/^[0-9]+$/.test(body)) value = parseInt(body, 10);
    else this.fail(`bad number '${m[0]}'`, at);
    return { value: neg ? -value : value, at };
  }
}

function fitsU32(c: LineCursor, n: { value: number; at: number }, what: string): number {
  if (n.value < -0x80000000 || n.value > 0xffffffff) c.fail(`${what} ${n.value} does not fit in 32 bits`, n.at);
  return n.value >>> 0;
}

function inRange(c: LineCursor, n: { value: number; at: number }, max: number, what: string): number {
  if (n.value < 0 || n.value > max) c.fail(`${what} ${n.value} out of range 0..${max}`, n.at);
  return n.value;
}

function meaningfulLines(text: string): { text: string; line: number }[] {
  return stripComments(text)
    .split('\n')
    .map((t, i) => ({ text: t.replace(/\r$/, ''), line: i + 1 }))
    .filter((l) => l.text.trim() !== '');
}

/** `-ddd`: the count, then `code jt jf k` per line; or all of it on one line separated by commas. */
export function parseDumpDecimal(text: string): SockFilter[] {
  const records: { c: LineCursor; start: number }[] = [];
  for (const l of meaningfulLines(text)) {
    // Split on commas but keep column positions.
    let start = 0;
    for (const part of l.text.split(',')) {
      if (part.trim() !== '') records.push({ c: new LineCursor(l.text.slice(0, start + part.length), l.line), start });
      start += part.length + 1;
    }
  }
  if (records.length === 0) throw new CbpfParseError('empty program listing', 1, 1);
  const head = records[0];
  head.c.pos = head.start;
  const count = head.c.integer('the instruction count');
  if (!head.c.atEnd()) head.c.fail('expected the instruction count alone before the instructions');
  const out: SockFilter[] = [];
  for (const r of records.slice(1)) {
    const c = r.c;
    c.pos = r.start;
    const code = inRange(c, c.integer('code'), 0xffff, 'code');
    const jt = inRange(c, c.integer('jt'), 0xff, 'jt');
    const jf = inRange(c, c.integer('jf'), 0xff, 'jf');
    const k = fitsU32(c, c.integer('k'), 'k');
    if (!c.atEnd()) c.fail('unexpected text after k');
    out.push({ code, jt, jf, k });
  }
  if (count.value !== out.length) {
    throw new CbpfParseError(`count says ${count.value} instructions but ${out.length} follow`, head.c.line, count.at + 1);
  }
  return out;
}

/** `-dd`: `{ 0x28, 0, 0, 0x0000000c },` per instruction. */
export function parseDumpC(text: string): SockFilter[] {
  const out: SockFilter[] = [];
  for (const l of meaningfulLines(text)) {
    const c = new LineCursor(l.text, l.line);
    while (!c.atEnd()) {
      c.expect('{');
      const code = inRange(c, c.integer('code'), 0xffff, 'code');
      c.expect(',');
      const jt = inRange(c, c.integer('jt'), 0xff, 'jt');
      c.expect(',');
      const jf = inRange(c, c.integer('jf'), 0xff, 'jf');
      c.expect(',');
      const k = fitsU32(c, c.integer('k'), 'k');
      c.tryConsume(',');
      c.expect('}');
      c.tryConsume(',');
      out.push({ code, jt, jf, k });
    }
  }
  if (out.length === 0) throw new CbpfParseError('empty program listing', 1, 1);
  return out;
}

const ALU_OPS: Record<string, number> = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, mod: 0x90, xor: 0xa0,
};
const JMP_OPS: Record<string, number> = { jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 };
const LD_SIZE: Record<string, number> = { ld: 0x00, ldh: 0x08, ldb: 0x10 };

/** `-d`: `(000) ldh      [12]` per instruction; the `(NNN)` prefix is optional. */
export function parseDump(text: string): SockFilter[] {
  const out: SockFilter[] = [];
  for (const l of meaningfulLines(text)) {
    const c = new LineCursor(l.text, l.line);
    let n = out.length;
    if (c.tryConsume('(')) {
      const idx = c.integer('instruction number');
      if (idx.value !== out.length) c.fail(`instruction number ${idx.value}, expected ${out.length}`, idx.at);
      n = idx.value;
      c.expect(')');
    }
    out.push(parseInsn(c, n));
    if (!c.atEnd()) c.fail('unexpected text after the instruction');
  }
  if (out.length === 0) throw new CbpfParseError('empty program listing', 1, 1);
  return out;
}

function parseInsn(c: LineCursor, n: number): SockFilter {
  const opAt = (c.skipSpace(), c.pos);
  const op = c.word().toLowerCase();
  const insn = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });
  /** `#k` immediate. */
  const immediate = () => {
    c.expect('#');
    return fitsU32(c, c.integer('a constant'), 'constant');
  };
  const memIndex = () => {
    c.expect('M');
    c.expect('[');
    const k = fitsU32(c, c.integer('a scratch memory index'), 'index');
    c.expect(']');
    return k;
  };
  const target = (what: string) => {
    const t = c.integer(`${what} target`);
    const rel = t.value - n - 1;
    return { rel, at: t.at };
  };
  if (Object.hasOwn(LD_SIZE, op) || op === 'ldx') {
    const cls = op === 'ldx' ? 0x01 : 0x00;
    const size = op === 'ldx' ? 0 : LD_SIZE[op];
    const p = c.peek();
    if (p === '#') {
      c.expect('#');
      const save = c.pos;
      if (/^[A-Za-z]/.test(c.text.slice(c.pos))) {
        const w = c.word();
        if (w === 'pktlen' || w === 'len') return insn(cls | 0x80);
        // bpf_asm writes ancillary loads as `ld #proto`.
        const k = cls === 0x00 ? ancillaryK(w) : undefined;
        if (k === undefined) c.fail(`unknown '#${w}'`, save);
        return insn(0x20 | size, k);
      }
      if (size !== 0) c.fail(`${op} takes no immediate operand`, save - 1);
      c.pos = save - 1;
      return insn(cls | 0x00, immediate());
    }
    if (p === 'M') return insn(cls | 0x60, memIndex());
    // `ldx 4*([14]&0xf)` is bpf_asm's spelling of libpcap's ldxb.
    if (p === '4' && cls === 0x01) return insn(0xb1, msh(c));
    if (p === '[' && cls === 0x00) {
      c.expect('[');
      if (/^\s*x\s*[+\]]/.test(c.text.slice(c.pos))) {
        c.expect('x');
        const k = c.tryConsume('+') ? fitsU32(c, c.integer('an offset'), 'offset') : 0;
        c.expect(']');
        return insn(0x40 | size, k);
      }
      if (/[A-Za-z_]/.test(c.peek())) {
        const at = c.pos;
        const name = c.word();
        const k = ancillaryK(name);
        if (k === undefined) c.fail(`unknown ancillary load '${name}'`, at);
        c.expect(']');
        return insn(0x20 | size, k);
      }
      const k = fitsU32(c, c.integer('an offset'), 'offset');
      c.expect(']');
      return insn(0x20 | size, k);
    }
    c.fail(`bad operand for ${op}`);
  }
  switch (op) {
    case 'ldxb': return insn(0xb1, msh(c));
    case 'st': return insn(0x02, memIndex());
    case 'stx': return insn(0x03, memIndex());
    case 'ret':
      if (c.peek() === '#') return insn(0x06, immediate());
      if (!c.atEnd()) {
        const at = c.pos;
        if (c.word().toLowerCase() !== 'a') c.fail(`bad operand for ret`, at);
      }
      return insn(0x16);
    case 'tax': return insn(0x07);
    case 'txa': return insn(0x87);
    case 'neg': return insn(0x84);
    case 'ja': {
      const t = target('jump');
      // libpcap's protochain code jumps backwards (k wraps around); the kernel refuses it, the listing may hold it.
      if (t.rel < -0x80000000 || t.rel > 0xffffffff) c.fail('jump target out of range', t.at);
      return insn(0x05, t.rel >>> 0);
    }
    case 'unimp': {
      const code = inRange(c, c.integer('an opcode'), 0xffff, 'opcode');
      if ((code & 0x07) === 0x05 && (code & 0xf0) !== 0 && c.peek() === 'j') {
        const [jt, jf] = jumpTargets(c, n);
        return insn(code, 0, jt, jf);
      }
      return insn(code);
    }
  }
  /** The operand `x` (the index register). */
  const indexRegister = () => {
    if (c.peek() !== 'x' && c.peek() !== 'X') return false;
    const at = c.pos;
    if (c.word().toLowerCase() !== 'x') c.fail('expected x or #constant', at);
    return true;
  };
  if (Object.hasOwn(ALU_OPS, op)) {
    if (indexRegister()) return insn(0x04 | ALU_OPS[op] | 0x08);
    return insn(0x04 | ALU_OPS[op], immediate());
  }
  if (Object.hasOwn(JMP_OPS, op)) {
    let code = 0x05 | JMP_OPS[op];
    let k = 0;
    if (indexRegister()) {
      code |= 0x08;
    } else {
      k = immediate();
    }
    const [jt, jf] = jumpTargets(c, n);
    return insn(code, k, jt, jf);
  }
  return c.fail(`unknown instruction '${op}'`, opAt);
}

/** The operand `4*([k]&0xf)`. */
function msh(c: LineCursor): number {
  c.expect('4');
  c.expect('*');
  c.expect('(');
  c.expect('[');
  const k = fitsU32(c, c.integer('an offset'), 'offset');
  c.expect(']');
  c.expect('&');
  c.expect('0xf');
  c.expect(')');
  return k;
}

function jumpTargets(c: LineCursor, n: number): [number, number] {
  const one = (label: string) => {
    c.expect(label);
    const t = c.integer(`${label} target`);
    const rel = t.value - n - 1;
    if (rel < 0 || rel > 0xff) c.fail(`${label} target ${t.value} must be 1 to 256 instructions after ${n}`, t.at);
    return rel;
  };
  return [one('jt'), one('jf')];
}
