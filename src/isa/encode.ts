import { ALU_OP, ATOMIC_OP, CALL_SRC, CLASS, JMP_OP, LDDW_SRC, MODE, SIZE, SRC_K, SRC_X } from './opcodes.js';
import { EncodeError } from './errors.js';
import { writeRaw, type RawInsn } from './fields.js';
import { insnSlots, isReg, type Insn, type Size, type Source } from './insn.js';

const SIZE_CODE: Record<Size, number> = { 4: SIZE.W, 2: SIZE.H, 1: SIZE.B, 8: SIZE.DW };

/** Encode instructions into their wire format. */
export function encode(insns: readonly Insn[]): Uint8Array {
  let nslots = 0;
  for (const insn of insns) nslots += insnSlots(insn);
  const out = new Uint8Array(nslots * 8);
  let slot = 0;
  insns.forEach((insn, i) => {
    const raws = encodeInsn(insn, i);
    for (const raw of raws) writeRaw(out, slot++, raw);
  });
  return out;
}

/** The raw slot(s) of one instruction. `index` is only used in error messages. */
export function encodeInsn(insn: Insn, index = 0): RawInsn[] {
  const fail = (why: string): never => {
    throw new EncodeError(why, index);
  };
  const s16 = (v: number, what: string): number =>
    Number.isInteger(v) && v >= -0x8000 && v <= 0x7fff ? v : fail(`${what} ${v} does not fit in 16 signed bits`);
  const s32 = (v: number, what: string): number =>
    Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff ? v | 0 : fail(`${what} ${v} does not fit in 32 bits`);
  const raw = (opcode: number, dst: number, src: number, off: number, imm: number): RawInsn[] => [
    { opcode, dst, src, off: s16(off, 'offset'), imm: s32(imm, 'immediate') },
  ];
  const source = (src: Source): { bit: number; reg: number; imm: number } =>
    isReg(src) ? { bit: SRC_X, reg: src, imm: 0 } : { bit: SRC_K, reg: 0, imm: src.imm };

  switch (insn.kind) {
    case 'alu': {
      const cls = insn.width === 64 ? CLASS.ALU64 : CLASS.ALU;
      const s = source(insn.src);
      const signed = insn.op === 'sdiv' || insn.op === 'smod';
      const code = insn.op === 'sdiv' ? ALU_OP.div : insn.op === 'smod' ? ALU_OP.mod : ALU_OP[insn.op];
      return raw(cls | code | s.bit, insn.dst, s.reg, signed ? 1 : 0, s.imm);
    }
    case 'neg':
      return raw((insn.width === 64 ? CLASS.ALU64 : CLASS.ALU) | ALU_OP.neg, insn.dst, 0, 0, 0);
    case 'movsx':
      if (insn.width === 32 && insn.bits === 32) fail('32-bit movsx cannot sign-extend from 32 bits');
      return raw((insn.width === 64 ? CLASS.ALU64 : CLASS.ALU) | ALU_OP.mov | SRC_X, insn.dst, insn.src, insn.bits, 0);
    case 'endian': {
      if (insn.order === 'swap') return raw(CLASS.ALU64 | ALU_OP.end, insn.dst, 0, 0, insn.bits);
      return raw(CLASS.ALU | ALU_OP.end | (insn.order === 'be' ? SRC_X : SRC_K), insn.dst, 0, 0, insn.bits);
    }
    case 'lddw': {
      const v = BigInt.asUintN(64, insn.imm);
      return [
        { opcode: CLASS.LD | SIZE.DW | MODE.IMM, dst: insn.dst, src: LDDW_SRC[insn.pseudo], off: 0, imm: Number(v & 0xffffffffn) | 0 },
        { opcode: 0, dst: 0, src: 0, off: 0, imm: Number(v >> 32n) | 0 },
      ];
    }
    case 'ldabs':
      return raw(CLASS.LD | MODE.ABS | SIZE_CODE[insn.size], 0, 0, 0, insn.imm);
    case 'ldind':
      return raw(CLASS.LD | MODE.IND | SIZE_CODE[insn.size], 0, insn.src, 0, insn.imm);
    case 'ldx':
      if (insn.signExtend && insn.size === 8) fail('sign-extending load of 8 bytes');
      return raw(CLASS.LDX | (insn.signExtend ? MODE.MEMSX : MODE.MEM) | SIZE_CODE[insn.size], insn.dst, insn.src, insn.off, 0);
    case 'st':
      return raw(CLASS.ST | MODE.MEM | SIZE_CODE[insn.size], insn.dst, 0, insn.off, insn.imm);
    case 'stx':
      return raw(CLASS.STX | MODE.MEM | SIZE_CODE[insn.size], insn.dst, insn.src, insn.off, 0);
    case 'atomic': {
      let code: number = ATOMIC_OP[insn.op];
      if (insn.fetch && (insn.op === 'add' || insn.op === 'or' || insn.op === 'and' || insn.op === 'xor')) code |= ATOMIC_OP.fetch;
      return raw(CLASS.STX | MODE.ATOMIC | SIZE_CODE[insn.size], insn.dst, insn.src, insn.off, code);
    }
    case 'jmp': {
      const s = source(insn.src);
      return raw((insn.width === 64 ? CLASS.JMP : CLASS.JMP32) | JMP_OP[insn.cond] | s.bit, insn.dst, s.reg, insn.off, s.imm);
    }
    case 'ja':
      return insn.long ? raw(CLASS.JMP32 | JMP_OP.ja, 0, 0, 0, insn.off) : raw(CLASS.JMP | JMP_OP.ja, 0, 0, insn.off, 0);
    case 'call':
      return raw(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.HELPER, 0, insn.helper);
    case 'call_local':
      return raw(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.LOCAL, 0, insn.off);
    case 'call_kfunc':
      return raw(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.KFUNC, insn.module, insn.btfId);
    case 'callx':
      return raw(CLASS.JMP | JMP_OP.call | SRC_X, insn.dst, 0, 0, 0);
    case 'may_goto':
      return raw(CLASS.JMP | JMP_OP.jcond, 0, 0, insn.off, 0);
    case 'exit':
      return raw(CLASS.JMP | JMP_OP.exit, 0, 0, 0, 0);
  }
}
