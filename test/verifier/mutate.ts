/**
 * Small random mutations of accepted programs, for the differential
 * mutation test: the mutants sit right next to programs the kernel accepts,
 * so they probe the verifier's edges (a bounds check gone, an offset one
 * past the end, a wider access) far better than random programs do.
 * Every mutation keeps the slot layout, so jump offsets stay meaningful.
 */
import type { Insn, JmpCond, Reg, Size } from '../../src/isa/index.js';

export type MutationKind =
  | 'register' | 'offset' | 'size' | 'immediate' | 'condition' | 'jump-offset'
  | 'drop-check' | 'force-check' | 'swap';

export const MUTATION_KINDS: readonly MutationKind[] = [
  'register', 'offset', 'size', 'immediate', 'condition', 'jump-offset', 'drop-check', 'force-check', 'swap',
];

export interface Mutant {
  readonly kind: MutationKind;
  /** Index (in the Insn list) of the first instruction changed. */
  readonly at: number;
  readonly insns: Insn[];
}

const CONDS: JmpCond[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];
const SIZES: Size[] = [1, 2, 4, 8];
const OFF_DELTAS = [-8, -4, -2, -1, 1, 2, 4, 8];
const IMM_DELTAS = [-1, 1, -8, 8];
const IMM_VALUES = [0, 1, -1, 0x7fffffff, -0x80000000, 255, 4096];

type Rng = () => number;
const pick = <T>(next: Rng, xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
const reg = (next: Rng, max = 10): Reg => Math.floor(next() * (max + 1)) as Reg;

/** Instruction indexes a mutation of this kind can apply to. */
function candidates(insns: readonly Insn[], kind: MutationKind): number[] {
  const out: number[] = [];
  insns.forEach((i, n) => {
    const ok = ((): boolean => {
      switch (kind) {
        case 'register': return 'dst' in i || ('src' in i && typeof i.src === 'number');
        case 'offset': return i.kind === 'ldx' || i.kind === 'stx' || i.kind === 'st' || i.kind === 'atomic';
        case 'size': return i.kind === 'ldx' || i.kind === 'stx' || i.kind === 'st';
        case 'immediate': return (i.kind === 'alu' || i.kind === 'jmp') ? typeof i.src !== 'number' : i.kind === 'st';
        case 'condition': return i.kind === 'jmp';
        case 'jump-offset': return i.kind === 'jmp' || i.kind === 'ja';
        case 'drop-check': case 'force-check': return i.kind === 'jmp';
        case 'swap': return n + 1 < insns.length && i.kind !== 'lddw' && insns[n + 1].kind !== 'lddw' && insns[n + 1].kind !== 'exit';
      }
    })();
    if (ok) out.push(n);
  });
  return out;
}

function mutateAt(next: Rng, insns: Insn[], kind: MutationKind, n: number): void {
  const i = insns[n];
  switch (kind) {
    case 'register': {
      const fields: ('dst' | 'src')[] = [];
      if ('dst' in i) fields.push('dst');
      if ('src' in i && typeof i.src === 'number') fields.push('src');
      const f = pick(next, fields);
      insns[n] = { ...i, [f]: reg(next) } as Insn;
      return;
    }
    case 'offset':
      if ('off' in i) insns[n] = { ...i, off: i.off + pick(next, OFF_DELTAS) } as Insn;
      return;
    case 'size':
      // Sign-extending loads have no 8-byte form.
      if (i.kind === 'ldx') insns[n] = { ...i, size: pick(next, SIZES.filter((s) => s !== i.size && !(i.signExtend && s === 8))) };
      else if (i.kind === 'stx' || i.kind === 'st') insns[n] = { ...i, size: pick(next, SIZES.filter((s) => s !== i.size)) };
      return;
    case 'immediate': {
      const change = (v: number): number => (next() < 0.6 ? (v + pick(next, IMM_DELTAS)) | 0 : pick(next, IMM_VALUES));
      if (i.kind === 'st') insns[n] = { ...i, imm: change(i.imm) };
      else if ((i.kind === 'alu' || i.kind === 'jmp') && typeof i.src !== 'number') insns[n] = { ...i, src: { imm: change(i.src.imm) } } as Insn;
      return;
    }
    case 'condition':
      if (i.kind === 'jmp') insns[n] = { ...i, cond: pick(next, CONDS.filter((c) => c !== i.cond)) };
      return;
    case 'jump-offset':
      if (i.kind === 'jmp' || i.kind === 'ja') insns[n] = { ...i, off: i.off + pick(next, [-2, -1, 1, 2]) };
      return;
    // The check is gone: the branch is never taken (execution falls through).
    case 'drop-check':
      if (i.kind === 'jmp') insns[n] = { kind: 'ja', long: false, off: 0 };
      return;
    // The check is gone the other way: the branch is always taken.
    case 'force-check':
      if (i.kind === 'jmp') insns[n] = { kind: 'ja', long: false, off: i.off };
      return;
    case 'swap':
      insns[n] = insns[n + 1];
      insns[n + 1] = i;
      return;
  }
}

/** One mutant of `base`, or undefined when `kind` has nothing to apply to. */
export function mutate(next: Rng, base: readonly Insn[], kind: MutationKind): Mutant | undefined {
  const at = candidates(base, kind);
  if (at.length === 0) return undefined;
  const n = pick(next, at);
  const insns = [...base];
  mutateAt(next, insns, kind, n);
  return { kind, at: n, insns };
}
