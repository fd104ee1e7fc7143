/**
 * Parser for the C-like syntax shared by llvm (`r1 = *(u64 *)(r1 + 0x70)`,
 * `if r1 > 0x5 goto +0x3`) and the kernel's verifier log (`r1 += -8`,
 * `if r0 == 0x0 goto pc+1`, `call bpf_map_lookup_elem#1`, `(r1 +8)`).
 */
import type { AluOp, AtomicOp, JmpCond, LddwPseudo, Reg, Size, Source } from '../isa/index.js';
import { Cursor, type RegTok } from './cursor.js';
import { LLVM_ALU_OPS, LLVM_JMP_OPS } from './format-llvm.js';
import { HELPER_NAMES } from './helper-names.js';
import { LDDW_PSEUDO_BY_NUMBER } from './pseudo.js';
import { withTarget, type Parsed } from './parsed.js';

const ALU_BY_OP = new Map<string, AluOp>(Object.entries(LLVM_ALU_OPS).map(([k, v]) => [v, k as AluOp]));
const JMP_BY_OP = new Map<string, JmpCond>(Object.entries(LLVM_JMP_OPS).map(([k, v]) => [v, k as JmpCond]));
const HELPER_BY_NAME = new Map(HELPER_NAMES.map((n, i) => [n, i]));
const SIZES: Record<string, { size: Size; signed: boolean }> = {
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false }, u32: { size: 4, signed: false }, u64: { size: 8, signed: false },
  s8: { size: 1, signed: true }, s16: { size: 2, signed: true }, s32: { size: 4, signed: true },
};
const LOCK_OPS: Record<string, AtomicOp> = { '+=': 'add', '|=': 'or', '&=': 'and', '^=': 'xor' };

/** Opcode hints from a kernel log's `(xx)` column that the text alone cannot tell. */
const OPCODE_LDDW = 0x18;

export function parseLlvmLine(c: Cursor, opcodeHint?: number): Parsed {
  const first = c.peek();
  if (!first) c.fail('expected an instruction');
  if (first.type === 'id') {
    switch (first.text) {
      case 'exit':
        c.pos++;
        c.end();
        return { insn: { kind: 'exit' } };
      case 'goto':
      case 'gotol': {
        c.pos++;
        const t = c.target(first.text === 'gotol');
        c.end();
        return withTarget((off) => ({ kind: 'ja', long: first.text === 'gotol', off }), t);
      }
      case 'may_goto': {
        c.pos++;
        const t = c.target();
        c.end();
        return withTarget((off) => ({ kind: 'may_goto', off }), t);
      }
      case 'if':
        c.pos++;
        return parseIf(c);
      case 'call':
        c.pos++;
        return parseCall(c, opcodeHint);
      case 'callx': {
        c.pos++;
        const dst = c.reg64();
        c.end();
        return { insn: { kind: 'callx', dst } };
      }
      case 'lock':
        c.pos++;
        return parseLock(c);
      case 'ld_pseudo':
        c.pos++;
        return parseLdPseudo(c);
      case 'store_release':
        c.pos++;
        return parseStoreRelease(c);
    }
    if (c.isRegAhead()) return parseAssign(c, opcodeHint);
    c.fail(`unknown instruction '${first.text}'`, first.col);
  }
  if (first.text === '*') return parseStore(c);
  return c.fail(`unexpected '${first.text}'`, first.col);
}

/** `*(u64 *)(r1 + 0x8)` or `(u64 *)(r1 + 0x8)` (after the leading `*`): size and address. */
function parseMemRef(c: Cursor, deref: boolean): { size: Size; signed: boolean; base: Reg; off: number } {
  if (deref) c.expect('*');
  c.expect('(');
  const st = c.next('a size (u8, u16, u32, u64)');
  const sz = SIZES[st.text];
  if (!sz) c.fail(`unknown access size '${st.text}'`, st.col);
  c.expect('*');
  c.expect(')');
  const { base, off } = parseAddr(c, true);
  return { ...sz, base, off };
}

/** `(r1 + 0x8)`, `(r1 -8)`, `(r1 + -8)`, `(r1)`; without parentheses for xchg and cmpxchg. */
function parseAddr(c: Cursor, parens: boolean): { base: Reg; off: number } {
  if (parens) c.expect('(');
  const base = c.reg64();
  let off = 0;
  if (c.peek()?.text === '+' || c.peek()?.text === '-') {
    const neg = c.next('+ or -').text === '-';
    const col = c.col();
    const v = c.signed('an offset');
    const value = neg ? -v.value : v.value;
    if (value < -0x8000n || value > 0x7fffn) c.fail(`offset ${value} does not fit in 16 signed bits`, col);
    off = Number(value);
  }
  if (parens) c.expect(')');
  return { base, off };
}

function source(c: Cursor, dst: RegTok): Source {
  if (c.isRegAhead()) {
    const r = c.reg();
    if (r.sub !== dst.sub) c.fail(`register '${r.sub ? 'w' : 'r'}${r.reg}' does not match the width of '${dst.sub ? 'w' : 'r'}${dst.reg}'`, r.col);
    return r.reg;
  }
  return { imm: c.imm32() };
}

function parseIf(c: Cursor): Parsed {
  const dst = c.reg();
  const opTok = c.next('a comparison');
  const cond = JMP_BY_OP.get(opTok.text);
  if (!cond) c.fail(`unknown comparison '${opTok.text}'`, opTok.col);
  const src = source(c, dst);
  c.expect('goto');
  const t = c.target();
  c.end();
  return withTarget((off) => ({ kind: 'jmp', width: dst.sub ? 32 : 64, cond, dst: dst.reg, src, off }), t);
}

function parseCall(c: Cursor, opcodeHint: number | undefined): Parsed {
  const t = c.peek();
  if (!t) c.fail('expected a helper id or a function');
  if (t.type === 'id' && t.text === 'pc') {
    const target = c.target(true);
    c.end();
    return withTarget((off) => ({ kind: 'call_local', off }), target);
  }
  if (t.type === 'id') {
    c.pos++;
    let name = t.text;
    if (name === 'kernel' && c.peek()?.text === '-' && c.peek(1)?.text === 'function') {
      c.pos += 2;
      name = 'kernel-function';
    }
    // Kernel log: `name#id`; the id is what counts.
    if (c.accept('#')) {
      const id = c.imm32('a helper id');
      c.end();
      if (opcodeHint === 0x8d) c.fail('the kernel log does not show the register of callx; write `callx rN`', t.col);
      if (name === 'kernel-function') return { insn: { kind: 'call_kfunc', btfId: id, module: 0 } };
      return { insn: { kind: 'call', helper: id } };
    }
    c.end();
    const helper = HELPER_BY_NAME.get(t.text);
    // A name is a local function (label) unless it is a helper's name.
    if (helper !== undefined) return { insn: { kind: 'call', helper } };
    return { insn: { kind: 'call_local', off: 0 }, label: { name: t.text, col: t.col } };
  }
  const helper = c.imm32('a helper id');
  c.end();
  return { insn: { kind: 'call', helper } };
}

function parseLock(c: Cursor): Parsed {
  const m = parseMemRef(c, true);
  if (m.signed) c.fail('atomic operations take unsigned sizes');
  const opTok = c.next('an atomic operator');
  const op = LOCK_OPS[opTok.text];
  if (!op) c.fail(`unknown atomic operator '${opTok.text}'`, opTok.col);
  const src = c.reg();
  c.end();
  return { insn: { kind: 'atomic', size: m.size, op, fetch: false, dst: m.base, src: src.reg, off: m.off } };
}

function parseLdPseudo(c: Cursor): Parsed {
  const dst = c.reg64();
  c.expect(',');
  const kindTok = c.peek();
  const kind = c.imm32('a 64-bit load kind');
  const pseudo: LddwPseudo | undefined = LDDW_PSEUDO_BY_NUMBER.get(kind);
  if (pseudo === undefined) c.fail(`unknown 64-bit load kind ${kind}`, kindTok?.col);
  c.expect(',');
  const imm = c.imm64();
  c.end();
  return { insn: { kind: 'lddw', dst, pseudo, imm } };
}

function parseStoreRelease(c: Cursor): Parsed {
  c.expect('(');
  const m = parseMemRef(c, false);
  c.expect(',');
  const src = c.reg();
  c.expect(')');
  c.end();
  return { insn: { kind: 'atomic', size: m.size, op: 'store_release', fetch: false, dst: m.base, src: src.reg, off: m.off } };
}

/** `*(u32 *)(r10 - 0x8) = w1` or `= 5`. */
function parseStore(c: Cursor): Parsed {
  const m = parseMemRef(c, true);
  if (m.signed) c.fail('stores take unsigned sizes');
  c.expect('=');
  if (c.isRegAhead()) {
    const src = c.reg();
    if (src.sub && m.size === 8) c.fail(`a 64-bit store needs a 64-bit register, found 'w${src.reg}'`, src.col);
    c.end();
    return { insn: { kind: 'stx', size: m.size, dst: m.base, src: src.reg, off: m.off } };
  }
  const imm = c.imm32();
  c.end();
  return { insn: { kind: 'st', size: m.size, dst: m.base, off: m.off, imm } };
}

/** Everything that starts with a register: `r1 = ...`, `r1 += ...`. */
function parseAssign(c: Cursor, opcodeHint: number | undefined): Parsed {
  const dst = c.reg();
  const opTok = c.next('an operator');
  const width = dst.sub ? 32 : 64;
  if (opTok.text !== '=') {
    const op = ALU_BY_OP.get(opTok.text);
    if (!op) c.fail(`unknown operator '${opTok.text}'`, opTok.col);
    const src = source(c, dst);
    c.end();
    return { insn: { kind: 'alu', width, op, dst: dst.reg, src } };
  }
  const t = c.peek();
  if (!t) c.fail('expected a value after =');
  // r1 = -r1 (a negative number is an immediate)
  if (t.text === '-' && c.isRegAhead(1)) {
    c.pos++;
    const r = c.reg();
    if (r.reg !== dst.reg || r.sub !== dst.sub) c.fail(`negation is in place: write '${dst.sub ? 'w' : 'r'}${dst.reg} = -${dst.sub ? 'w' : 'r'}${dst.reg}'`, r.col);
    c.end();
    return { insn: { kind: 'neg', width, dst: dst.reg } };
  }
  // r1 = (s8)r2
  if (t.text === '(' && /^s(8|16|32)$/.test(c.peek(1)?.text ?? '')) {
    c.pos++;
    const bits = Number(c.next('a width').text.slice(1)) as 8 | 16 | 32;
    c.expect(')');
    const src = c.reg();
    if (src.sub !== dst.sub) c.fail('source and destination widths differ', src.col);
    c.end();
    return { insn: { kind: 'movsx', width, bits, dst: dst.reg, src: src.reg } };
  }
  // loads: r0 = *(u32 *)(r1 + 0x4), r0 = *(u16 *)skb[...]
  if (t.text === '*') return parseLoad(c, dst);
  if (t.type === 'id' && !c.isRegAhead()) return parseNamedValue(c, dst);
  if (c.isRegAhead()) {
    const src = c.reg();
    if (src.sub !== dst.sub) c.fail(`register '${src.sub ? 'w' : 'r'}${src.reg}' does not match the width of '${dst.sub ? 'w' : 'r'}${dst.reg}'`, src.col);
    c.end();
    return { insn: { kind: 'alu', width, op: 'mov', dst: dst.reg, src: src.reg } };
  }
  // An immediate: `ll` (or the kernel's (18) opcode, or a value wider than 32 bits) makes it a 64-bit load.
  const { value, col } = c.signed('a value');
  const ll = c.accept('ll');
  c.end();
  const fits32 = value >= -0x80000000n && value <= 0xffffffffn;
  if (ll || opcodeHint === OPCODE_LDDW || !fits32) {
    if (dst.sub) c.fail('a 64-bit load needs a 64-bit register', dst.col);
    if (value < -(1n << 63n) || value >= 1n << 64n) c.fail(`immediate ${value} does not fit in 64 bits`, col);
    return { insn: { kind: 'lddw', dst: dst.reg, pseudo: 'imm', imm: BigInt.asUintN(64, value) } };
  }
  return { insn: { kind: 'alu', width, op: 'mov', dst: dst.reg, src: { imm: Number(BigInt.asIntN(32, value)) } } };
}

function sameReg(c: Cursor, dst: RegTok, r: RegTok): void {
  if (r.reg !== dst.reg || r.sub !== dst.sub) c.fail(`expected '${dst.sub ? 'w' : 'r'}${dst.reg}' again`, r.col);
}

function parseLoad(c: Cursor, dst: RegTok): Parsed {
  c.expect('*');
  c.expect('(');
  const st = c.next('a size');
  const sz = SIZES[st.text];
  if (!sz) c.fail(`unknown access size '${st.text}'`, st.col);
  c.expect('*');
  c.expect(')');
  if (c.accept('skb')) {
    if (dst.reg !== 0 || dst.sub) c.fail('legacy packet loads always write r0', dst.col);
    if (sz.signed) c.fail('legacy packet loads take unsigned sizes', st.col);
    c.expect('[');
    if (c.isRegAhead()) {
      const src = c.reg64();
      let imm = 0;
      if (c.peek()?.text === '+' || c.peek()?.text === '-') {
        const neg = c.next('+').text === '-';
        const v = c.imm32();
        imm = neg ? -v | 0 : v;
      }
      c.expect(']');
      c.end();
      return { insn: { kind: 'ldind', size: sz.size, src, imm } };
    }
    const imm = c.imm32();
    c.expect(']');
    c.end();
    return { insn: { kind: 'ldabs', size: sz.size, imm } };
  }
  const { base, off } = parseAddr(c, true);
  c.end();
  if (dst.sub && (sz.signed || sz.size === 8)) c.fail(`'w${dst.reg}' cannot hold a ${st.text} load`, dst.col);
  return { insn: { kind: 'ldx', size: sz.size, signExtend: sz.signed, dst: dst.reg, src: base, off } };
}

/** `r1 = be16 r1`, `r1 = atomic_fetch_add(...)`, `r0 = cmpxchg_64(...)`, `r0 = load_acquire(...)`. */
function parseNamedValue(c: Cursor, dst: RegTok): Parsed {
  const nameTok = c.next('a value');
  const name = nameTok.text;
  const endian = /^(be|le|bswap)(16|32|64)$/.exec(name);
  if (endian) {
    const r = c.reg();
    sameReg(c, { ...dst, sub: false }, r);
    c.end();
    const order = endian[1] === 'bswap' ? 'swap' : (endian[1] as 'be' | 'le');
    return { insn: { kind: 'endian', order, bits: Number(endian[2]) as 16 | 32 | 64, dst: dst.reg } };
  }
  // llvm: atomic_fetch_add; kernel: atomic64_fetch_add / atomic_fetch_add.
  const fetch = /^atomic(64)?_fetch_(add|or|and|xor)$/.exec(name);
  if (fetch) {
    c.expect('(');
    const m = parseMemRef(c, false);
    c.expect(',');
    const src = c.reg();
    c.expect(')');
    c.end();
    sameReg(c, dst, src);
    return { insn: { kind: 'atomic', size: m.size, op: fetch[2] as AtomicOp, fetch: true, dst: m.base, src: src.reg, off: m.off } };
  }
  if (name === 'xchg_64' || name === 'xchg32_32') {
    c.expect('(');
    const { base, off } = parseAddr(c, false);
    c.expect(',');
    const src = c.reg();
    c.expect(')');
    c.end();
    sameReg(c, dst, src);
    return { insn: { kind: 'atomic', size: name === 'xchg_64' ? 8 : 4, op: 'xchg', fetch: true, dst: base, src: src.reg, off } };
  }
  if (name === 'cmpxchg_64' || name === 'cmpxchg32_32') {
    c.expect('(');
    const { base, off } = parseAddr(c, false);
    c.expect(',');
    const r0 = c.reg();
    if (r0.reg !== 0 || dst.reg !== 0) c.fail('cmpxchg compares with r0 and writes r0', r0.col);
    c.expect(',');
    const src = c.reg();
    c.expect(')');
    c.end();
    return { insn: { kind: 'atomic', size: name === 'cmpxchg_64' ? 8 : 4, op: 'cmpxchg', fetch: true, dst: base, src: src.reg, off } };
  }
  // kernel: atomic64_xchg((u64 *)(r1 +0), r2), atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)
  const kx = /^atomic(64)?_(xchg|cmpxchg)$/.exec(name);
  if (kx) {
    c.expect('(');
    const m = parseMemRef(c, false);
    c.expect(',');
    if (kx[2] === 'cmpxchg') {
      const r0 = c.reg();
      if (r0.reg !== 0 || dst.reg !== 0) c.fail('cmpxchg compares with r0 and writes r0', r0.col);
      c.expect(',');
    }
    const src = c.reg();
    c.expect(')');
    c.end();
    if (kx[2] === 'xchg') sameReg(c, dst, src);
    return { insn: { kind: 'atomic', size: m.size, op: kx[2] as AtomicOp, fetch: true, dst: m.base, src: src.reg, off: m.off } };
  }
  if (name === 'load_acquire') {
    c.expect('(');
    const m = parseMemRef(c, false);
    c.expect(')');
    c.end();
    return { insn: { kind: 'atomic', size: m.size, op: 'load_acquire', fetch: false, dst: dst.reg, src: m.base, off: m.off } };
  }
  return c.fail(`unknown value '${name}'`, nameTok.col);
}

