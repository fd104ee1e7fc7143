import type { Insn } from '../isa/index.js';
import type { CollectionSpec, ProgramLineInfo } from './spec.js';

/** What a disassembler needs per program: its instructions and the source line of each. */
export interface ProgramListing {
  readonly name: string;
  readonly section: string;
  readonly insns: readonly Insn[];
  /** Per instruction index: the line info that starts there, if any. */
  readonly lines: readonly (ProgramLineInfo | undefined)[];
  /** The same line info keyed by slot (8-byte unit; a 64-bit load takes two), as `formatProgram`'s lineInfo wants. */
  readonly linesBySlot: ReadonlyMap<number, ProgramLineInfo>;
  /** Per instruction index: the function (program or subprogram) that starts there, if any. */
  readonly functionStarts: readonly (string | undefined)[];
}

/** Programs in section order, then name, ready for `formatProgram`. */
export function programListings(spec: CollectionSpec): ProgramListing[] {
  const out: ProgramListing[] = [];
  for (const p of spec.programs.values()) {
    const lines = new Array<ProgramLineInfo | undefined>(p.insns.length).fill(undefined);
    for (const l of p.lineInfo) if (l.insn < lines.length && !lines[l.insn]) lines[l.insn] = l;
    const functionStarts = new Array<string | undefined>(p.insns.length).fill(undefined);
    for (const f of p.functions) if (f.insn < functionStarts.length) functionStarts[f.insn] = f.name;
    const linesBySlot = new Map<number, ProgramLineInfo>();
    let slot = 0;
    p.insns.forEach((insn, i) => {
      const l = lines[i];
      if (l) linesBySlot.set(slot, l);
      slot += insn.kind === 'lddw' ? 2 : 1;
    });
    out.push({ name: p.name, section: p.section, insns: p.insns, lines, linesBySlot, functionStarts });
  }
  return out;
}
