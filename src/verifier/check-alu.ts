/**
 * Arithmetic instructions (check_alu_op, adjust_reg_min_max_vals,
 * adjust_ptr_min_max_vals): scalar range updates, the pointer arithmetic the
 * kernel allows, and the 64-bit immediate loads.
 */
import { Reject } from './errors.js';
import { isReg, type Insn } from '../isa/index.js';
import {
  S64_MAX, S64_MIN, boundsSync, coerceToSizeSx, copyScalar, knownScalar, mark32Unbounded, scalarAlu,
  unknownScalar, u64, zext32To64, type Scalar, type ScalarAluOp,
} from './bounds.js';
import { checkRegRead, checkRegWrite, findMap, newId, reject, setReg, type Env } from './env.js';
import {
  constReg, isPointer, mayBeNull, regTypeStr, scalarReg, unknownReg, type PtrState, type RegState,
} from './reg-state.js';
import type { VState } from './state.js';
import { subprogOf } from './cfg.js';
import { tnumAdd, tnumIsConst, tnumSub } from './tnum.js';

const ALU_STR: Record<string, string> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', or: '|=', and: '&=', lsh: '<<=', rsh: '>>=', neg: 'neg',
  mod: '%=', xor: '^=', mov: '=', arsh: 's>>=', sdiv: '/=', smod: '%=',
};

const BPF_MAX_VAR_OFF = 1n << 29n;

/** check_reg_sane_offset */
function saneOffset(env: Env, off: number, v: Scalar, ptr: PtrState): void {
  if (saneFast(off, v)) return;
  // Only a refusal needs the type's text.
  const ptrType = regTypeStr(ptr);
  const known = tnumIsConst(v.varOff);
  const val = BigInt.asIntN(64, v.varOff.value);
  if (known && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF)) reject(env, `math between ${ptrType} pointer and ${val} is not allowed`);
  if (off >= 1 << 29 || off <= -(1 << 29)) reject(env, `${ptrType} pointer offset ${off} is not allowed`);
  if (v.smin === S64_MIN) {
    reject(env, `math between ${ptrType} pointer and register with unbounded min value is not allowed`,
      'bound the scalar first (for example `if (x > N) return`), then add it to the pointer');
  }
  if (v.smin >= BPF_MAX_VAR_OFF || v.smin <= -BPF_MAX_VAR_OFF) reject(env, `value ${v.smin} makes ${ptrType} pointer be out of bounds`);
}

/** The common case of saneOffset, without building any message: small offsets and bounded values. */
function saneFast(off: number, v: Scalar): boolean {
  const val = BigInt.asIntN(64, v.varOff.value);
  return !(v.varOff.mask === 0n && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF)) &&
    off < 1 << 29 && off > -(1 << 29) && v.smin !== S64_MIN && v.smin < BPF_MAX_VAR_OFF && v.smin > -BPF_MAX_VAR_OFF;
}

function ptrArith(env: Env, insn: Extract<Insn, { kind: 'alu' }>, ptr: PtrState, off: Scalar, scalarIsDst: boolean): RegState {
  const op = insn.op;
  const dst = insn.dst;
  if (insn.width === 32) {
    if (op === 'sub') return unknownReg();
    reject(env, `R${dst} 32-bit pointer arithmetic prohibited`);
  }
  if (mayBeNull(ptr)) {
    reject(env, `R${dst} pointer arithmetic on ${regTypeStr(ptr)} prohibited, null-check it first`,
      'compare the pointer with 0 before using it');
  }
  const known = tnumIsConst(off.varOff);
  switch (ptr.type) {
    case 'ctx': case 'map_value': case 'map_key': case 'fp': case 'pkt': case 'pkt_meta': case 'mem':
      break;
    case 'map_ptr':
      if (known && off.smin === 0n && op === 'add') break;
      reject(env, `R${dst} pointer arithmetic on ${regTypeStr(ptr)} prohibited`);
      break;
    default:
      reject(env, `R${dst} pointer arithmetic on ${regTypeStr(ptr)} prohibited`);
  }
  saneOffset(env, 0, off, ptr);
  saneOffset(env, ptr.off, ptr.v, ptr);
  const pv = copyScalar(ptr.v);
  mark32Unbounded(pv);
  const smin = off.smin;
  const isPkt = ptr.type === 'pkt' || ptr.type === 'pkt_meta';
  let res: PtrState;
  switch (op) {
    case 'add': {
      const sum = ptr.off + Number(smin);
      if (known && sum === (sum | 0)) {
        res = { ...ptr, off: sum, v: pv };
        break;
      }
      const v = copyScalar(pv);
      const a = pv.smin + off.smin, b = pv.smax + off.smax;
      if (a < S64_MIN || a > S64_MAX || b < S64_MIN || b > S64_MAX) { v.smin = S64_MIN; v.smax = S64_MAX; } else { v.smin = a; v.smax = b; }
      const c = pv.umin + off.umin, d = pv.umax + off.umax;
      if (c > u64(-1n) || d > u64(-1n)) { v.umin = 0n; v.umax = u64(-1n); } else { v.umin = c; v.umax = d; }
      v.varOff = tnumAdd(pv.varOff, off.varOff);
      res = { ...ptr, v };
      if (isPkt) res = { ...res, id: newId(env), range: 0 } as PtrState;
      break;
    }
    case 'sub': {
      if (scalarIsDst) reject(env, `R${dst} tried to subtract pointer from scalar`);
      if (ptr.type === 'fp') reject(env, `R${dst} subtraction from stack pointer prohibited`);
      const diff = ptr.off - Number(smin);
      if (known && diff === (diff | 0)) {
        res = { ...ptr, off: diff, v: pv };
        break;
      }
      const v = copyScalar(pv);
      const a = pv.smin - off.smax, b = pv.smax - off.smin;
      if (a < S64_MIN || a > S64_MAX || b < S64_MIN || b > S64_MAX) { v.smin = S64_MIN; v.smax = S64_MAX; } else { v.smin = a; v.smax = b; }
      if (pv.umin < off.umax) { v.umin = 0n; v.umax = u64(-1n); } else { v.umin = pv.umin - off.umax; v.umax = pv.umax - off.umin; }
      v.varOff = tnumSub(pv.varOff, off.varOff);
      res = { ...ptr, v };
      if (isPkt) {
        res = { ...res, id: newId(env) } as PtrState;
        if (smin < 0n) res = { ...res, range: 0 } as PtrState;
      }
      break;
    }
    case 'and': case 'or': case 'xor':
      reject(env, `R${dst} bitwise operator ${ALU_STR[op]} on pointer prohibited`);
      break;
    default:
      reject(env, `R${dst} pointer arithmetic with ${ALU_STR[op]} operator prohibited`);
  }
  saneOffset(env, res!.off, res!.v, ptr);
  const v = copyScalar(res!.v);
  boundsSync(v);
  return { ...res!, v };
}

function checkMov(env: Env, s: VState, insn: Extract<Insn, { kind: 'alu' }>): void {
  const regsArr = s.frames[s.frames.length - 1].regs;
  if (isReg(insn.src)) {
    let src = checkRegRead(env, s, insn.src);
    checkRegWrite(env, insn.dst);
    if (insn.width === 64) {
      if (src.type === 'scalar' && !src.id && !tnumIsConst(src.v.varOff)) {
        src = { ...src, id: newId(env) };
        regsArr[insn.src] = src;
      }
      setReg(env, s, insn.dst, src);
      return;
    }
    if (src.type !== 'scalar') {
      setReg(env, s, insn.dst, unknownReg());
      const v = unknownScalar();
      zext32To64(v);
      boundsSync(v);
      setReg(env, s, insn.dst, scalarReg(v));
      return;
    }
    const fits = src.v.umax <= 0xffffffffn;
    if (fits && !src.id && !tnumIsConst(src.v.varOff)) {
      src = { ...src, id: newId(env) };
      regsArr[insn.src] = src;
    }
    const v = copyScalar(src.v);
    zext32To64(v);
    boundsSync(v);
    setReg(env, s, insn.dst, scalarReg(v, fits ? src.id : 0));
    return;
  }
  checkRegWrite(env, insn.dst);
  const imm = BigInt(insn.src.imm);
  setReg(env, s, insn.dst, constReg(insn.width === 64 ? imm : BigInt.asUintN(32, imm)));
}

export function checkAlu(env: Env, s: VState, insn: Insn): void {
  const regsArr = s.frames[s.frames.length - 1].regs;
  switch (insn.kind) {
    case 'alu': {
      if (insn.op === 'mov') return checkMov(env, s, insn);
      let src: RegState | undefined;
      if (isReg(insn.src)) src = checkRegRead(env, s, insn.src);
      const dst = checkRegRead(env, s, insn.dst);
      if (!isReg(insn.src)) {
        const imm = insn.src.imm;
        if ((insn.op === 'div' || insn.op === 'mod' || insn.op === 'sdiv' || insn.op === 'smod') && imm === 0) {
          throw rejectEinval(env, 'div by zero');
        }
        if ((insn.op === 'lsh' || insn.op === 'rsh' || insn.op === 'arsh') && (imm < 0 || imm >= insn.width)) {
          throw rejectEinval(env, `invalid shift ${imm}`);
        }
      }
      checkRegWrite(env, insn.dst);
      const srcScalar: Scalar = src === undefined ? knownScalar(BigInt((insn.src as { imm: number }).imm)) : src.type === 'scalar' ? src.v : unknownScalar();
      if (src !== undefined && isPointer(src)) {
        if (isPointer(dst)) {
          if (insn.op === 'sub') { setReg(env, s, insn.dst, unknownReg()); return; }
          reject(env, `R${insn.dst} pointer ${ALU_STR[insn.op]} pointer prohibited`);
        }
        if (dst.type === 'scalar') {
          setReg(env, s, insn.dst, ptrArith(env, insn, src, dst.v, true));
          return;
        }
      }
      if (isPointer(dst)) {
        setReg(env, s, insn.dst, ptrArith(env, insn, dst, srcScalar, false));
        return;
      }
      if (dst.type !== 'scalar') return;
      const v = scalarAlu(insn.op as ScalarAluOp, dst.v, srcScalar, insn.width);
      regsArr[insn.dst] = scalarReg(v);
      return;
    }
    case 'neg': {
      const dst = checkRegRead(env, s, insn.dst);
      checkRegWrite(env, insn.dst);
      const v = dst.type === 'scalar' ? scalarAlu('neg', dst.v, knownScalar(0n), insn.width) : unknownScalar();
      setReg(env, s, insn.dst, scalarReg(v));
      return;
    }
    case 'endian': {
      checkRegRead(env, s, insn.dst);
      checkRegWrite(env, insn.dst);
      setReg(env, s, insn.dst, unknownReg());
      return;
    }
    case 'movsx': {
      const src = checkRegRead(env, s, insn.src);
      checkRegWrite(env, insn.dst);
      if (src.type !== 'scalar') { setReg(env, s, insn.dst, unknownReg()); return; }
      const v = copyScalar(src.v);
      coerceToSizeSx(v, insn.bits / 8);
      if (insn.width === 32) { zext32To64(v); boundsSync(v); }
      setReg(env, s, insn.dst, scalarReg(v));
      return;
    }
    case 'lddw': {
      checkRegWrite(env, insn.dst);
      const lo = Number(BigInt.asIntN(32, insn.imm));
      const hi = Number(BigInt.asIntN(32, insn.imm >> 32n));
      switch (insn.pseudo) {
        case 'imm':
          setReg(env, s, insn.dst, constReg(insn.imm));
          return;
        case 'map_fd': case 'map_idx': case 'map_value': case 'map_idx_value': {
          const byIdx = insn.pseudo === 'map_idx' || insn.pseudo === 'map_idx_value';
          const map = byIdx ? env.maps[lo] : findMap(env, lo);
          if (!map) {
            throw rejectEinval(env, byIdx ? `fd_idx ${lo} is out of bounds` : `fd ${lo} is not pointing to valid bpf_map`);
          }
          if (insn.pseudo === 'map_fd' || insn.pseudo === 'map_idx') {
            setReg(env, s, insn.dst, { type: 'map_ptr', map, off: 0, v: knownScalar(0n), id: 0 });
          } else {
            if (hi < 0 || hi >= map.valueSize) throw rejectEinval(env, `invalid access to map value pointer, value_size=${map.valueSize} off=${hi}`);
            setReg(env, s, insn.dst, { type: 'map_value', map, off: hi, v: knownScalar(0n), id: 0, maybeNull: false });
          }
          return;
        }
        case 'func': {
          if (!env.btfFuncInfo) throw rejectEinval(env, 'missing btf func_info');
          const target = env.insnIdx + lo + 1;
          setReg(env, s, insn.dst, { type: 'func', off: 0, v: knownScalar(0n), id: 0, subprog: subprogOf(env.prog.subprogs, target) });
          return;
        }
        default:
          throw rejectEinval(env, `unsupported bpf_ld_imm64 kind '${insn.pseudo}'`);
      }
    }
    default:
      return;
  }
}


function rejectEinval(env: Env, msg: string): Reject {
  return new Reject(env.insnIdx, msg, undefined, 'EINVAL');
}

