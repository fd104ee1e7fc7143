/**
 * eBPF assembly text: the assembler and the disassembler.
 *
 * Three syntaxes, all over the one `Insn` model of src/isa:
 * - `llvm`: the C-like syntax of llvm-mc and llvm-objdump (`r1 = *(u64 *)(r1 + 0x70)`);
 * - `kernel`: what the verifier log and bpftool print (`(07) r1 += -8`), from
 *   Linux's kernel/bpf/disasm.c; the assembler reads it too, so verifier logs
 *   can be pasted back in;
 * - `ubpf`: the mnemonic syntax of uBPF and the bpf_conformance suite (`mov %r0, 0x1`).
 */
export { AsmError } from './errors.js';
export { assemble, type AssembleOptions, type Syntax } from './assemble.js';
export { formatInsn } from './format.js';
export { disassemble, formatProgram, type DisassembleOptions, type ProgramFormatOptions } from './program.js';
export { STYLES, type Style, type FormatContext } from './style.js';
export { helperName } from './format-kernel.js';
export { HELPER_NAMES } from './helper-names.js';
