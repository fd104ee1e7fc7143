/**
 * Conditional jumps (check_cond_jmp_op): branch prediction on known ranges
 * (is_branch_taken), range refinement of both outcomes (reg_set_min_max),
 * linked scalar copies, null checks (mark_ptr_or_null_regs) and packet range
 * discovery from comparisons with pkt_end (find_good_pkt_pointers).
 */
import { isReg, type Insn, type JmpCond } from '../isa/index.js';
import {
  boundsSync, copyScalar, isRegConst, knownScalar, markUnbounded, regConstValue, s32, u32, u64, type Scalar,
} from './bounds.js';
import { checkRegRead, type Env } from './env.js';
import {
  AT_PKT_END, BEYOND_PKT_END, constReg, isPointer, mayBeNull, regNotNull, type RegState,
} from './reg-state.js';
import { cloneState, curFrame, mapAllRegs, type VState } from './state.js';
import { tnumAnd, tnumConst, tnumIntersect, tnumIsConst, tnumOr, tnumSubreg, tnumWithSubreg } from './tnum.js';

type Op = JmpCond | 'jnset';

const FLIP: Record<JmpCond, JmpCond> = {
  jeq: 'jeq', jne: 'jne', jset: 'jset', jgt: 'jlt', jge: 'jle', jlt: 'jgt', jle: 'jge',
  jsgt: 'jslt', jsge: 'jsle', jslt: 'jsgt', jsle: 'jsge',
};
const REV: Record<JmpCond, Op> = {
  jeq: 'jne', jne: 'jeq', jset: 'jnset', jgt: 'jle', jge: 'jlt', jlt: 'jge', jle: 'jgt',
  jsgt: 'jsle', jsge: 'jslt', jslt: 'jsge', jsle: 'jsgt',
};

const MAX_PACKET_OFF = 0xffff;

function isPktBranchTaken(dst: RegState, src: RegState, op: JmpCond): number {
  let pkt: RegState;
  if (src.type === 'pkt_end') pkt = dst;
  else if (dst.type === 'pkt_end') { pkt = src; op = FLIP[op]; }
  else return -1;
  if (pkt.type !== 'pkt' && pkt.type !== 'pkt_meta') return -1;
  if (pkt.range >= 0) return -1;
  switch (op) {
    case 'jle': case 'jgt':
      if (pkt.range === BEYOND_PKT_END) return op === 'jgt' ? 1 : 0;
      break;
    case 'jlt': case 'jge':
      if (pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END) return op === 'jge' ? 1 : 0;
      break;
    default: break;
  }
  return -1;
}

function tnumOverlap(a: { value: bigint; mask: bigint }, b: { value: bigint; mask: bigint }): boolean {
  const mu = a.mask | b.mask;
  return ((a.value ^ b.value) & ~mu) === 0n;
}

function scalarBranchTaken(r1: Scalar, r2: Scalar, op: JmpCond, is32: boolean): number {
  let t1 = is32 ? tnumSubreg(r1.varOff) : r1.varOff;
  let t2 = is32 ? tnumSubreg(r2.varOff) : r2.varOff;
  const umin1 = is32 ? r1.u32min : r1.umin, umax1 = is32 ? r1.u32max : r1.umax;
  const umin2 = is32 ? r2.u32min : r2.umin, umax2 = is32 ? r2.u32max : r2.umax;
  const smin1 = is32 ? r1.s32min : r1.smin, smax1 = is32 ? r1.s32max : r1.smax;
  const smin2 = is32 ? r2.s32min : r2.smin, smax2 = is32 ? r2.s32max : r2.smax;
  switch (op) {
    case 'jeq': case 'jne': {
      const eq = op === 'jeq' ? 1 : 0;
      if (tnumIsConst(t1) && tnumIsConst(t2)) return t1.value === t2.value ? eq : 1 - eq;
      if (!tnumOverlap(t1, t2)) return 1 - eq;
      if (umin1 > umax2 || umax1 < umin2) return 1 - eq;
      if (smin1 > smax2 || smax1 < smin2) return 1 - eq;
      if (!is32) {
        if (r1.u32min > r2.u32max || r1.u32max < r2.u32min) return 1 - eq;
        if (r1.s32min > r2.s32max || r1.s32max < r2.s32min) return 1 - eq;
      }
      return -1;
    }
    case 'jset': {
      if (!isRegConst(r2, is32)) { [r1, r2] = [r2, r1]; [t1, t2] = [t2, t1]; }
      if (!isRegConst(r2, is32)) return -1;
      if ((~t1.mask & t1.value & t2.value) !== 0n) return 1;
      if (((t1.mask | t1.value) & t2.value) === 0n) return 0;
      return -1;
    }
    case 'jgt': return umin1 > umax2 ? 1 : umax1 <= umin2 ? 0 : -1;
    case 'jsgt': return smin1 > smax2 ? 1 : smax1 <= smin2 ? 0 : -1;
    case 'jlt': return umax1 < umin2 ? 1 : umin1 >= umax2 ? 0 : -1;
    case 'jslt': return smax1 < smin2 ? 1 : smin1 >= smax2 ? 0 : -1;
    case 'jge': return umin1 >= umax2 ? 1 : umax1 < umin2 ? 0 : -1;
    case 'jsge': return smin1 >= smax2 ? 1 : smax1 < smin2 ? 0 : -1;
    case 'jle': return umax1 <= umin2 ? 1 : umin1 > umax2 ? 0 : -1;
    case 'jsle': return smax1 <= smin2 ? 1 : smin1 > smax2 ? 0 : -1;
  }
}

const pkt = (r: RegState): boolean => r.type === 'pkt' || r.type === 'pkt_meta' || r.type === 'pkt_end';

/** is_branch_taken: 1 always, 0 never, -1 unknown. */
export function isBranchTaken(r1: RegState, r2: RegState, op: JmpCond, is32: boolean): number {
  if (pkt(r1) && pkt(r2) && !is32) return isPktBranchTaken(r1, r2, op);
  if (isPointer(r1) || isPointer(r2)) {
    if (!(r2.type === 'scalar' && isRegConst(r2.v, is32))) { op = FLIP[op]; [r1, r2] = [r2, r1]; }
    if (!(r2.type === 'scalar' && isRegConst(r2.v, is32))) return -1;
    if (regConstValue(r2.v, is32) !== 0n) return -1;
    if (!regNotNull(r1)) return -1;
    return op === 'jeq' ? 0 : op === 'jne' ? 1 : -1;
  }
  if (r1.type !== 'scalar' || r2.type !== 'scalar') return -1;
  return scalarBranchTaken(r1.v, r2.v, op, is32);
}

const mx = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const mn = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** regs_refine_cond_op: narrow both operands assuming `op` holds. */
function refine(r1: Scalar, r2: Scalar, op: Op, is32: boolean): void {
  if (op === 'jge' || op === 'jgt' || op === 'jsge' || op === 'jsgt') {
    op = FLIP[op];
    [r1, r2] = [r2, r1];
  }
  switch (op) {
    case 'jeq':
      if (is32) {
        r1.u32min = mx(r1.u32min, r2.u32min); r1.u32max = mn(r1.u32max, r2.u32max);
        r1.s32min = mx(r1.s32min, r2.s32min); r1.s32max = mn(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min; r2.u32max = r1.u32max; r2.s32min = r1.s32min; r2.s32max = r1.s32max;
        const t = tnumIntersect(tnumSubreg(r1.varOff), tnumSubreg(r2.varOff));
        r1.varOff = tnumWithSubreg(r1.varOff, t);
        r2.varOff = tnumWithSubreg(r2.varOff, t);
      } else {
        r1.umin = mx(r1.umin, r2.umin); r1.umax = mn(r1.umax, r2.umax);
        r1.smin = mx(r1.smin, r2.smin); r1.smax = mn(r1.smax, r2.smax);
        r2.umin = r1.umin; r2.umax = r1.umax; r2.smin = r1.smin; r2.smax = r1.smax;
        r1.varOff = tnumIntersect(r1.varOff, r2.varOff);
        r2.varOff = r1.varOff;
      }
      break;
    case 'jne': {
      if (!isRegConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, is32)) break;
      const val = regConstValue(r2, is32);
      if (is32) {
        if (r1.u32min === u32(val)) r1.u32min++;
        if (r1.u32max === u32(val)) r1.u32max--;
        if (r1.s32min === s32(val)) r1.s32min++;
        if (r1.s32max === s32(val)) r1.s32max--;
      } else {
        if (r1.umin === u64(val)) r1.umin++;
        if (r1.umax === u64(val)) r1.umax--;
        if (r1.smin === BigInt.asIntN(64, val)) r1.smin++;
        if (r1.smax === BigInt.asIntN(64, val)) r1.smax--;
      }
      break;
    }
    case 'jset': {
      if (!isRegConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, is32)) break;
      const val = regConstValue(r2, is32);
      if (val === 0n || (val & (val - 1n)) !== 0n) break;
      if (is32) r1.varOff = tnumWithSubreg(r1.varOff, tnumOr(tnumSubreg(r1.varOff), tnumConst(val)));
      else r1.varOff = tnumOr(r1.varOff, tnumConst(val));
      break;
    }
    case 'jnset': {
      if (!isRegConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, is32)) break;
      const val = regConstValue(r2, is32);
      markUnbounded(r1);
      if (is32) r1.varOff = tnumWithSubreg(r1.varOff, tnumAnd(tnumSubreg(r1.varOff), tnumConst(u32(~val))));
      else r1.varOff = tnumAnd(r1.varOff, tnumConst(u64(~val)));
      break;
    }
    case 'jle':
      if (is32) { r1.u32max = mn(r1.u32max, r2.u32max); r2.u32min = mx(r1.u32min, r2.u32min); }
      else { r1.umax = mn(r1.umax, r2.umax); r2.umin = mx(r1.umin, r2.umin); }
      break;
    case 'jlt':
      if (is32) { r1.u32max = mn(r1.u32max, u32(r2.u32max - 1n)); r2.u32min = mx(u32(r1.u32min + 1n), r2.u32min); }
      else { r1.umax = mn(r1.umax, u64(r2.umax - 1n)); r2.umin = mx(u64(r1.umin + 1n), r2.umin); }
      break;
    case 'jsle':
      if (is32) { r1.s32max = mn(r1.s32max, r2.s32max); r2.s32min = mx(r1.s32min, r2.s32min); }
      else { r1.smax = mn(r1.smax, r2.smax); r2.smin = mx(r1.smin, r2.smin); }
      break;
    case 'jslt':
      if (is32) { r1.s32max = mn(r1.s32max, s32(r2.s32max - 1n)); r2.s32min = mx(s32(r1.s32min + 1n), r2.s32min); }
      else { r1.smax = mn(r1.smax, BigInt.asIntN(64, r2.smax - 1n)); r2.smin = mx(BigInt.asIntN(64, r1.smin + 1n), r2.smin); }
      break;
    default:
      break;
  }
}

/** Copy the refined range of a scalar to every register sharing its id (sync_linked_regs). */
function syncLinked(s: VState, id: number, v: Scalar, live: number): void {
  if (!id) return;
  const cur = curFrame(s);
  // Copies in dead registers are left alone (the kernel consults its liveness analysis).
  const dead = cur.regs.map((r, i) => (i < 10 && !(live & (1 << i)) ? r : undefined));
  mapAllRegs(s, (r) => (r.type === 'scalar' && r.id === id ? { ...r, v } : r));
  dead.forEach((r, i) => { if (r) cur.regs[i] = r; });
}

function findGoodPktPointers(s: VState, dst: RegState, rightOpen: boolean): void {
  if (dst.type !== 'pkt' && dst.type !== 'pkt_meta') return;
  if (dst.off < 0 || (dst.off === 0 && rightOpen)) return;
  if (dst.v.umax > BigInt(MAX_PACKET_OFF) || dst.v.umax + BigInt(dst.off) > BigInt(MAX_PACKET_OFF)) return;
  const newRange = dst.off + (rightOpen ? 1 : 0);
  const { type, id } = dst;
  mapAllRegs(s, (r) => (r.type === type && r.id === id && r.range < newRange ? { ...r, range: newRange } : r));
}

function markPktEnd(s: VState, regno: number, rangeOpen: boolean): void {
  const rs = curFrame(s).regs;
  const r = rs[regno];
  if (r.type !== 'pkt') return;
  rs[regno] = { ...r, range: rangeOpen ? BEYOND_PKT_END : AT_PKT_END };
}

function isInitPkt(r: RegState): boolean {
  return r.type === 'pkt' && r.off === 0 && tnumIsConst(r.v.varOff) && r.v.varOff.value === 0n;
}

/** try_match_pkt_pointers: this = fall-through state, other = jump-taken state. */
function matchPktPointers(insn: Extract<Insn, { kind: 'jmp' }>, dst: RegState, src: RegState, thisB: VState, otherB: VState): boolean {
  if (!isReg(insn.src) || insn.width === 32) return false;
  const fwd = (dst.type === 'pkt' && src.type === 'pkt_end') || (dst.type === 'pkt_meta' && isInitPkt(src));
  const rev = (dst.type === 'pkt_end' && src.type === 'pkt') || (isInitPkt(dst) && src.type === 'pkt_meta');
  switch (insn.cond) {
    case 'jgt':
      if (fwd) { findGoodPktPointers(thisB, dst, false); markPktEnd(otherB, insn.dst, true); }
      else if (rev) { findGoodPktPointers(otherB, src, true); markPktEnd(thisB, insn.src, false); }
      else return false;
      return true;
    case 'jlt':
      if (fwd) { findGoodPktPointers(otherB, dst, true); markPktEnd(thisB, insn.dst, false); }
      else if (rev) { findGoodPktPointers(thisB, src, false); markPktEnd(otherB, insn.src, true); }
      else return false;
      return true;
    case 'jge':
      if (fwd) { findGoodPktPointers(thisB, dst, true); markPktEnd(otherB, insn.dst, false); }
      else if (rev) { findGoodPktPointers(otherB, src, false); markPktEnd(thisB, insn.src, true); }
      else return false;
      return true;
    case 'jle':
      if (fwd) { findGoodPktPointers(otherB, dst, false); markPktEnd(thisB, insn.dst, true); }
      else if (rev) { findGoodPktPointers(thisB, src, true); markPktEnd(otherB, insn.src, false); }
      else return false;
      return true;
    default:
      return false;
  }
}

/** mark_ptr_or_null_regs: resolve every copy of a maybe-null pointer. */
export function markPtrOrNull(s: VState, id: number, isNull: boolean, refObjId: number): void {
  if (!id) return;
  if (isNull && refObjId && refObjId === id) s.refs = s.refs.filter((r) => r.id !== id);
  mapAllRegs(s, (r) => {
    if (!mayBeNull(r) || r.type === 'not_init' || r.type === 'scalar' || r.id !== id) return r;
    if (isNull) return constReg(0n);
    if (r.type === 'map_value' || r.type === 'map_key' || r.type === 'mem') return { ...r, maybeNull: false, id: 0 };
    return r;
  });
}

export type JmpOutcome =
  | { readonly kind: 'fall' }
  | { readonly kind: 'jump' }
  | { readonly kind: 'both'; readonly other: VState };

/** Check a conditional jump; refines `s` in place as the fall-through state. */
export function checkCondJmp(env: Env, s: VState, insn: Extract<Insn, { kind: 'jmp' }>): JmpOutcome {
  const is32 = insn.width === 32;
  const dstReg = checkRegRead(env, s, insn.dst);
  let srcReg: RegState;
  if (isReg(insn.src)) srcReg = checkRegRead(env, s, insn.src);
  else srcReg = { type: 'scalar', v: knownScalar(BigInt(insn.src.imm)), id: 0, precise: false };
  const pred = isBranchTaken(dstReg, srcReg, insn.cond, is32);
  if (pred === 1) return { kind: 'jump' };
  if (pred === 0) return { kind: 'fall' };

  const other = cloneState(s);
  const liveFall = env.prog.liveIn[env.insnIdx + 1] ?? 0x3ff;
  const liveJump = env.prog.liveIn[env.insnIdx + insn.off + 1] ?? 0x3ff;
  const thisRegs = curFrame(s).regs;
  const otherRegs = curFrame(other).regs;
  if (dstReg.type === 'scalar' && srcReg.type === 'scalar') {
    const fd = copyScalar(dstReg.v), fs = copyScalar(srcReg.v);
    refine(fd, fs, REV[insn.cond], is32);
    boundsSync(fd); boundsSync(fs);
    const td = copyScalar(dstReg.v), ts = copyScalar(srcReg.v);
    refine(td, ts, insn.cond, is32);
    boundsSync(td); boundsSync(ts);
    thisRegs[insn.dst] = { ...dstReg, v: fd };
    otherRegs[insn.dst] = { ...dstReg, v: td };
    if (isReg(insn.src)) {
      if (insn.src !== insn.dst) {
        thisRegs[insn.src] = { ...srcReg, v: fs };
        otherRegs[insn.src] = { ...srcReg, v: ts };
      }
      if (srcReg.id) { syncLinked(s, srcReg.id, fs, liveFall); syncLinked(other, srcReg.id, ts, liveJump); }
    }
    if (dstReg.id) { syncLinked(s, dstReg.id, fd, liveFall); syncLinked(other, dstReg.id, td, liveJump); }
  }
  if (!is32 && !isReg(insn.src) && insn.src.imm === 0 && (insn.cond === 'jeq' || insn.cond === 'jne') && mayBeNull(dstReg)) {
    const ref = dstReg.type === 'mem' ? dstReg.refObjId : 0;
    markPtrOrNull(s, dstReg.type === 'not_init' ? 0 : dstReg.id, insn.cond === 'jne', ref);
    markPtrOrNull(other, dstReg.type === 'not_init' ? 0 : dstReg.id, insn.cond === 'jeq', ref);
  } else {
    matchPktPointers(insn, dstReg, srcReg, s, other);
  }
  return { kind: 'both', other };
}
