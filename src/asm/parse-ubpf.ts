/**
 * Parser for the uBPF / bpf_conformance mnemonic syntax (`mov32 %r0, 1`,
 * `ldxdw %r0, [%r10-8]`, `jne %r0, %r1, exit`, `lock fetch add32 [%r10-4], %r1`)
 * plus the extensions format-ubpf.ts documents.
 */
import type { AluOp, AtomicOp, Insn, JmpCond, LddwPseudo, Reg, Size } from '../isa/index.js';
import { LDDW_SRC } from '../isa/index.js';
import type { Cursor } from './cursor.js';
import { withTarget, type Parsed } from './parsed.js';

const ALU_OPS = new Set<AluOp>(['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh']);
const JMP_OPS = new Set<JmpCond>(['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle']);
const SIZE_SUFFIX: Record<string, Size> = { b: 1, h: 2, w: 4, dw: 8 };
const LOCK_SIZE: Record<string, Size> = { '': 8, '64': 8, '32': 4, '16': 2, '8': 1 };
const PSEUDOS = new Set(Object.keys(LDDW_SRC));

/** Every mnemonic this parser knows (used to recognise the syntax). */
export function isUbpfMnemonic(word: string): boolean {
  const w = word.toLowerCase();
  if (/^(neg|exit|lddw|ja|ja32|call|callx|lock|may_goto)$/.test(w) || /^neg(32|64)$/.test(w)) return true;
  if (/^(le|be|swap|bswap)(16|32|64)$/.test(w) || /^movsx(8|16|32)(32|64)$/.test(w)) return true;
  if (/^(ldx|ldxs|st|stx|ldabs|ldind)(b|h|w|dw)$/.test(w)) return true;
  const base = w.replace(/(32|64)$/, '');
  return ALU_OPS.has(base as AluOp) || JMP_OPS.has(base as JmpCond);
}

/** `[%r1+2]`, `[%r10-8]`, `[%r1]`. */
function memOperand(c: Cursor): { reg: Reg; off: number } {
  c.expect('[');
  const reg = c.reg64();
  let off = 0;
  if (c.peek()?.text === '+' || c.peek()?.text === '-') off = c.off16();
  c.expect(']');
  return { reg, off };
}

export function parseUbpfLine(c: Cursor): Parsed {
  const mTok = c.next('a mnemonic');
  if (mTok.type !== 'id') c.fail(`expected a mnemonic, found '${mTok.text}'`, mTok.col);
  const m = mTok.text.toLowerCase();
  const done = (insn: Insn): Parsed => {
    c.end();
    return { insn };
  };
  const comma = (): void => void c.expect(',');
  let g: RegExpExecArray | null;

  if (m === 'exit') return done({ kind: 'exit' });
  if (m === 'ja' || m === 'ja32') {
    const t = c.target(m === 'ja32');
    c.end();
    return withTarget((off) => ({ kind: 'ja', long: m === 'ja32', off }), t);
  }
  if (m === 'may_goto') {
    const t = c.target();
    c.end();
    return withTarget((off) => ({ kind: 'may_goto', off }), t);
  }
  if (m === 'callx') return done({ kind: 'callx', dst: c.reg64() });
  if (m === 'call') return parseCall(c);
  if (m === 'lock') return parseLock(c);
  if (m === 'lddw') {
    const dst = c.reg64();
    comma();
    const t = c.peek();
    if (t && t.type === 'id' && PSEUDOS.has(t.text) && c.peek(1)?.text === '(') {
      c.pos += 2;
      const imm = c.imm64();
      c.expect(')');
      return done({ kind: 'lddw', dst, pseudo: t.text as LddwPseudo, imm });
    }
    if (t && t.type === 'id') c.fail(`unknown 64-bit load kind '${t.text}'`, t.col);
    return done({ kind: 'lddw', dst, pseudo: 'imm', imm: c.imm64() });
  }
  if ((g = /^(le|be|swap|bswap)(16|32|64)$/.exec(m))) {
    const order = g[1] === 'le' || g[1] === 'be' ? g[1] : 'swap';
    return done({ kind: 'endian', order, bits: Number(g[2]) as 16 | 32 | 64, dst: c.reg64() });
  }
  if ((g = /^neg(32|64)?$/.exec(m))) return done({ kind: 'neg', width: g[1] === '32' ? 32 : 64, dst: c.reg64() });
  if ((g = /^movsx(8|16|32)(32|64)$/.exec(m))) {
    const dst = c.reg64();
    comma();
    const src = c.reg64();
    return done({ kind: 'movsx', width: g[2] === '32' ? 32 : 64, bits: Number(g[1]) as 8 | 16 | 32, dst, src });
  }
  if ((g = /^ldx(s?)(b|h|w|dw)$/.exec(m))) {
    const dst = c.reg64();
    comma();
    const a = memOperand(c);
    return done({ kind: 'ldx', size: SIZE_SUFFIX[g[2]], signExtend: g[1] === 's', dst, src: a.reg, off: a.off });
  }
  if ((g = /^st(x?)(b|h|w|dw)$/.exec(m))) {
    const a = memOperand(c);
    comma();
    if (g[1] === 'x') return done({ kind: 'stx', size: SIZE_SUFFIX[g[2]], dst: a.reg, src: c.reg64(), off: a.off });
    return done({ kind: 'st', size: SIZE_SUFFIX[g[2]], dst: a.reg, off: a.off, imm: c.imm32() });
  }
  if ((g = /^ldabs(b|h|w|dw)$/.exec(m))) return done({ kind: 'ldabs', size: SIZE_SUFFIX[g[1]], imm: c.imm32() });
  if ((g = /^ldind(b|h|w|dw)$/.exec(m))) {
    const src = c.reg64();
    comma();
    return done({ kind: 'ldind', size: SIZE_SUFFIX[g[1]], src, imm: c.imm32() });
  }
  g = /^([a-z]+?)(32|64)?$/.exec(m);
  const base = g?.[1] ?? '';
  const width = g?.[2] === '32' ? 32 : 64;
  if (ALU_OPS.has(base as AluOp)) {
    const dst = c.reg64();
    comma();
    if (c.isRegAhead()) return done({ kind: 'alu', width, op: base as AluOp, dst, src: c.reg64() });
    return done({ kind: 'alu', width, op: base as AluOp, dst, src: { imm: c.imm32() } });
  }
  if (JMP_OPS.has(base as JmpCond)) {
    const dst = c.reg64();
    comma();
    const src = c.isRegAhead() ? c.reg64() : { imm: c.imm32() };
    comma();
    const t = c.target();
    c.end();
    return withTarget((off) => ({ kind: 'jmp', width, cond: base as JmpCond, dst, src, off }), t);
  }
  return c.fail(`unknown mnemonic '${mTok.text}'`, mTok.col);
}

/** `call 5`, `call helper 5`, `call local f`, `call runtime 12[, module]`, `call %r2`. */
function parseCall(c: Cursor): Parsed {
  if (c.isRegAhead()) {
    const dst = c.reg64();
    c.end();
    return { insn: { kind: 'callx', dst } };
  }
  if (c.accept('local')) {
    const t = c.target(true);
    c.end();
    return withTarget((off) => ({ kind: 'call_local', off }), t);
  }
  if (c.accept('runtime')) {
    const btfId = c.imm32('a function id');
    let module = 0;
    if (c.accept(',')) module = c.off16('a module index');
    c.end();
    return { insn: { kind: 'call_kfunc', btfId, module } };
  }
  c.accept('helper');
  if (c.isRegAhead()) {
    const dst = c.reg64();
    c.end();
    return { insn: { kind: 'callx', dst } };
  }
  const helper = c.imm32('a helper id');
  c.end();
  return { insn: { kind: 'call', helper } };
}

/** `lock [fetch] op[32] [%r10-8], %r1`, `lock load_acquire32 %r0, [%r1]`, `lock store_release [%r1], %r2`. */
function parseLock(c: Cursor): Parsed {
  const fetchTok = c.peek();
  const fetch = c.accept('fetch');
  const opTok = c.next('an atomic operation');
  const g = opTok.type === 'id' ? /^(add|or|and|xor|xchg|cmpxchg|load_acquire|store_release)(64|32|16|8)?$/.exec(opTok.text.toLowerCase()) : null;
  if (!g) c.fail(`unknown atomic operation '${opTok.text}'`, opTok.col);
  const op = g[1] as AtomicOp;
  const size = LOCK_SIZE[g[2] ?? ''];
  if (fetch && (op === 'xchg' || op === 'cmpxchg' || op === 'load_acquire' || op === 'store_release')) {
    c.fail(`'fetch' does not apply to ${op}`, fetchTok?.col);
  }
  if (op === 'load_acquire') {
    const dst = c.reg64();
    c.expect(',');
    const a = memOperand(c);
    c.end();
    return { insn: { kind: 'atomic', size, op, fetch: false, dst, src: a.reg, off: a.off } };
  }
  if (op !== 'store_release' && size !== 4 && size !== 8) c.fail(`atomic ${op} takes 32 or 64 bits`, opTok.col);
  const a = memOperand(c);
  c.expect(',');
  const src = c.reg64();
  c.end();
  const alwaysFetch = op === 'xchg' || op === 'cmpxchg';
  return { insn: { kind: 'atomic', size, op, fetch: fetch || alwaysFetch, dst: a.reg, src, off: a.off } };
}
