/**
 * The llvm style: the instruction text `llvm-objdump-19 -d --mcpu=v4` prints
 * (checked against it by test/asm/llvm.test.ts), which `llvm-mc -triple bpfel`
 * also assembles. `alu32: false` gives plain `llvm-objdump -d` (no subregisters).
 *
 * Where objdump loses information we print more, so bpfkit can assemble the
 * text back: the high half of a pseudo 64-bit load (`ld_pseudo r1, 0x2,
 * 0x1000000003`), the immediate of an indirect packet load (`skb[r1 + 0x4]`),
 * and the 32-bit fetch atomics, xchg and cmpxchg without alu32 (objdump prints
 * `<unknown>`). Helper, local and kfunc calls all print as `call N`, as
 * objdump does; give `FormatContext.label` to name local call targets.
 * load_acquire/store_release use LLVM 20's syntax (LLVM 19 has none).
 */
import { isReg, type AluOp, type Insn, type JmpCond, type Size } from '../isa/index.js';
import { shex, targetLabel, uhex32, type FormatContext } from './style.js';
import { LDDW_PSEUDO_NUMBER } from './pseudo.js';

export const LLVM_ALU_OPS: Record<AluOp, string> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', or: '|=', and: '&=', lsh: '<<=',
  rsh: '>>=', mod: '%=', smod: 's%=', xor: '^=', mov: '=', arsh: 's>>=',
};

export const LLVM_JMP_OPS: Record<JmpCond, string> = {
  jeq: '==', jgt: '>', jge: '>=', jset: '&', jne: '!=', jsgt: 's>', jsge: 's>=',
  jlt: '<', jle: '<=', jslt: 's<', jsle: 's<=',
};

const U: Record<Size, string> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };
const S: Record<Size, string> = { 1: 's8', 2: 's16', 4: 's32', 8: 's64' };

const ATOMIC_LOCK: Record<string, string> = { add: '+=', or: '|=', and: '&=', xor: '^=' };

function mem(base: number, off: number): string {
  return off < 0 ? `(r${base} - 0x${(-off).toString(16)})` : `(r${base} + 0x${off.toString(16)})`;
}

/** The `r10 - 0x8` form of xchg and cmpxchg operands, without parentheses. */
function addr(base: number, off: number): string {
  return mem(base, off).slice(1, -1);
}

function target(off: number, ctx: FormatContext | undefined): string {
  return targetLabel(ctx, off) ?? (off < 0 ? `-0x${(-off).toString(16)}` : `+0x${off.toString(16)}`);
}

export function formatLlvm(insn: Insn, ctx?: FormatContext): string {
  const alu32 = ctx?.alu32 ?? true;
  // Narrow loads, stores and 32-bit atomics use w registers under alu32.
  const narrow = (size: Size, reg: number): string => (alu32 && size !== 8 ? `w${reg}` : `r${reg}`);
  switch (insn.kind) {
    case 'alu': {
      const p = insn.width === 64 ? 'r' : 'w';
      const src = isReg(insn.src) ? `${p}${insn.src}` : shex(insn.src.imm);
      return `${p}${insn.dst} ${LLVM_ALU_OPS[insn.op]} ${src}`;
    }
    case 'neg': {
      const p = insn.width === 64 ? 'r' : 'w';
      return `${p}${insn.dst} = -${p}${insn.dst}`;
    }
    case 'movsx': {
      const p = insn.width === 64 ? 'r' : 'w';
      return `${p}${insn.dst} = (s${insn.bits})${p}${insn.src}`;
    }
    case 'endian': {
      const name = insn.order === 'swap' ? 'bswap' : insn.order;
      return `r${insn.dst} = ${name}${insn.bits} r${insn.dst}`;
    }
    case 'lddw': {
      if (insn.pseudo === 'imm') return `r${insn.dst} = ${shex(BigInt.asIntN(64, insn.imm))} ll`;
      const v = BigInt.asUintN(64, insn.imm);
      // objdump prints only the low half; keep the high half when it is set.
      const value = v >> 32n === 0n ? uhex32(Number(v)) : `0x${v.toString(16)}`;
      return `ld_pseudo\tr${insn.dst}, ${shex(LDDW_PSEUDO_NUMBER[insn.pseudo])}, ${value}`;
    }
    case 'ldabs':
      return `r0 = *(${U[insn.size]} *)skb[${shex(insn.imm)}]`;
    case 'ldind':
      return insn.imm === 0
        ? `r0 = *(${U[insn.size]} *)skb[r${insn.src}]`
        : `r0 = *(${U[insn.size]} *)skb[r${insn.src} ${insn.imm < 0 ? '-' : '+'} 0x${Math.abs(insn.imm).toString(16)}]`;
    case 'ldx':
      if (insn.signExtend) return `r${insn.dst} = *(${S[insn.size]} *)${mem(insn.src, insn.off)}`;
      return `${narrow(insn.size, insn.dst)} = *(${U[insn.size]} *)${mem(insn.src, insn.off)}`;
    case 'st':
      return `*(${U[insn.size]} *)${mem(insn.dst, insn.off)} = ${shex(insn.imm)}`;
    case 'stx':
      return `*(${U[insn.size]} *)${mem(insn.dst, insn.off)} = ${narrow(insn.size, insn.src)}`;
    case 'atomic': {
      const m = mem(insn.dst, insn.off);
      // objdump without alu32 cannot print 32-bit fetch forms at all; w keeps them assemblable.
      const src = insn.size !== 8 && (insn.fetch || insn.op === 'store_release') ? `w${insn.src}` : narrow(insn.size, insn.src);
      switch (insn.op) {
        case 'add': case 'or': case 'and': case 'xor':
          return insn.fetch
            ? `${src} = atomic_fetch_${insn.op}((${U[insn.size]} *)${m}, ${src})`
            : `lock *(${U[insn.size]} *)${m} ${ATOMIC_LOCK[insn.op]} ${src}`;
        case 'xchg':
          return insn.size === 8 ? `${src} = xchg_64(${addr(insn.dst, insn.off)}, ${src})` : `${src} = xchg32_32(${addr(insn.dst, insn.off)}, ${src})`;
        case 'cmpxchg': {
          const r0 = insn.size === 8 ? 'r0' : 'w0';
          return insn.size === 8
            ? `r0 = cmpxchg_64(${addr(insn.dst, insn.off)}, r0, ${src})`
            : `${r0} = cmpxchg32_32(${addr(insn.dst, insn.off)}, ${r0}, ${src})`;
        }
        case 'load_acquire':
          return `${narrow(insn.size, insn.dst)} = load_acquire((${U[insn.size]} *)${mem(insn.src, insn.off)})`;
        case 'store_release':
          return `store_release((${U[insn.size]} *)${m}, ${src})`;
      }
      break;
    }
    case 'jmp': {
      const p = insn.width === 64 ? 'r' : 'w';
      const src = isReg(insn.src) ? `${p}${insn.src}` : shex(insn.src.imm);
      return `if ${p}${insn.dst} ${LLVM_JMP_OPS[insn.cond]} ${src} goto ${target(insn.off, ctx)}`;
    }
    case 'ja':
      return `${insn.long ? 'gotol' : 'goto'} ${target(insn.off, ctx)}`;
    case 'may_goto':
      return `may_goto ${target(insn.off, ctx)}`;
    case 'call':
      return `call ${shex(insn.helper)}`;
    case 'call_local':
      return `call ${targetLabel(ctx, insn.off) ?? shex(insn.off)}`;
    case 'call_kfunc':
      return `call ${shex(insn.btfId)}`;
    case 'callx':
      return `callx r${insn.dst}`;
    case 'exit':
      return 'exit';
  }
  throw new Error(`unhandled instruction kind ${(insn as { kind: string }).kind}`);
}
