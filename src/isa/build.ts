/**
 * Small constructors that make hand-written programs readable:
 * `[mov64(0, imm(1)), add64(0, 2), exit()]`.
 */
import type { AluOp, Imm, Insn, JmpCond, LddwPseudo, Reg, Size, Source, Width } from './insn.js';

export const imm = (value: number): Imm => ({ imm: value | 0 });

const alu = (width: Width, op: AluOp) => (dst: Reg, src: Source): Insn => ({ kind: 'alu', width, op, dst, src });
const jmp = (width: Width, cond: JmpCond) => (dst: Reg, src: Source, off: number): Insn => ({ kind: 'jmp', width, cond, dst, src, off });

export const add64 = alu(64, 'add'), sub64 = alu(64, 'sub'), mul64 = alu(64, 'mul'), div64 = alu(64, 'div');
export const or64 = alu(64, 'or'), and64 = alu(64, 'and'), lsh64 = alu(64, 'lsh'), rsh64 = alu(64, 'rsh');
export const mod64 = alu(64, 'mod'), xor64 = alu(64, 'xor'), mov64 = alu(64, 'mov'), arsh64 = alu(64, 'arsh');
export const add32 = alu(32, 'add'), sub32 = alu(32, 'sub'), mul32 = alu(32, 'mul'), div32 = alu(32, 'div');
export const or32 = alu(32, 'or'), and32 = alu(32, 'and'), lsh32 = alu(32, 'lsh'), rsh32 = alu(32, 'rsh');
export const mod32 = alu(32, 'mod'), xor32 = alu(32, 'xor'), mov32 = alu(32, 'mov'), arsh32 = alu(32, 'arsh');

export const jeq = jmp(64, 'jeq'), jne = jmp(64, 'jne'), jgt = jmp(64, 'jgt'), jge = jmp(64, 'jge');
export const jlt = jmp(64, 'jlt'), jle = jmp(64, 'jle'), jset = jmp(64, 'jset');
export const jsgt = jmp(64, 'jsgt'), jsge = jmp(64, 'jsge'), jslt = jmp(64, 'jslt'), jsle = jmp(64, 'jsle');

export const ja = (off: number): Insn => ({ kind: 'ja', long: false, off });
export const exit = (): Insn => ({ kind: 'exit' });
export const call = (helper: number): Insn => ({ kind: 'call', helper });
export const lddw = (dst: Reg, value: bigint, pseudo: LddwPseudo = 'imm'): Insn => ({
  kind: 'lddw', dst, pseudo, imm: BigInt.asUintN(64, value),
});
export const ldx = (size: Size, dst: Reg, src: Reg, off: number): Insn => ({ kind: 'ldx', size, signExtend: false, dst, src, off });
export const stx = (size: Size, dst: Reg, src: Reg, off: number): Insn => ({ kind: 'stx', size, dst, src, off });
export const st = (size: Size, dst: Reg, off: number, value: number): Insn => ({ kind: 'st', size, dst, off, imm: value | 0 });
