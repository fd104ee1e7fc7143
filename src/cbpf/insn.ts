/**
 * Classic BPF instructions: Linux's `struct sock_filter` (and BSD's
 * `struct bpf_insn`): a 16-bit opcode, two 8-bit jump offsets and a 32-bit
 * constant. Jump offsets are relative to the next instruction.
 */
export interface SockFilter {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  /** Unsigned 32-bit constant. */
  readonly k: number;
}

/** Instruction classes (low three bits of `code`). */
export const BPF_CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07 } as const;
/** Load and store sizes. */
export const BPF_SIZE = { W: 0x00, H: 0x08, B: 0x10 } as const;
/** Load and store modes. */
export const BPF_MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0 } as const;
/** ALU operations. */
export const BPF_ALU_OP = {
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70,
  NEG: 0x80, MOD: 0x90, XOR: 0xa0,
} as const;
/** Jump operations. */
export const BPF_JMP_OP = { JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40 } as const;
/** Operand source: the constant k, the index register X, or (for RET) the accumulator A. */
export const BPF_SRC = { K: 0x00, X: 0x08, A: 0x10 } as const;
/** MISC operations. */
export const BPF_MISC_OP = { TAX: 0x00, TXA: 0x80 } as const;
/** Number of scratch memory words M[0..15]. */
export const BPF_MEMWORDS = 16;
/** Maximum program length accepted by Linux (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export const sockFilter = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });
