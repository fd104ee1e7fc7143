/**
 * Whole programs as text: `disassemble` gives source that assembles back to
 * the same instructions; `formatProgram` gives a listing with slot indexes,
 * in the layout of llvm-objdump or of the verifier log.
 */
import { decode, encode, insnSlots, slotIndex, branchOffset, type Insn } from '../isa/index.js';
import { formatInsn } from './format.js';
import type { FormatContext, Style } from './style.js';

export interface DisassembleOptions {
  /** Default 'llvm'. */
  readonly style?: Style;
  /**
   * Name jump and call targets with labels (`L12:`) instead of offsets.
   * Default true for llvm and ubpf; the kernel style never uses labels.
   */
  readonly labels?: boolean;
  /** Produce a listing (see {@link formatProgram}) instead of assembly source. */
  readonly listing?: boolean;
  /** llvm style: print w registers in narrow memory operations (default true). */
  readonly alu32?: boolean;
  readonly helperName?: FormatContext['helperName'];
}

export interface ProgramFormatOptions {
  /** Default 'llvm'. */
  readonly style?: Style;
  /** Source line (or other note) to print before the instruction at a slot, as `; text`. */
  readonly lineInfo?: (slot: number) => string | undefined;
  /** llvm listing: show the raw bytes column (default true). */
  readonly bytes?: boolean;
  /** Slot number of the first instruction, for programs that start inside a section. */
  readonly startSlot?: number;
  readonly alu32?: boolean;
  readonly helperName?: FormatContext['helperName'];
}

/** Bytes are decoded without target checks: a disassembler shows a stray jump rather than refuse the program. */
function toInsns(input: readonly Insn[] | Uint8Array): readonly Insn[] {
  return input instanceof Uint8Array ? decode(input, { checkTargets: false }) : input;
}

/** Slots that some jump or local call lands on. */
function branchTargets(insns: readonly Insn[]): Set<number> {
  const slots = slotIndex(insns);
  const out = new Set<number>();
  insns.forEach((insn, i) => {
    const off = branchOffset(insn);
    if (off !== undefined) out.add(slots[i] + 1 + off);
  });
  return out;
}

/** Assembly source, one instruction per line, with `L<slot>:` labels on branch targets. */
export function disassemble(input: readonly Insn[] | Uint8Array, options: DisassembleOptions = {}): string {
  const insns = toInsns(input);
  const style = options.style ?? 'llvm';
  if (options.listing) return formatProgram(insns, options);
  const useLabels = (options.labels ?? true) && style !== 'kernel';
  const slots = slotIndex(insns);
  const targets = useLabels ? branchTargets(insns) : new Set<number>();
  const starts = new Set(slots);
  // Only label slots where an instruction starts; anything else keeps its offset.
  const label = (slot: number): string | undefined => (targets.has(slot) && starts.has(slot) && slot < slots[insns.length] ? `L${slot}` : undefined);
  const lines: string[] = [];
  insns.forEach((insn, i) => {
    const pc = slots[i];
    if (label(pc)) lines.push(`L${pc}:`);
    const text = formatInsn(insn, style, { pc, label: useLabels ? label : undefined, alu32: options.alu32, helperName: options.helperName });
    lines.push(style === 'kernel' ? text : `\t${text}`);
  });
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * A listing: llvm style as llvm-objdump -d lays it out (`      12:\tb7 00 00 00 01 00 00 00\tr0 = 0x1`),
 * kernel style as the verifier log does (`12: (b7) r0 = 1`), ubpf style as assembly source.
 */
export function formatProgram(insns: readonly Insn[], options: ProgramFormatOptions = {}): string {
  const style = options.style ?? 'llvm';
  if (style === 'ubpf' && !options.lineInfo) return disassemble(insns, { style, helperName: options.helperName });
  const start = options.startSlot ?? 0;
  const lines: string[] = [];
  let pc = 0;
  for (const insn of insns) {
    const note = options.lineInfo?.(start + pc);
    if (note !== undefined) lines.push(`; ${note}`);
    const text = formatInsn(insn, style, { pc, alu32: options.alu32, helperName: options.helperName });
    const slot = start + pc;
    if (style === 'llvm') {
      const bytes = options.bytes ?? true ? `${hexBytes(encode([insn]))}\t` : '';
      lines.push(`${String(slot).padStart(8)}:\t${bytes}${text}`);
    } else if (style === 'kernel') {
      lines.push(`${slot}: ${text}`);
    } else {
      lines.push(`${slot}:\t${text}`);
    }
    pc += insnSlots(insn);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
