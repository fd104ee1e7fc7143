/**
 * The kernel style: what the verifier log and `bpftool prog dump xlated`
 * print for one instruction (Linux's kernel/bpf/disasm.c), opcode byte in
 * parentheses first: `(07) r1 += -8`, `(85) call bpf_map_lookup_elem#1`.
 */
import { encodeInsn, isReg, type Insn, type Size } from '../isa/index.js';
import { LLVM_ALU_OPS, LLVM_JMP_OPS } from './format-llvm.js';
import { HELPER_NAMES } from './helper-names.js';
import { plusDec, uhex32, type FormatContext } from './style.js';

const U: Record<Size, string> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };
const S: Record<Size, string> = { 1: 's8', 2: 's16', 4: 's32', 8: 's64' };
const ATOMIC_LOCK: Record<string, string> = { add: '+=', or: '|=', and: '&=', xor: '^=' };

/** Linux's name for a helper id, or undefined. */
export function helperName(id: number): string | undefined {
  return id >= 0 && id < HELPER_NAMES.length ? HELPER_NAMES[id] : undefined;
}

const mem = (reg: number, off: number): string => `(r${reg} ${plusDec(off)})`;

/** The text after the `(xx) ` opcode prefix. */
export function formatKernelBody(insn: Insn, ctx?: FormatContext): string {
  switch (insn.kind) {
    case 'alu': {
      const p = insn.width === 64 ? 'r' : 'w';
      const src = isReg(insn.src) ? `${p}${insn.src}` : `${insn.src.imm}`;
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
    case 'endian':
      return `r${insn.dst} = ${insn.order === 'swap' ? 'bswap' : insn.order}${insn.bits} r${insn.dst}`;
    case 'lddw':
      return `r${insn.dst} = 0x${BigInt.asUintN(64, insn.imm).toString(16)}`;
    case 'ldabs':
      return `r0 = *(${U[insn.size]} *)skb[${insn.imm}]`;
    case 'ldind':
      return `r0 = *(${U[insn.size]} *)skb[r${insn.src} + ${insn.imm}]`;
    case 'ldx':
      return `r${insn.dst} = *(${insn.signExtend ? S[insn.size] : U[insn.size]} *)${mem(insn.src, insn.off)}`;
    case 'st':
      return `*(${U[insn.size]} *)${mem(insn.dst, insn.off)} = ${insn.imm}`;
    case 'stx':
      return `*(${U[insn.size]} *)${mem(insn.dst, insn.off)} = r${insn.src}`;
    case 'atomic': {
      const m = mem(insn.dst, insn.off);
      const w = insn.size === 8 ? '64' : '';
      switch (insn.op) {
        case 'add': case 'or': case 'and': case 'xor':
          return insn.fetch
            ? `r${insn.src} = atomic${w}_fetch_${insn.op}((${U[insn.size]} *)${m}, r${insn.src})`
            : `lock *(${U[insn.size]} *)${m} ${ATOMIC_LOCK[insn.op]} r${insn.src}`;
        case 'xchg':
          return `r${insn.src} = atomic${w}_xchg((${U[insn.size]} *)${m}, r${insn.src})`;
        case 'cmpxchg':
          return `r0 = atomic${w}_cmpxchg((${U[insn.size]} *)${m}, r0, r${insn.src})`;
        case 'load_acquire':
          return `r${insn.dst} = load_acquire((${U[insn.size]} *)${mem(insn.src, insn.off)})`;
        case 'store_release':
          return `store_release((${U[insn.size]} *)${m}, r${insn.src})`;
      }
      break;
    }
    case 'jmp': {
      const p = insn.width === 64 ? 'r' : 'w';
      const src = isReg(insn.src) ? `${p}${insn.src}` : uhex32(insn.src.imm);
      return `if ${p}${insn.dst} ${LLVM_JMP_OPS[insn.cond]} ${src} goto pc${plusDec(insn.off)}`;
    }
    case 'ja':
      return `${insn.long ? 'gotol' : 'goto'} pc${plusDec(insn.off)}`;
    case 'may_goto':
      return `may_goto pc${plusDec(insn.off)}`;
    case 'call': {
      const name = ctx?.helperName?.(insn.helper) ?? helperName(insn.helper) ?? 'unknown';
      return `call ${name}#${insn.helper}`;
    }
    case 'call_local':
      return `call pc${plusDec(insn.off)}`;
    case 'call_kfunc':
      return `call ${ctx?.kfuncName?.(insn.btfId, insn.module) ?? 'kernel-function'}#${insn.btfId}`;
    case 'callx':
      // disasm.c has no case for BPF_X calls: it prints them as a helper call with imm 0.
      return `call ${helperName(0) ?? 'unknown'}#0`;
    case 'exit':
      return 'exit';
  }
  throw new Error(`unhandled instruction kind ${(insn as { kind: string }).kind}`);
}

/** `(xx) text`, the opcode of the (first) slot in two hex digits. */
export function formatKernel(insn: Insn, ctx?: FormatContext): string {
  const opcode = encodeInsn(insn)[0].opcode;
  return `(${opcode.toString(16).padStart(2, '0')}) ${formatKernelBody(insn, ctx)}`;
}
