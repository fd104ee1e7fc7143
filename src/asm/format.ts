import type { Insn } from '../isa/index.js';
import { formatKernel } from './format-kernel.js';
import { formatLlvm } from './format-llvm.js';
import { formatUbpf } from './format-ubpf.js';
import type { FormatContext, Style } from './style.js';

/**
 * One instruction as text in the given style. Jump and call targets print as
 * offsets unless `ctx` gives the pc and a `label` function.
 */
export function formatInsn(insn: Insn, style: Style, ctx?: FormatContext): string {
  switch (style) {
    case 'llvm':
      return formatLlvm(insn, ctx);
    case 'kernel':
      return formatKernel(insn, ctx);
    case 'ubpf':
      return formatUbpf(insn, ctx);
  }
}
