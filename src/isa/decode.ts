import { ALU_OP, ATOMIC_OP, CALL_SRC, CLASS, JMP_OP, LDDW_SRC, MODE, SIZE, SRC_X } from './opcodes.js';
import { DecodeError } from './errors.js';
import { readRaw, type RawInsn } from './fields.js';
import type { AluOp, AtomicOp, Insn, JmpCond, LddwPseudo, Reg, Size, Source } from './insn.js';

const ALU_NAMES = invert(ALU_OP);
const JMP_NAMES = invert(JMP_OP);
const SIZE_BYTES: Record<number, Size> = { [SIZE.W]: 4, [SIZE.H]: 2, [SIZE.B]: 1, [SIZE.DW]: 8 };
const PSEUDO_NAMES = invert(LDDW_SRC) as Record<number, LddwPseudo>;
const ATOMIC_NAMES: Record<number, { op: AtomicOp; fetch: boolean }> = {
  [ATOMIC_OP.add]: { op: 'add', fetch: false },
  [ATOMIC_OP.or]: { op: 'or', fetch: false },
  [ATOMIC_OP.and]: { op: 'and', fetch: false },
  [ATOMIC_OP.xor]: { op: 'xor', fetch: false },
  [ATOMIC_OP.add | ATOMIC_OP.fetch]: { op: 'add', fetch: true },
  [ATOMIC_OP.or | ATOMIC_OP.fetch]: { op: 'or', fetch: true },
  [ATOMIC_OP.and | ATOMIC_OP.fetch]: { op: 'and', fetch: true },
  [ATOMIC_OP.xor | ATOMIC_OP.fetch]: { op: 'xor', fetch: true },
  [ATOMIC_OP.xchg]: { op: 'xchg', fetch: true },
  [ATOMIC_OP.cmpxchg]: { op: 'cmpxchg', fetch: true },
  [ATOMIC_OP.load_acquire]: { op: 'load_acquire', fetch: false },
  [ATOMIC_OP.store_release]: { op: 'store_release', fetch: false },
};

function invert<T extends Record<string, number>>(o: T): Record<number, keyof T & string> {
  const out: Record<number, keyof T & string> = {};
  for (const [k, v] of Object.entries(o)) out[v] = k as keyof T & string;
  return out;
}

export interface DecodeOptions {
  /**
   * Check that every jump and local call lands on an instruction of the
   * program (not past its end, not inside a 64-bit immediate). Default true.
   */
  readonly checkTargets?: boolean;
}

/**
 * Decode a program from its wire format: 8-byte little-endian slots.
 * Throws {@link DecodeError} naming the slot of the first malformed instruction.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Insn[] {
  if (bytes.length % 8 !== 0) {
    throw new DecodeError(`truncated: ${bytes.length} bytes is not a whole number of 8-byte instructions`, Math.floor(bytes.length / 8));
  }
  const nslots = bytes.length / 8;
  const insns: Insn[] = [];
  const isInsnStart = new Uint8Array(nslots + 1);
  for (let slot = 0; slot < nslots; ) {
    isInsnStart[slot] = 1;
    const insn = decodeAt(bytes, slot, nslots);
    insns.push(insn);
    slot += insn.kind === 'lddw' ? 2 : 1;
  }
  if (options.checkTargets ?? true) {
    let slot = 0;
    for (const insn of insns) {
      const off = insn.kind === 'jmp' || insn.kind === 'ja' || insn.kind === 'may_goto' || insn.kind === 'call_local' ? insn.off : undefined;
      if (off !== undefined) {
        const target = slot + 1 + off;
        if (target < 0 || target >= nslots) {
          throw new DecodeError(`jump out of range: target ${target} is outside 0..${nslots - 1}`, slot);
        }
        if (!isInsnStart[target]) {
          throw new DecodeError(`jump into the middle of a 64-bit immediate load at ${target - 1}`, slot);
        }
      }
      slot += insn.kind === 'lddw' ? 2 : 1;
    }
  }
  return insns;
}

/** Decode the instruction starting at `slot` (reads two slots for lddw). */
export function decodeAt(bytes: Uint8Array, slot: number, nslots = bytes.length >> 3): Insn {
  const r = readRaw(bytes, slot);
  const fail = (why: string): never => {
    throw new DecodeError(`${why} (opcode 0x${r.opcode.toString(16).padStart(2, '0')})`, slot);
  };
  const reg = (n: number, which: string): Reg => (n <= 10 ? (n as Reg) : fail(`invalid ${which} register r${n}`));
  const zero = (value: number, field: string): void => {
    if (value !== 0) fail(`reserved field ${field} is ${value}, must be 0`);
  };
  const cls = r.opcode & 0x07;
  switch (cls) {
    case CLASS.ALU:
    case CLASS.ALU64:
      return decodeAlu(r, cls === CLASS.ALU64 ? 64 : 32, reg, zero, fail);
    case CLASS.JMP:
    case CLASS.JMP32:
      return decodeJmp(r, cls === CLASS.JMP ? 64 : 32, reg, zero, fail);
    case CLASS.LD: {
      const mode = r.opcode & 0xe0;
      const size = SIZE_BYTES[r.opcode & 0x18];
      if (r.opcode === (CLASS.LD | SIZE.DW | MODE.IMM)) {
        if (slot + 1 >= nslots) fail('truncated 64-bit immediate load: second slot missing');
        const hi = readRaw(bytes, slot + 1);
        if (hi.opcode !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) {
          throw new DecodeError('malformed second slot of a 64-bit immediate load', slot + 1);
        }
        zero(r.off, 'off');
        const pseudo = PSEUDO_NAMES[r.src] ?? fail(`unknown 64-bit immediate kind src=${r.src}`);
        const imm = (BigInt(hi.imm >>> 0) << 32n) | BigInt(r.imm >>> 0);
        return { kind: 'lddw', dst: reg(r.dst, 'destination'), pseudo, imm };
      }
      if ((mode === MODE.ABS || mode === MODE.IND) && size === 8) fail('unknown opcode');
      if (mode === MODE.ABS) {
        zero(r.dst, 'dst'), zero(r.src, 'src'), zero(r.off, 'off');
        return { kind: 'ldabs', size, imm: r.imm };
      }
      if (mode === MODE.IND) {
        zero(r.dst, 'dst'), zero(r.off, 'off');
        return { kind: 'ldind', size, src: reg(r.src, 'source'), imm: r.imm };
      }
      return fail('unknown opcode');
    }
    case CLASS.LDX: {
      const mode = r.opcode & 0xe0;
      const size = SIZE_BYTES[r.opcode & 0x18];
      if (mode !== MODE.MEM && mode !== MODE.MEMSX) fail('unknown opcode');
      if (mode === MODE.MEMSX && size === 8) fail('unknown opcode');
      zero(r.imm, 'imm');
      return { kind: 'ldx', size, signExtend: mode === MODE.MEMSX, dst: reg(r.dst, 'destination'), src: reg(r.src, 'source'), off: r.off };
    }
    case CLASS.ST: {
      if ((r.opcode & 0xe0) !== MODE.MEM) fail('unknown opcode');
      zero(r.src, 'src');
      return { kind: 'st', size: SIZE_BYTES[r.opcode & 0x18], dst: reg(r.dst, 'destination'), off: r.off, imm: r.imm };
    }
    case CLASS.STX: {
      const mode = r.opcode & 0xe0;
      const size = SIZE_BYTES[r.opcode & 0x18];
      if (mode === MODE.MEM) {
        zero(r.imm, 'imm');
        return { kind: 'stx', size, dst: reg(r.dst, 'destination'), src: reg(r.src, 'source'), off: r.off };
      }
      if (mode === MODE.ATOMIC) {
        const a = ATOMIC_NAMES[r.imm] ?? fail(`unknown atomic operation 0x${(r.imm >>> 0).toString(16)}`);
        const ordered = a.op === 'load_acquire' || a.op === 'store_release';
        if (!ordered && size !== 4 && size !== 8) fail('atomic operation of size other than 4 or 8');
        return { kind: 'atomic', size, op: a.op, fetch: a.fetch, dst: reg(r.dst, 'destination'), src: reg(r.src, 'source'), off: r.off };
      }
      return fail('unknown opcode');
    }
  }
  return fail('unknown opcode');
}

type RegFn = (n: number, which: string) => Reg;
type ZeroFn = (value: number, field: string) => void;
type FailFn = (why: string) => never;

function decodeAlu(r: RawInsn, width: 32 | 64, reg: RegFn, zero: ZeroFn, fail: FailFn): Insn {
  const code = r.opcode & 0xf0;
  const isX = (r.opcode & SRC_X) !== 0;
  const dst = reg(r.dst, 'destination');
  const name = ALU_NAMES[code];
  if (code === ALU_OP.end) {
    zero(r.src, 'src'), zero(r.off, 'off');
    if (r.imm !== 16 && r.imm !== 32 && r.imm !== 64) fail(`invalid byte swap width ${r.imm}`);
    const bits = r.imm as 16 | 32 | 64;
    if (width === 64) {
      if (isX) fail('unknown opcode');
      return { kind: 'endian', order: 'swap', bits, dst };
    }
    return { kind: 'endian', order: isX ? 'be' : 'le', bits, dst };
  }
  if (code === ALU_OP.neg) {
    if (isX) fail('unknown opcode');
    zero(r.src, 'src'), zero(r.off, 'off'), zero(r.imm, 'imm');
    return { kind: 'neg', width, dst };
  }
  if (name === undefined) return fail('unknown opcode');
  let op = name as AluOp;
  if (code === ALU_OP.div || code === ALU_OP.mod) {
    if (r.off === 1) op = code === ALU_OP.div ? 'sdiv' : 'smod';
    else zero(r.off, 'off');
  } else if (code === ALU_OP.mov && isX && r.off !== 0) {
    if (r.off !== 8 && r.off !== 16 && !(r.off === 32 && width === 64)) fail(`invalid sign-extension width ${r.off}`);
    zero(r.imm, 'imm');
    return { kind: 'movsx', width, bits: r.off as 8 | 16 | 32, dst, src: reg(r.src, 'source') };
  } else {
    zero(r.off, 'off');
  }
  let src: Source;
  if (isX) {
    zero(r.imm, 'imm');
    src = reg(r.src, 'source');
  } else {
    zero(r.src, 'src');
    src = { imm: r.imm };
  }
  return { kind: 'alu', width, op, dst, src };
}

function decodeJmp(r: RawInsn, width: 32 | 64, reg: RegFn, zero: ZeroFn, fail: FailFn): Insn {
  const code = r.opcode & 0xf0;
  const isX = (r.opcode & SRC_X) !== 0;
  switch (code) {
    case JMP_OP.ja:
      if (isX) fail('unknown opcode');
      zero(r.dst, 'dst'), zero(r.src, 'src');
      if (width === 64) {
        zero(r.imm, 'imm');
        return { kind: 'ja', long: false, off: r.off };
      }
      zero(r.off, 'off');
      return { kind: 'ja', long: true, off: r.imm };
    case JMP_OP.call:
      if (width === 32) fail('unknown opcode');
      if (isX) {
        zero(r.src, 'src'), zero(r.off, 'off'), zero(r.imm, 'imm');
        return { kind: 'callx', dst: reg(r.dst, 'destination') };
      }
      zero(r.dst, 'dst');
      if (r.src === CALL_SRC.HELPER) {
        zero(r.off, 'off');
        return { kind: 'call', helper: r.imm };
      }
      if (r.src === CALL_SRC.LOCAL) {
        zero(r.off, 'off');
        return { kind: 'call_local', off: r.imm };
      }
      if (r.src === CALL_SRC.KFUNC) return { kind: 'call_kfunc', btfId: r.imm, module: r.off };
      return fail(`unknown call kind src=${r.src}`);
    case JMP_OP.exit:
      if (width === 32 || isX) fail('unknown opcode');
      zero(r.dst, 'dst'), zero(r.src, 'src'), zero(r.off, 'off'), zero(r.imm, 'imm');
      return { kind: 'exit' };
    case JMP_OP.jcond:
      if (width === 32 || isX) fail('unknown opcode');
      zero(r.dst, 'dst'), zero(r.src, 'src'), zero(r.imm, 'imm');
      return { kind: 'may_goto', off: r.off };
  }
  const cond = JMP_NAMES[code] as JmpCond | undefined;
  if (cond === undefined) return fail('unknown opcode');
  const dst = reg(r.dst, 'destination');
  let src: Source;
  if (isX) {
    zero(r.imm, 'imm');
    src = reg(r.src, 'source');
  } else {
    zero(r.src, 'src');
    src = { imm: r.imm };
  }
  return { kind: 'jmp', width, cond, dst, src, off: r.off };
}
