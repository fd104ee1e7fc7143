/**
 * The ubpf style: the mnemonic syntax of uBPF and of the bpf_conformance
 * suite's `-- asm` sections (`mov %r0, 0x1`, `ldxh %r0, [%r1+2]`,
 * `jeq %r1, 0x3, +2`, `lock fetch add [%r10-8], %r1`). Immediates print as
 * that suite's disassembler prints them: small and negative values in
 * decimal, others in hex.
 *
 * Instructions the suite has no words for use these bpfkit extensions:
 * `ldabsw 0x4`, `ldindh %r1, 0x4`, `lddw %r1, map_fd(0x3)` (and the other
 * Linux 64-bit load kinds), `call runtime 12` (kfunc; `, N` adds the module
 * index), `may_goto +1`, `lock load_acquire32 %r0, [%r1]`,
 * `lock store_release [%r1], %r2`.
 */
import { isReg, type Insn, type Size } from '../isa/index.js';
import { plusDec, targetLabel, type FormatContext } from './style.js';

const SUFFIX: Record<Size, string> = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' };
/** Width suffix of lock operations: 64-bit has none. */
const LOCK_WIDTH: Record<Size, string> = { 1: '8', 2: '16', 4: '32', 8: '' };

/** The bpf_conformance disassembler's immediate format. */
export function ubpfImm(imm: number): string {
  if ((imm < 0 && imm !== -0x80000000) || (imm >= -10 && imm <= 10)) return `${imm}`;
  return `0x${(imm >>> 0).toString(16)}`;
}

function imm64(v: bigint): string {
  const u = BigInt.asUintN(64, v);
  return u <= 10n ? `${u}` : `0x${u.toString(16)}`;
}

const reg = (r: number): string => `%r${r}`;
const mem = (r: number, off: number): string => (off === 0 ? `[%r${r}]` : `[%r${r}${plusDec(off)}]`);
const w32 = (width: 32 | 64): string => (width === 32 ? '32' : '');

function target(off: number, ctx: FormatContext | undefined): string {
  return targetLabel(ctx, off) ?? plusDec(off);
}

export function formatUbpf(insn: Insn, ctx?: FormatContext): string {
  switch (insn.kind) {
    case 'alu':
      return `${insn.op}${w32(insn.width)} ${reg(insn.dst)}, ${isReg(insn.src) ? reg(insn.src) : ubpfImm(insn.src.imm)}`;
    case 'neg':
      return `neg${w32(insn.width)} ${reg(insn.dst)}`;
    case 'movsx':
      return `movsx${insn.bits}${insn.width} ${reg(insn.dst)}, ${reg(insn.src)}`;
    case 'endian':
      return `${insn.order}${insn.bits} ${reg(insn.dst)}`;
    case 'lddw':
      return insn.pseudo === 'imm'
        ? `lddw ${reg(insn.dst)}, ${imm64(insn.imm)}`
        : `lddw ${reg(insn.dst)}, ${insn.pseudo}(0x${BigInt.asUintN(64, insn.imm).toString(16)})`;
    case 'ldabs':
      return `ldabs${SUFFIX[insn.size]} ${ubpfImm(insn.imm)}`;
    case 'ldind':
      return `ldind${SUFFIX[insn.size]} ${reg(insn.src)}, ${ubpfImm(insn.imm)}`;
    case 'ldx':
      return `ldx${insn.signExtend ? 's' : ''}${SUFFIX[insn.size]} ${reg(insn.dst)}, ${mem(insn.src, insn.off)}`;
    case 'st':
      return `st${SUFFIX[insn.size]} ${mem(insn.dst, insn.off)}, ${ubpfImm(insn.imm)}`;
    case 'stx':
      return `stx${SUFFIX[insn.size]} ${mem(insn.dst, insn.off)}, ${reg(insn.src)}`;
    case 'atomic': {
      const w = LOCK_WIDTH[insn.size];
      switch (insn.op) {
        case 'load_acquire':
          return `lock load_acquire${w} ${reg(insn.dst)}, ${mem(insn.src, insn.off)}`;
        case 'store_release':
          return `lock store_release${w} ${mem(insn.dst, insn.off)}, ${reg(insn.src)}`;
        case 'xchg': case 'cmpxchg':
          return `lock ${insn.op}${w} ${mem(insn.dst, insn.off)}, ${reg(insn.src)}`;
        default:
          return `lock ${insn.fetch ? 'fetch ' : ''}${insn.op}${w} ${mem(insn.dst, insn.off)}, ${reg(insn.src)}`;
      }
    }
    case 'jmp':
      return `${insn.cond}${w32(insn.width)} ${reg(insn.dst)}, ${isReg(insn.src) ? reg(insn.src) : ubpfImm(insn.src.imm)}, ${target(insn.off, ctx)}`;
    case 'ja':
      return `${insn.long ? 'ja32' : 'ja'} ${target(insn.off, ctx)}`;
    case 'may_goto':
      return `may_goto ${target(insn.off, ctx)}`;
    case 'call':
      return `call ${ubpfImm(insn.helper)}`;
    case 'call_local':
      return `call local ${target(insn.off, ctx)}`;
    case 'call_kfunc':
      return insn.module === 0 ? `call runtime ${ubpfImm(insn.btfId)}` : `call runtime ${ubpfImm(insn.btfId)}, ${insn.module}`;
    case 'callx':
      return `callx ${reg(insn.dst)}`;
    case 'exit':
      return 'exit';
  }
}
