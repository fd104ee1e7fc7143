/**
 * The typed instruction model. One value per instruction; a 64-bit immediate
 * load is one value that occupies two 8-byte slots on the wire. Jump and call
 * offsets are in slots, relative to the next slot, exactly as encoded.
 */

/** General purpose registers r0..r9 and the frame pointer r10. */
export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** An immediate operand (a signed 32-bit value). */
export interface Imm {
  readonly imm: number;
}

/** The second operand of an arithmetic or jump instruction. */
export type Source = Reg | Imm;

/** Access size in bytes. */
export type Size = 1 | 2 | 4 | 8;

/** 32-bit (ALU, JMP32) or 64-bit (ALU64, JMP) operation. */
export type Width = 32 | 64;

export type AluOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'or' | 'and' | 'lsh' | 'rsh'
  | 'mod' | 'smod' | 'xor' | 'mov' | 'arsh';

export type JmpCond =
  | 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge'
  | 'jlt' | 'jle' | 'jslt' | 'jsle';

export type AtomicOp =
  | 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg'
  | 'load_acquire' | 'store_release';

/** Kinds of 64-bit immediate load (the src field, Linux's BPF_PSEUDO_*). */
export type LddwPseudo =
  | 'imm' | 'map_fd' | 'map_value' | 'btf_id' | 'func' | 'map_idx' | 'map_idx_value';

export type Insn =
  /** dst op= src (sdiv/smod are cpu v4). */
  | { readonly kind: 'alu'; readonly width: Width; readonly op: AluOp; readonly dst: Reg; readonly src: Source }
  /** dst = -dst */
  | { readonly kind: 'neg'; readonly width: Width; readonly dst: Reg }
  /** dst = (s8/s16/s32) src, sign-extended (cpu v4; 32-bit width takes 8 and 16). */
  | { readonly kind: 'movsx'; readonly width: Width; readonly bits: 8 | 16 | 32; readonly dst: Reg; readonly src: Reg }
  /** Byte order conversion: to little or big endian, or an unconditional swap (cpu v4). */
  | { readonly kind: 'endian'; readonly order: 'le' | 'be' | 'swap'; readonly bits: 16 | 32 | 64; readonly dst: Reg }
  /** dst = imm64 (two slots); pseudo says how Linux interprets the value. */
  | { readonly kind: 'lddw'; readonly dst: Reg; readonly pseudo: LddwPseudo; readonly imm: bigint }
  /** Legacy packet access: r0 = ntoh(*(size *)(skb->data + imm)). */
  | { readonly kind: 'ldabs'; readonly size: Size; readonly imm: number }
  /** Legacy packet access: r0 = ntoh(*(size *)(skb->data + src + imm)). */
  | { readonly kind: 'ldind'; readonly size: Size; readonly src: Reg; readonly imm: number }
  /** dst = *(size *)(src + off), sign-extending when signExtend (cpu v4). */
  | { readonly kind: 'ldx'; readonly size: Size; readonly signExtend: boolean; readonly dst: Reg; readonly src: Reg; readonly off: number }
  /** *(size *)(dst + off) = imm */
  | { readonly kind: 'st'; readonly size: Size; readonly dst: Reg; readonly off: number; readonly imm: number }
  /** *(size *)(dst + off) = src */
  | { readonly kind: 'stx'; readonly size: Size; readonly dst: Reg; readonly src: Reg; readonly off: number }
  /**
   * Atomic read-modify-write on *(size *)(dst + off) with src.
   * fetch: src receives the old value (always true for xchg and cmpxchg;
   * cmpxchg compares with r0 and leaves the old value in r0).
   * load_acquire: dst = *(src + off); store_release: *(dst + off) = src.
   */
  | { readonly kind: 'atomic'; readonly size: Size; readonly op: AtomicOp; readonly fetch: boolean; readonly dst: Reg; readonly src: Reg; readonly off: number }
  /** Conditional jump by off slots. */
  | { readonly kind: 'jmp'; readonly width: Width; readonly cond: JmpCond; readonly dst: Reg; readonly src: Source; readonly off: number }
  /** Unconditional jump; long: the JMP32-class `gotol` whose offset is in imm (cpu v4). */
  | { readonly kind: 'ja'; readonly long: boolean; readonly off: number }
  /** Call a helper function by id. */
  | { readonly kind: 'call'; readonly helper: number }
  /** Call a bpf-to-bpf function off slots away (relative to the next slot). */
  | { readonly kind: 'call_local'; readonly off: number }
  /** Call a kernel function by BTF id; module is the index of its module's BTF fd (0: vmlinux). */
  | { readonly kind: 'call_kfunc'; readonly btfId: number; readonly module: number }
  /** Call the helper (or function) whose id is in dst. */
  | { readonly kind: 'callx'; readonly dst: Reg }
  /** Bounded-loop escape hatch: jump by off once the kernel's budget runs out (Linux 6.9). */
  | { readonly kind: 'may_goto'; readonly off: number }
  | { readonly kind: 'exit' };

export type InsnKind = Insn['kind'];

/** Number of 8-byte slots an instruction occupies. */
export function insnSlots(insn: Insn): 1 | 2 {
  return insn.kind === 'lddw' ? 2 : 1;
}

/** Slot index of every instruction, plus the total slot count at the end. */
export function slotIndex(insns: readonly Insn[]): number[] {
  const out = new Array<number>(insns.length + 1);
  let pc = 0;
  for (let i = 0; i < insns.length; i++) {
    out[i] = pc;
    pc += insnSlots(insns[i]);
  }
  out[insns.length] = pc;
  return out;
}

export function isReg(src: Source): src is Reg {
  return typeof src === 'number';
}

/** Relative slot offset of a jump-like instruction, or undefined. */
export function branchOffset(insn: Insn): number | undefined {
  switch (insn.kind) {
    case 'jmp':
    case 'ja':
    case 'may_goto':
    case 'call_local':
      return insn.off;
    default:
      return undefined;
  }
}
