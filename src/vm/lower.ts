import { slotIndex, type AluOp, type AtomicOp, type Insn, type JmpCond, type Size } from '../isa/index.js';
import { VmProgramError } from './errors.js';
import { provenAccess, type VerifiedFacts } from './verified.js';

/**
 * The interpreter's private program form: the Insn[] lowered once into flat
 * typed arrays indexed by slot, with a dense operation number per slot so
 * the hot loop is one switch over small integers.
 *
 * Immediates become read-only "constant registers" (indices 11 and up in
 * the register file), so the register and immediate forms of an operation
 * share one code path: `src` always names a register-file entry.
 */
export const OP = {
  // ALU64, in AluOp order
  ADD64: 0, SUB64: 1, MUL64: 2, DIV64: 3, SDIV64: 4, OR64: 5, AND64: 6, LSH64: 7, RSH64: 8,
  MOD64: 9, SMOD64: 10, XOR64: 11, MOV64: 12, ARSH64: 13,
  // ALU (32-bit), same order
  ADD32: 14, SUB32: 15, MUL32: 16, DIV32: 17, SDIV32: 18, OR32: 19, AND32: 20, LSH32: 21, RSH32: 22,
  MOD32: 23, SMOD32: 24, XOR32: 25, MOV32: 26, ARSH32: 27,
  NEG64: 28, NEG32: 29,
  MOVSX64_8: 30, MOVSX64_16: 31, MOVSX64_32: 32, MOVSX32_8: 33, MOVSX32_16: 34,
  LE16: 35, LE32: 36, BE16: 37, BE32: 38, BE64: 39, NOP: 40,
  LDXB: 41, LDXH: 42, LDXW: 43, LDXDW: 44, LDXSB: 45, LDXSH: 46, LDXSW: 47,
  STXB: 48, STXH: 49, STXW: 50, STXDW: 51,
  ATOMIC: 52,
  // JMP (64-bit), in JmpCond order
  JEQ: 53, JGT: 54, JGE: 55, JSET: 56, JNE: 57, JSGT: 58, JSGE: 59, JLT: 60, JLE: 61, JSLT: 62, JSLE: 63,
  // JMP32, same order
  JEQ32: 64, JGT32: 65, JGE32: 66, JSET32: 67, JNE32: 68, JSGT32: 69, JSGE32: 70, JLT32: 71, JLE32: 72,
  JSLT32: 73, JSLE32: 74,
  JA: 75, CALL: 76, CALLX: 77, CALL_LOCAL: 78, CALL_KFUNC: 79, EXIT: 80, MAY_GOTO: 81, LDIND: 82,
  /** 64-bit immediate load: a move from a constant that also skips the second slot. */
  LDDW: 83,
  /** The slot after the last instruction, and the second slot of a 64-bit immediate load. */
  END: 84,
  // Loads and stores the verifier proved in bounds (see VerifiedFacts): same order as LDXB..STXDW, no region check.
  LDXB_U: 85, LDXH_U: 86, LDXW_U: 87, LDXDW_U: 88, LDXSB_U: 89, LDXSH_U: 90, LDXSW_U: 91,
  STXB_U: 92, STXH_U: 93, STXW_U: 94, STXDW_U: 95,
} as const;

/** Distance from a checked load/store operation to its unchecked twin. */
const UNCHECKED = OP.LDXB_U - OP.LDXB;

const ALU_ORDER: readonly AluOp[] = [
  'add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh',
];
const JMP_ORDER: readonly JmpCond[] = [
  'jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle',
];

/** Atomic sub-operations, stored in `aux2` with the access size. */
export const ATOMIC_CODE: Record<Exclude<AtomicOp, 'load_acquire' | 'store_release'>, number> = {
  add: 0, or: 1, and: 2, xor: 3, xchg: 4, cmpxchg: 5,
};
export const ATOMIC_FETCH = 8;

export interface Lowered {
  /** op | dst << 8 | src << 12 per slot: what the hot loop reads with one load. */
  readonly code: Int32Array;
  /** Operation per slot, plus one END slot. */
  readonly op: Uint8Array;
  readonly dst: Uint8Array;
  /** Register-file index of the source operand (register or constant). */
  readonly src: Uint16Array;
  /** Jump target (absolute slot), memory offset, helper id or packet offset. */
  readonly aux: Int32Array;
  /** Instruction ordinal of each slot (the END slot holds the instruction count). */
  readonly ord: Int32Array;
  /** Slot of each instruction ordinal. */
  readonly slotOf: Int32Array;
  /** Rare extras: atomic code and size, packet load size, kfunc module. */
  readonly aux2: Int32Array;
  /** Register file template: r0..r10 then the constants. */
  readonly constLo: Int32Array;
  readonly constHi: Int32Array;
  /** Number of slots of the program (END sits at this index). */
  readonly slots: number;
  /** False when nothing in the program can write memory (no store, atomic or call): its runs leave the stacks clean. */
  readonly writes: boolean;
  /** Entry slots of the functions named by lddw pseudo 'func' (callbacks helpers may call). */
  readonly callbacks: ReadonlySet<number>;
}

/** Number of real registers (r0..r10). */
export const NREGS = 11;

/**
 * The checks lower() makes, without lowering: throws the VmProgramError
 * lower() would for what cannot run (a jump or call outside the program or
 * into the second slot of a 64-bit immediate load, a register number out
 * of range, an unknown operation). The JIT validates with it. `at` is
 * slotIndex(insns). Plain functions, no closures per instruction: this
 * runs on every compile, mostly before V8 has optimized anything.
 */
export function validateProgram(insns: readonly Insn[], at: readonly number[]): void {
  const n = insns.length;
  const slots = at[n];
  // Only the second slots of 64-bit immediate loads are not instruction starts.
  let seconds: Uint8Array | undefined;
  for (let k = 0; k < n; k++) {
    if (insns[k].kind === 'lddw') (seconds ??= new Uint8Array(slots + 1))[at[k] + 1] = 1;
  }
  for (let k = 0; k < n; k++) checkInsn(insns[k], at[k], slots, seconds);
}

function checkInsn(insn: Insn, pc: number, slots: number, seconds: Uint8Array | undefined): void {
  switch (insn.kind) {
    case 'alu':
      if (!ALU_ORDER.includes(insn.op)) throw new VmProgramError(pc, `unknown ALU operation ${insn.op}`);
      checkReg(insn.dst, pc);
      if (typeof insn.src === 'number') checkReg(insn.src, pc);
      return;
    case 'neg': case 'endian': case 'st': case 'callx':
      checkReg(insn.dst, pc);
      return;
    case 'movsx':
      if (insn.width !== 64 && insn.bits !== 8 && insn.bits !== 16) throw new VmProgramError(pc, '32-bit movsx from 32 bits');
      checkReg(insn.dst, pc);
      checkReg(insn.src, pc);
      return;
    case 'lddw':
      if (insn.pseudo === 'func') checkTarget(pc, Number(BigInt.asIntN(32, insn.imm)), slots, seconds);
      checkReg(insn.dst, pc);
      return;
    case 'ldabs':
      return;
    case 'ldind':
      checkReg(insn.src, pc);
      return;
    case 'ldx':
      if (insn.signExtend && insn.size === 8) throw new VmProgramError(pc, 'sign-extending 8-byte load');
      checkReg(insn.dst, pc);
      checkReg(insn.src, pc);
      return;
    case 'stx':
      checkReg(insn.dst, pc);
      checkReg(insn.src, pc);
      return;
    case 'atomic':
      if (insn.op !== 'load_acquire' && insn.op !== 'store_release' && insn.size !== 4 && insn.size !== 8) {
        throw new VmProgramError(pc, `atomic ${insn.op} of size ${insn.size}`);
      }
      checkReg(insn.dst, pc);
      checkReg(insn.src, pc);
      return;
    case 'jmp':
      if (!JMP_ORDER.includes(insn.cond)) throw new VmProgramError(pc, `unknown jump condition ${insn.cond}`);
      checkReg(insn.dst, pc);
      if (typeof insn.src === 'number') checkReg(insn.src, pc);
      checkTarget(pc, insn.off, slots, seconds);
      return;
    case 'ja': case 'may_goto': case 'call_local':
      checkTarget(pc, insn.off, slots, seconds);
      return;
    case 'call': case 'call_kfunc': case 'exit':
      return;
    default:
      throw new VmProgramError(pc, `unknown instruction kind ${(insn as { kind: unknown }).kind as string}`);
  }
}

function checkReg(r: unknown, pc: number): void {
  if (!(typeof r === 'number' && Number.isInteger(r) && r >= 0 && r <= 10)) throw new VmProgramError(pc, `invalid register ${String(r)}`);
}

function checkTarget(pc: number, off: number, slots: number, seconds: Uint8Array | undefined): void {
  const t = pc + 1 + off;
  if (!Number.isInteger(off) || t < 0 || t >= slots) throw new VmProgramError(pc, `jump target ${t} is outside the program (0..${slots - 1})`);
  if (seconds !== undefined && seconds[t] === 1) throw new VmProgramError(pc, `jump into the second slot of the 64-bit immediate load at ${t - 1}`);
}

/**
 * Lower a program. Throws VmProgramError for what cannot run: a jump or call
 * outside the program or into the second slot of a 64-bit immediate load, a
 * register number out of range.
 */
export function lower(insns: readonly Insn[], verified?: VerifiedFacts): Lowered {
  const at = slotIndex(insns);
  const slots = at[insns.length];
  const op = new Uint8Array(slots + 1);
  const dst = new Uint8Array(slots + 1);
  const src = new Uint16Array(slots + 1);
  const aux = new Int32Array(slots + 1);
  const aux2 = new Int32Array(slots + 1);
  const isStart = new Uint8Array(slots + 1);
  for (const s of at.slice(0, insns.length)) isStart[s] = 1;

  const lo: number[] = [];
  const hi: number[] = [];
  const callbacks = new Set<number>();
  const callbackSlot = (t: number): number => {
    callbacks.add(t);
    return t;
  };
  const constIndex = new Map<string, number>();
  const constant = (l: number, h: number): number => {
    const key = `${l | 0}:${h | 0}`;
    let i = constIndex.get(key);
    if (i === undefined) {
      i = NREGS + lo.length;
      if (i > 0xffff) throw new VmProgramError(-1, 'too many distinct immediates');
      lo.push(l | 0);
      hi.push(h | 0);
      constIndex.set(key, i);
    }
    return i;
  };
  op.fill(OP.END);
  op[slots] = OP.END;

  insns.forEach((insn, index) => {
    const pc = at[index];
    const fail = (why: string): never => {
      throw new VmProgramError(pc, why);
    };
    const reg = (r: unknown): number => (typeof r === 'number' && Number.isInteger(r) && r >= 0 && r <= 10 ? r : fail(`invalid register ${String(r)}`));
    const target = (off: number): number => {
      const t = pc + 1 + off;
      if (!Number.isInteger(off) || t < 0 || t >= slots) fail(`jump target ${t} is outside the program (0..${slots - 1})`);
      if (!isStart[t]) fail(`jump into the second slot of the 64-bit immediate load at ${t - 1}`);
      return t;
    };
    const wide = (source: Insn & { src: unknown }, width: 32 | 64): number =>
      typeof source.src === 'number' ? reg(source.src) : constant((source.src as { imm: number }).imm, width === 64 ? ((source.src as { imm: number }).imm | 0) >> 31 : 0);
    const size = (s: Size, base: number): number => base + ({ 1: 0, 2: 1, 4: 2, 8: 3 } as const)[s];
    switch (insn.kind) {
      case 'alu': {
        const k = ALU_ORDER.indexOf(insn.op);
        if (k < 0) fail(`unknown ALU operation ${insn.op}`);
        op[pc] = (insn.width === 64 ? OP.ADD64 : OP.ADD32) + k;
        dst[pc] = reg(insn.dst);
        src[pc] = wide(insn, insn.width);
        break;
      }
      case 'neg':
        op[pc] = insn.width === 64 ? OP.NEG64 : OP.NEG32;
        dst[pc] = reg(insn.dst);
        break;
      case 'movsx':
        op[pc] = insn.width === 64
          ? (insn.bits === 8 ? OP.MOVSX64_8 : insn.bits === 16 ? OP.MOVSX64_16 : OP.MOVSX64_32)
          : (insn.bits === 8 ? OP.MOVSX32_8 : insn.bits === 16 ? OP.MOVSX32_16 : fail('32-bit movsx from 32 bits'));
        dst[pc] = reg(insn.dst);
        src[pc] = reg(insn.src);
        break;
      case 'endian':
        dst[pc] = reg(insn.dst);
        if (insn.order === 'le') op[pc] = insn.bits === 16 ? OP.LE16 : insn.bits === 32 ? OP.LE32 : OP.NOP;
        // On a little-endian machine, "to big endian" and "swap" are the same operation.
        else op[pc] = insn.bits === 16 ? OP.BE16 : insn.bits === 32 ? OP.BE32 : OP.BE64;
        break;
      case 'lddw': {
        // A function's address is its entry slot (the kernel's rule: the lddw's slot + imm + 1).
        const v = insn.pseudo === 'func' ? BigInt(callbackSlot(target(Number(BigInt.asIntN(32, insn.imm))))) : BigInt.asUintN(64, insn.imm);
        op[pc] = OP.LDDW;
        dst[pc] = reg(insn.dst);
        src[pc] = constant(Number(v & 0xffffffffn), Number(v >> 32n));
        op[pc + 1] = OP.END;
        break;
      }
      case 'ldabs':
      case 'ldind':
        op[pc] = OP.LDIND;
        src[pc] = insn.kind === 'ldind' ? reg(insn.src) : constant(0, 0);
        aux[pc] = insn.imm | 0;
        aux2[pc] = insn.size;
        break;
      case 'ldx':
        if (insn.signExtend && insn.size === 8) fail('sign-extending 8-byte load');
        op[pc] = size(insn.size, insn.signExtend ? OP.LDXSB : OP.LDXB);
        dst[pc] = reg(insn.dst);
        src[pc] = reg(insn.src);
        aux[pc] = insn.off | 0;
        break;
      case 'st':
        // A store of an immediate is a store from a constant register (the
        // immediate is sign-extended to 64 bits for 8-byte stores).
        op[pc] = size(insn.size, OP.STXB);
        dst[pc] = reg(insn.dst);
        src[pc] = constant(insn.imm, (insn.imm | 0) >> 31);
        aux[pc] = insn.off | 0;
        break;
      case 'stx':
        op[pc] = size(insn.size, OP.STXB);
        dst[pc] = reg(insn.dst);
        src[pc] = reg(insn.src);
        aux[pc] = insn.off | 0;
        break;
      case 'atomic':
        aux[pc] = insn.off | 0;
        if (insn.op === 'load_acquire') {
          op[pc] = size(insn.size, OP.LDXB);
          dst[pc] = reg(insn.dst);
          src[pc] = reg(insn.src);
        } else if (insn.op === 'store_release') {
          op[pc] = size(insn.size, OP.STXB);
          dst[pc] = reg(insn.dst);
          src[pc] = reg(insn.src);
        } else {
          if (insn.size !== 4 && insn.size !== 8) fail(`atomic ${insn.op} of size ${insn.size}`);
          op[pc] = OP.ATOMIC;
          dst[pc] = reg(insn.dst);
          src[pc] = reg(insn.src);
          aux2[pc] = ATOMIC_CODE[insn.op] | (insn.fetch ? ATOMIC_FETCH : 0) | (insn.size << 4);
        }
        break;
      case 'jmp': {
        const k = JMP_ORDER.indexOf(insn.cond);
        if (k < 0) fail(`unknown jump condition ${insn.cond}`);
        op[pc] = (insn.width === 64 ? OP.JEQ : OP.JEQ32) + k;
        dst[pc] = reg(insn.dst);
        src[pc] = wide(insn, insn.width);
        aux[pc] = target(insn.off);
        break;
      }
      case 'ja':
        op[pc] = OP.JA;
        aux[pc] = target(insn.off);
        break;
      case 'may_goto':
        op[pc] = OP.MAY_GOTO;
        aux[pc] = target(insn.off);
        break;
      case 'call':
        op[pc] = OP.CALL;
        aux[pc] = insn.helper | 0;
        break;
      case 'callx':
        op[pc] = OP.CALLX;
        dst[pc] = reg(insn.dst);
        break;
      case 'call_local':
        op[pc] = OP.CALL_LOCAL;
        aux[pc] = target(insn.off);
        break;
      case 'call_kfunc':
        op[pc] = OP.CALL_KFUNC;
        aux[pc] = insn.btfId | 0;
        aux2[pc] = insn.module | 0;
        break;
      case 'exit':
        op[pc] = OP.EXIT;
        break;
      default:
        fail(`unknown instruction kind ${(insn as { kind: unknown }).kind as string}`);
    }
  });
  if (verified !== undefined) {
    // Loads and stores proven in bounds on every path become their unchecked twins.
    for (let k = 0; k < insns.length; k++) {
      const pc = at[k];
      if (op[pc] >= OP.LDXB && op[pc] <= OP.STXDW && provenAccess(verified, pc)) op[pc] += UNCHECKED;
    }
  }
  const constLo = new Int32Array(NREGS + lo.length);
  const constHi = new Int32Array(NREGS + hi.length);
  constLo.set(lo, NREGS);
  constHi.set(hi, NREGS);
  const code = new Int32Array(slots + 1);
  for (let i = 0; i <= slots; i++) code[i] = op[i] | (dst[i] << 8) | (src[i] << 12);
  const ord = new Int32Array(slots + 1);
  const slotOf = new Int32Array(insns.length + 1);
  for (let k = 0; k <= insns.length; k++) {
    ord[at[k]] = k;
    slotOf[k] = at[k];
    if (k < insns.length && insns[k].kind === 'lddw') ord[at[k] + 1] = k + 1;
  }
  const writes = insns.some((x) => x.kind === 'st' || x.kind === 'stx' || x.kind === 'atomic' || x.kind === 'call' || x.kind === 'callx' || x.kind === 'call_kfunc');
  return { code, op, dst, src, aux, aux2, ord, slotOf, constLo, constHi, slots, writes, callbacks };
}
