/**
 * The three text syntaxes bpfkit reads and writes, and the context a
 * formatter may use to print names instead of numbers.
 */

/**
 * - `llvm`: what `llvm-objdump -d --mcpu=v4` prints and `llvm-mc` assembles.
 * - `kernel`: what the verifier log and `bpftool prog dump xlated` print.
 * - `ubpf`: the mnemonic syntax of uBPF and the bpf_conformance suite.
 */
export type Style = 'llvm' | 'kernel' | 'ubpf';

export const STYLES: readonly Style[] = ['llvm', 'kernel', 'ubpf'];

export interface FormatContext {
  /** Slot index of the instruction; needed to turn offsets into targets for `label`. */
  readonly pc?: number;
  /**
   * Name of the instruction at an absolute slot, used for jump and local call
   * targets (llvm and ubpf styles). Return undefined to print the offset.
   */
  readonly label?: (slot: number) => string | undefined;
  /** Helper name for `call` in kernel style; defaults to Linux's names (bpf_map_lookup_elem). */
  readonly helperName?: (id: number) => string | undefined;
  /** Kernel function name for kfunc calls in kernel style (the kernel prints `kernel-function` without BTF). */
  readonly kfuncName?: (btfId: number, module: number) => string | undefined;
  /**
   * llvm style: print 32-bit subregisters (`w1`) in narrow loads, stores and
   * 32-bit atomics, as llvm-objdump does with --mcpu=v3 or later. Default true;
   * false matches plain `llvm-objdump -d`.
   */
  readonly alu32?: boolean;
}

/** Signed hex as LLVM prints it: 0x5, -0x3. */
export function shex(v: number | bigint): string {
  const n = typeof v === 'bigint' ? v : BigInt(v);
  return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** Unsigned 32-bit hex: 0xffffffff. */
export function uhex32(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** Sign with explicit plus, as C's %+d prints it. */
export function plusDec(v: number): string {
  return v < 0 ? `${v}` : `+${v}`;
}

/** Absolute target slot of a relative offset, when the context knows the pc. */
export function targetLabel(ctx: FormatContext | undefined, off: number): string | undefined {
  if (!ctx || ctx.pc === undefined || !ctx.label) return undefined;
  return ctx.label(ctx.pc + 1 + off);
}
