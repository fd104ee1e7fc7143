/**
 * A deterministic generator of small random programs for differential and
 * robustness testing: straight-line arithmetic, stack and context accesses,
 * helper calls and forward branches, always ending in exit.
 */
import type { AluOp, Insn, JmpCond, Reg, Size } from '../../src/isa/index.js';

export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

const ALU: AluOp[] = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'mod', 'xor', 'mov', 'arsh'];
const JMP: JmpCond[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const SIZES: Size[] = [1, 2, 4, 8];
const IMMS = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, -1, -8, -16, 0x7fffffff, -0x80000000, 1000];

export function randomProgram(next: () => number): Insn[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const reg = (max = 10): Reg => Math.floor(next() * (max + 1)) as Reg;
  const len = 3 + Math.floor(next() * 12);
  const out: Insn[] = [];
  // Give most registers a value first so programs get past the first read.
  for (let r = 0 as Reg; r <= 9; r = (r + 1) as Reg) {
    const k = next();
    if (k < 0.15) continue;
    if (k < 0.35) out.push({ kind: 'alu', width: 64, op: 'mov', dst: r, src: 1 });
    else if (k < 0.55) out.push({ kind: 'alu', width: 64, op: 'mov', dst: r, src: 10 });
    else if (k < 0.6 && r === 0) out.push({ kind: 'call', helper: 7 });
    else out.push({ kind: 'alu', width: 64, op: 'mov', dst: r, src: { imm: pick(IMMS) } });
  }
  for (let i = 0; i < len; i++) {
    const left = len - i;
    const r = next();
    if (r < 0.35) {
      const useReg = next() < 0.4;
      out.push({ kind: 'alu', width: next() < 0.75 ? 64 : 32, op: pick(ALU), dst: reg(9), src: useReg ? reg() : { imm: pick(IMMS) } });
    } else if (r < 0.45) {
      out.push({ kind: 'ldx', size: pick(SIZES), signExtend: false, dst: reg(9), src: next() < 0.5 ? 10 : reg(), off: next() < 0.6 ? -8 * (1 + Math.floor(next() * 8)) : pick([0, 4, 8, 12, 16, 76, 80]) });
    } else if (r < 0.55) {
      out.push({ kind: 'stx', size: pick(SIZES), dst: next() < 0.7 ? 10 : reg(), src: reg(), off: -8 * (1 + Math.floor(next() * 8)) + (next() < 0.1 ? 4 : 0) });
    } else if (r < 0.62) {
      out.push({ kind: 'st', size: pick(SIZES), dst: next() < 0.8 ? 10 : reg(), off: -8 * (1 + Math.floor(next() * 8)), imm: pick(IMMS) });
    } else if (r < 0.75 && left > 2) {
      const off = Math.floor(next() * Math.min(left - 1, 5));
      out.push({ kind: 'jmp', width: next() < 0.8 ? 64 : 32, cond: pick(JMP), dst: reg(), src: next() < 0.5 ? reg() : { imm: pick(IMMS) }, off });
    } else if (r < 0.82) {
      out.push({ kind: 'call', helper: pick([5, 7, 8, 14]) });
    } else if (r < 0.87) {
      out.push({ kind: 'neg', width: 64, dst: reg(9) });
    } else {
      out.push({ kind: 'alu', width: 64, op: 'mov', dst: reg(9), src: next() < 0.5 ? reg() : { imm: pick(IMMS) } });
    }
  }
  out.push({ kind: 'exit' });
  return out;
}

/**
 * XDP programs assembled from realistic pieces (packet bounds checks, map
 * lookups with null checks, masked indexes, bounded loops) with random
 * constants, so many land right at the edge between safe and unsafe.
 * Map 0 must be a hash map with 4-byte keys and 16-byte values.
 */
export function structuredProgram(next: () => number): Insn[] {
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const size = (): Size => pick([1, 2, 4, 8] as const);
  const mov = (dst: Reg, src: Reg | number): Insn => ({ kind: 'alu', width: 64, op: 'mov', dst, src: typeof src === 'number' && src > 10 ? { imm: src } : (src as Reg) });
  const movi = (dst: Reg, v: number): Insn => ({ kind: 'alu', width: 64, op: 'mov', dst, src: { imm: v } });
  const addi = (dst: Reg, v: number): Insn => ({ kind: 'alu', width: 64, op: 'add', dst, src: { imm: v } });
  const out: Insn[] = [mov(6, 1), movi(7, 0)];
  const pieces = int(1, 4);
  for (let k = 0; k < pieces; k++) {
    const which = int(0, 5);
    if (which === 0) {
      const a = int(0, 40), b = int(-2, 40), sz = size();
      out.push(
        { kind: 'ldx', size: 4, signExtend: false, dst: 2, src: 6, off: 0 },
        { kind: 'ldx', size: 4, signExtend: false, dst: 3, src: 6, off: 4 },
        mov(4, 2), addi(4, a),
        { kind: 'jmp', width: 64, cond: pick(['jgt', 'jge'] as const), dst: 4, src: 3, off: 1 },
        { kind: 'ldx', size: sz, signExtend: false, dst: 7, src: 2, off: b },
      );
    } else if (which === 1) {
      const c = int(-4, 20), sz = size();
      out.push(
        { kind: 'st', size: 4, dst: 10, off: -4, imm: int(0, 3) }, mov(2, 10), addi(2, -4),
        { kind: 'lddw', dst: 1, pseudo: 'map_fd', imm: 0n }, { kind: 'call', helper: 1 },
        { kind: 'jmp', width: 64, cond: next() < 0.9 ? 'jeq' : 'jne', dst: 0, src: { imm: 0 }, off: 1 },
        { kind: 'ldx', size: sz, signExtend: false, dst: 7, src: 0, off: c },
      );
    } else if (which === 2) {
      const m = pick([3, 7, 15, 31, 63]), d = int(-40, 0), base = -8 * int(1, 8);
      out.push(
        { kind: 'call', helper: 7 }, { kind: 'alu', width: 64, op: 'and', dst: 0, src: { imm: m } },
        mov(1, 10), addi(1, base), { kind: 'alu', width: 64, op: 'add', dst: 1, src: 0 },
        { kind: 'st', size: 1, dst: 1, off: d, imm: 1 },
      );
    } else if (which === 3) {
      const n = int(1, 40);
      out.push(movi(8, 0), addi(8, 1), { kind: 'jmp', width: next() < 0.7 ? 64 : 32, cond: pick(['jlt', 'jne', 'jle'] as const), dst: 8, src: { imm: n }, off: -2 });
    } else if (which === 4) {
      const kmax = int(0, 80), base = -8 * int(1, 9);
      out.push(
        { kind: 'call', helper: 7 },
        { kind: 'jmp', width: next() < 0.7 ? 64 : 32, cond: pick(['jgt', 'jsgt', 'jge'] as const), dst: 0, src: { imm: kmax }, off: 4 },
        mov(1, 10), addi(1, base), { kind: 'alu', width: 64, op: 'add', dst: 1, src: 0 },
        { kind: 'ldx', size: 1, signExtend: false, dst: 7, src: 1, off: 0 },
      );
    } else {
      const c = int(0, 24), m = pick([1, 3, 7, 8, 15]);
      out.push(
        { kind: 'st', size: 4, dst: 10, off: -4, imm: 1 }, mov(2, 10), addi(2, -4),
        { kind: 'lddw', dst: 1, pseudo: 'map_fd', imm: 0n }, { kind: 'call', helper: 1 },
        { kind: 'jmp', width: 64, cond: 'jeq', dst: 0, src: { imm: 0 }, off: 5 },
        mov(9, 0), { kind: 'call', helper: 7 }, { kind: 'alu', width: 64, op: 'and', dst: 0, src: { imm: m } },
        { kind: 'alu', width: 64, op: 'add', dst: 9, src: 0 },
        { kind: 'ldx', size: pick([1, 4, 8] as const), signExtend: false, dst: 7, src: 9, off: c },
      );
    }
  }
  out.push(movi(0, int(0, 3)), { kind: 'exit' });
  return out;
}
