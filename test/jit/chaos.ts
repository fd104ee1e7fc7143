/** Random unverified programs for the JIT's differential tests. */
import { randomProgram, Rng } from '../isa/gen.js';
import type { Insn, InsnKind } from '../../src/isa/index.js';

const CHAOS_KINDS: readonly InsnKind[] = [
  'alu', 'alu', 'alu', 'alu', 'neg', 'movsx', 'endian', 'lddw', 'ldabs', 'ldind', 'ldx', 'ldx', 'st', 'stx', 'stx',
  'atomic', 'jmp', 'jmp', 'jmp', 'ja', 'call', 'call_local', 'callx', 'may_goto', 'exit', 'exit',
];

/**
 * Unverified chaos: random instructions with arbitrary jumps (loops,
 * irreducible graphs), recursion, helpers and wild pointers. Bases are
 * biased to r10 and the input so that accesses often succeed.
 */
export function chaos(seed: number): { program: Insn[]; mem: Uint8Array } {
  const r = new Rng(seed);
  const n = 4 + r.int(40);
  const prog = randomProgram(r, n, { kinds: CHAOS_KINDS }).map((insn): Insn => {
    switch (insn.kind) {
      case 'ldx':
        return r.int(3) > 0 ? { ...insn, src: r.bool() ? 10 : 1, off: r.bool() ? -8 * (1 + r.int(64)) : r.int(24) } : insn;
      case 'st': case 'stx':
        return r.int(3) > 0 ? { ...insn, dst: r.bool() ? 10 : 1, off: r.bool() ? -8 * (1 + r.int(64)) : r.int(24) } : insn;
      case 'atomic':
        return r.int(3) > 0 ? { ...insn, dst: 10, src: r.pick([0, 1, 2, 3] as const), off: -8 * (1 + r.int(64)) } : insn;
      case 'call':
        return { kind: 'call', helper: r.int(8) };
      case 'alu':
        // Keep r1 (the input pointer) and r10 mostly intact.
        return insn.dst === 1 && r.int(4) > 0 ? { ...insn, dst: 3 } : insn;
      default:
        return insn;
    }
  });
  const mem = r.bytes(r.int(40));
  return { program: prog, mem };
}

