import type { Insn } from '../isa/index.js';
import type { Target } from './cursor.js';

/** One parsed instruction; `label` is a target still to resolve into its offset. */
export interface Parsed {
  readonly insn: Insn;
  readonly label?: { readonly name: string; readonly col: number };
}

/** Puts a parsed target into an instruction built with offset 0. */
export function withTarget(build: (off: number) => Insn, t: Target): Parsed {
  return 'off' in t ? { insn: build(t.off) } : { insn: build(0), label: { name: t.label, col: t.col } };
}
