/**
 * Scalar value tracking: a tnum plus signed/unsigned 64-bit and 32-bit
 * ranges, with the kernel's refinement rules (reg_bounds_sync and friends)
 * and its per-operation range arithmetic (adjust_scalar_min_max_vals).
 * Values are bigints: u64 in [0, 2^64), s64 in [-2^63, 2^63), likewise 32.
 */
import {
  TNUM_UNKNOWN, U32, U64, tnumAdd, tnumAnd, tnumArshift, tnumClearSubreg, tnumConst, tnumConstSubreg,
  tnumIntersect, tnumIsConst, tnumLshift, tnumMul, tnumNeg, tnumOr, tnumRange, tnumRshift, tnumSub,
  tnumSubreg, tnumXor, type Tnum,
} from './tnum.js';

export interface Scalar {
  varOff: Tnum;
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: bigint;
  s32max: bigint;
  u32min: bigint;
  u32max: bigint;
}

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;

export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
export const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export const copyScalar = (s: Scalar): Scalar => ({ ...s });

export function unknownScalar(): Scalar {
  return {
    varOff: TNUM_UNKNOWN, smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64,
    s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: U32,
  };
}

/** A scalar known to be exactly v (interpreted as 64 bits). */
export function knownScalar(v: bigint): Scalar {
  const u = u64(v);
  return {
    varOff: tnumConst(u), smin: s64(u), smax: s64(u), umin: u, umax: u,
    s32min: s32(u), s32max: s32(u), u32min: u32(u), u32max: u32(u),
  };
}

export function markKnown(r: Scalar, v: bigint): void {
  Object.assign(r, knownScalar(v));
}

export function mark32Known(r: Scalar, v: bigint): void {
  r.varOff = tnumConstSubreg(r.varOff, u32(v));
  r.s32min = r.s32max = s32(v);
  r.u32min = r.u32max = u32(v);
}

export function mark64Unbounded(r: Scalar): void {
  r.smin = S64_MIN; r.smax = S64_MAX; r.umin = 0n; r.umax = U64;
}

export function mark32Unbounded(r: Scalar): void {
  r.s32min = S32_MIN; r.s32max = S32_MAX; r.u32min = 0n; r.u32max = U32;
}

export function markUnbounded(r: Scalar): void {
  mark64Unbounded(r);
  mark32Unbounded(r);
}

export const isConst = (r: Scalar): boolean => tnumIsConst(r.varOff);
export const isConst32 = (r: Scalar): boolean => tnumIsConst(tnumSubreg(r.varOff));
/** The kernel's is_reg_const for a 32- or 64-bit comparison. */
export const isRegConst = (r: Scalar, is32: boolean): boolean => (is32 ? isConst32(r) : isConst(r));
export const regConstValue = (r: Scalar, is32: boolean): bigint => (is32 ? u32(r.varOff.value) : r.varOff.value);

function updateReg32Bounds(r: Scalar): void {
  const v = tnumSubreg(r.varOff);
  r.s32min = max(r.s32min, s32(v.value | (v.mask & 0x80000000n)));
  r.s32max = min(r.s32max, s32(v.value | (v.mask & 0x7fffffffn)));
  r.u32min = max(r.u32min, v.value);
  r.u32max = min(r.u32max, v.value | v.mask);
}

function updateReg64Bounds(r: Scalar): void {
  const v = r.varOff;
  r.smin = max(r.smin, s64(v.value | (v.mask & (1n << 63n))));
  r.smax = min(r.smax, s64(v.value | (v.mask & S64_MAX)));
  r.umin = max(r.umin, v.value);
  r.umax = min(r.umax, v.value | v.mask);
}

export function updateRegBounds(r: Scalar): void {
  updateReg32Bounds(r);
  updateReg64Bounds(r);
}

function reg32DeduceBounds(r: Scalar): void {
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = max(r.u32min, u32(r.umin));
    r.u32max = min(r.u32max, u32(r.umax));
    if (s32(r.umin) <= s32(r.umax)) {
      r.s32min = max(r.s32min, s32(r.umin));
      r.s32max = min(r.s32max, s32(r.umax));
    }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    if (u32(r.smin) <= u32(r.smax)) {
      r.u32min = max(r.u32min, u32(r.smin));
      r.u32max = min(r.u32max, u32(r.smax));
    }
    if (s32(r.smin) <= s32(r.smax)) {
      r.s32min = max(r.s32min, s32(r.smin));
      r.s32max = min(r.s32max, s32(r.smax));
    }
  }
  // Upper halves two consecutive numbers while the low halves cross zero.
  if (u32(u32(r.umin >> 32n) + 1n) === u32(r.umax >> 32n) && s32(r.umin) < 0n && s32(r.umax) >= 0n) {
    r.s32min = max(r.s32min, s32(r.umin));
    r.s32max = min(r.s32max, s32(r.umax));
  }
  if (u32(u32(r.smin >> 32n) + 1n) === u32(r.smax >> 32n) && s32(r.smin) < 0n && s32(r.smax) >= 0n) {
    r.s32min = max(r.s32min, s32(r.smin));
    r.s32max = min(r.s32max, s32(r.smax));
  }
  if (s32(r.u32min) <= s32(r.u32max)) {
    r.s32min = max(r.s32min, s32(r.u32min));
    r.s32max = min(r.s32max, s32(r.u32max));
  }
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.u32min = max(r.u32min, u32(r.s32min));
    r.u32max = min(r.u32max, u32(r.s32max));
  }
}

function reg64DeduceBounds(r: Scalar): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = max(r.smin, s64(r.umin));
    r.smax = min(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = max(r.umin, u64(r.smin));
    r.umax = min(r.umax, u64(r.smax));
  }
}

function regDeduceMixedBounds(r: Scalar): void {
  const HI = U64 ^ U32;
  let nmin = (r.umin & HI) | r.u32min;
  let nmax = (r.umax & HI) | r.u32max;
  r.umin = max(r.umin, nmin);
  r.umax = min(r.umax, nmax);
  nmin = s64((u64(r.smin) & HI) | r.u32min);
  nmax = s64((u64(r.smax) & HI) | r.u32max);
  r.smin = max(r.smin, nmin);
  r.smax = min(r.smax, nmax);
  if (u32(r.s32min) <= u32(r.s32max)) {
    nmin = (r.umin & HI) | u32(r.s32min);
    nmax = (r.umax & HI) | u32(r.s32max);
    r.umin = max(r.umin, nmin);
    r.umax = min(r.umax, nmax);
    nmin = s64((u64(r.smin) & HI) | u32(r.s32min));
    nmax = s64((u64(r.smax) & HI) | u32(r.s32max));
    r.smin = max(r.smin, nmin);
    r.smax = min(r.smax, nmax);
  }
  // After a sign-extending load: upper bits all ones or all zeros, low half non-negative.
  if (r.s32min >= 0n && r.smin >= S32_MIN && r.smax <= S32_MAX) {
    r.smin = r.s32min;
    r.smax = r.s32max;
    r.umin = u64(r.s32min);
    r.umax = u64(r.s32max);
    r.varOff = tnumIntersect(r.varOff, tnumRange(u64(r.smin), u64(r.smax)));
  }
}

function regDeduceBounds(r: Scalar): void {
  reg32DeduceBounds(r);
  reg64DeduceBounds(r);
  regDeduceMixedBounds(r);
}

function regBoundOffset(r: Scalar): void {
  const var64 = tnumIntersect(r.varOff, tnumRange(r.umin, r.umax));
  const var32 = tnumIntersect(tnumSubreg(var64), tnumRange(r.u32min, r.u32max));
  r.varOff = tnumOr(tnumClearSubreg(var64), var32);
}

/** reg_bounds_sync: let the tnum and the four ranges inform each other. */
export function boundsSync(r: Scalar): void {
  // Fast paths (exact): a constant whose ranges all hold it collapses to that
  // constant; a fully unknown value with full ranges learns nothing.
  const t = r.varOff;
  if (t.mask === 0n) {
    const v = t.value, sv = s64(v), v32 = u32(v), sv32 = s32(v);
    if (r.umin <= v && v <= r.umax && r.smin <= sv && sv <= r.smax && r.u32min <= v32 && v32 <= r.u32max && r.s32min <= sv32 && sv32 <= r.s32max) {
      r.umin = r.umax = v; r.smin = r.smax = sv; r.u32min = r.u32max = v32; r.s32min = r.s32max = sv32;
      return;
    }
  } else if (isUnbounded(r)) {
    return;
  }
  updateRegBounds(r);
  regDeduceBounds(r);
  regDeduceBounds(r);
  regBoundOffset(r);
  updateRegBounds(r);
}

/** True when the ranges are contradictory (a dead branch). */
export function boundsInvalid(r: Scalar): boolean {
  return r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max;
}

/** Zero-extend the 32-bit result of an ALU32 operation (zext_32_to_64). */
export function zext32To64(r: Scalar): void {
  r.varOff = tnumSubreg(r.varOff);
  r.umin = r.u32min;
  r.umax = r.u32max;
  if (r.s32min >= 0n && r.s32max >= 0n) {
    r.smin = r.s32min;
    r.smax = r.s32max;
  } else {
    r.smin = 0n;
    r.smax = U32;
  }
}

/** Truncate to `size` bytes (coerce_reg_to_size), as after a narrow load. */
/** Fully unknown: every bit unknown and every range full. */
function isUnbounded(r: Scalar): boolean {
  return r.varOff.mask === U64 && r.umin === 0n && r.umax === U64 && r.smin === S64_MIN && r.smax === S64_MAX &&
    r.u32min === 0n && r.u32max === U32 && r.s32min === S32_MIN && r.s32max === S32_MAX;
}

/** coerceToSize of a fully unknown value, per size: every narrow load starts from one, so it is computed once. */
const unknownCoerced = new Map<number, Scalar>();

export function coerceToSize(r: Scalar, size: number): void {
  if (size >= 8) return;
  if (isUnbounded(r)) {
    let c = unknownCoerced.get(size);
    if (!c) {
      c = unknownScalar();
      coerceToSizeSlow(c, size);
      unknownCoerced.set(size, c);
    }
    Object.assign(r, c);
    return;
  }
  coerceToSizeSlow(r, size);
}

function coerceToSizeSlow(r: Scalar, size: number): void {
  r.varOff = { value: r.varOff.value & ((1n << BigInt(size * 8)) - 1n), mask: r.varOff.mask & ((1n << BigInt(size * 8)) - 1n) };
  const m = (1n << BigInt(size * 8)) - 1n;
  if ((r.umin & ~m) === (r.umax & ~m)) {
    r.umin &= m;
    r.umax &= m;
  } else {
    r.umin = 0n;
    r.umax = m;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  // Narrower than 32 bits: the 32-bit ranges are recomputed from the 64-bit ones.
  if (size < 4) mark32Unbounded(r);
  boundsSync(r);
}

/** Sign-extend from `size` bytes (coerce_reg_to_size_sx), as after movsx or ldsx. */
export function coerceToSizeSx(r: Scalar, size: number): void {
  const bits = BigInt(size * 8);
  if (isConst(r)) {
    markKnown(r, u64(BigInt.asIntN(Number(bits), r.varOff.value)));
    return;
  }
  const lo = -(1n << (bits - 1n));
  const hi = (1n << (bits - 1n)) - 1n;
  const m = (1n << bits) - 1n;
  const sameTop = (r.smin >> bits) === (r.smax >> bits) || (r.umin >> bits) === (r.umax >> bits);
  const a = BigInt.asIntN(Number(bits), r.smin & m);
  const b = BigInt.asIntN(Number(bits), r.smax & m);
  let smin = lo, smax = hi;
  if (sameTop && a <= b && (r.smin >> bits) === (r.smax >> bits)) { smin = a; smax = b; }
  Object.assign(r, unknownScalar());
  r.smin = smin;
  r.smax = smax;
  if (smin >= 0n || smax < 0n) { r.umin = u64(smin); r.umax = u64(smax); }
  if (size < 4 || (smin >= S32_MIN && smax <= S32_MAX)) {
    r.s32min = smin; r.s32max = smax;
  }
  boundsSync(r);
}

// ---- ALU range arithmetic (scalar{32,}_min_max_*) ----

const inS = (v: bigint, bits: 32 | 64): boolean => v >= -(1n << BigInt(bits - 1)) && v <= (1n << BigInt(bits - 1)) - 1n;
const inU = (v: bigint, bits: 32 | 64): boolean => v >= 0n && v <= (1n << BigInt(bits)) - 1n;

function add32(d: Scalar, s: Scalar): void {
  const a = d.s32min + s.s32min, b = d.s32max + s.s32max;
  if (!inS(a, 32) || !inS(b, 32)) { d.s32min = S32_MIN; d.s32max = S32_MAX; } else { d.s32min = a; d.s32max = b; }
  const c = d.u32min + s.u32min, e = d.u32max + s.u32max;
  const minOv = !inU(c, 32), maxOv = !inU(e, 32);
  d.u32min = u32(c); d.u32max = u32(e);
  if (!minOv && maxOv) { d.u32min = 0n; d.u32max = U32; }
}

function add64(d: Scalar, s: Scalar): void {
  const a = d.smin + s.smin, b = d.smax + s.smax;
  if (!inS(a, 64) || !inS(b, 64)) { d.smin = S64_MIN; d.smax = S64_MAX; } else { d.smin = a; d.smax = b; }
  const c = d.umin + s.umin, e = d.umax + s.umax;
  const minOv = !inU(c, 64), maxOv = !inU(e, 64);
  d.umin = u64(c); d.umax = u64(e);
  if (!minOv && maxOv) { d.umin = 0n; d.umax = U64; }
}

function sub32(d: Scalar, s: Scalar): void {
  const a = d.s32min - s.s32max, b = d.s32max - s.s32min;
  if (!inS(a, 32) || !inS(b, 32)) { d.s32min = S32_MIN; d.s32max = S32_MAX; } else { d.s32min = a; d.s32max = b; }
  const c = d.u32min - s.u32max, e = d.u32max - s.u32min;
  const minUf = c < 0n, maxUf = e < 0n;
  d.u32min = u32(c); d.u32max = u32(e);
  if (minUf && !maxUf) { d.u32min = 0n; d.u32max = U32; }
}

function sub64(d: Scalar, s: Scalar): void {
  const a = d.smin - s.smax, b = d.smax - s.smin;
  if (!inS(a, 64) || !inS(b, 64)) { d.smin = S64_MIN; d.smax = S64_MAX; } else { d.smin = a; d.smax = b; }
  const c = d.umin - s.umax, e = d.umax - s.umin;
  const minUf = c < 0n, maxUf = e < 0n;
  d.umin = u64(c); d.umax = u64(e);
  if (minUf && !maxUf) { d.umin = 0n; d.umax = U64; }
}

function mul32(d: Scalar, s: Scalar): void {
  const a = d.u32max * s.u32max, b = d.u32min * s.u32min;
  if (!inU(a, 32) || !inU(b, 32)) { d.u32min = 0n; d.u32max = U32; } else { d.u32max = a; d.u32min = b; }
  const p = [d.s32min * s.s32min, d.s32min * s.s32max, d.s32max * s.s32min, d.s32max * s.s32max];
  if (p.some((x) => !inS(x, 32))) { d.s32min = S32_MIN; d.s32max = S32_MAX; } else {
    d.s32min = p.reduce(min); d.s32max = p.reduce(max);
  }
}

function mul64(d: Scalar, s: Scalar): void {
  const a = d.umax * s.umax, b = d.umin * s.umin;
  if (!inU(a, 64) || !inU(b, 64)) { d.umin = 0n; d.umax = U64; } else { d.umax = a; d.umin = b; }
  const p = [d.smin * s.smin, d.smin * s.smax, d.smax * s.smin, d.smax * s.smax];
  if (p.some((x) => !inS(x, 64))) { d.smin = S64_MIN; d.smax = S64_MAX; } else {
    d.smin = p.reduce(min); d.smax = p.reduce(max);
  }
}

function signFromU32(d: Scalar): void {
  if (s32(d.u32min) <= s32(d.u32max)) { d.s32min = s32(d.u32min); d.s32max = s32(d.u32max); } else { d.s32min = S32_MIN; d.s32max = S32_MAX; }
}

function signFromU64(d: Scalar): void {
  if (s64(d.umin) <= s64(d.umax)) { d.smin = s64(d.umin); d.smax = s64(d.umax); } else { d.smin = S64_MIN; d.smax = S64_MAX; }
}

function and32(d: Scalar, s: Scalar): void {
  const v = tnumSubreg(d.varOff);
  if (isConst32(s) && isConst32(d)) { mark32Known(d, v.value); return; }
  d.u32min = v.value;
  d.u32max = min(d.u32max, s.u32max);
  signFromU32(d);
}

function and64(d: Scalar, s: Scalar): void {
  if (isConst(s) && isConst(d)) { markKnown(d, d.varOff.value); return; }
  d.umin = d.varOff.value;
  d.umax = min(d.umax, s.umax);
  signFromU64(d);
  updateRegBounds(d);
}

function or32(d: Scalar, s: Scalar): void {
  const v = tnumSubreg(d.varOff);
  if (isConst32(s) && isConst32(d)) { mark32Known(d, v.value); return; }
  d.u32min = max(d.u32min, s.u32min);
  d.u32max = v.value | v.mask;
  signFromU32(d);
}

function or64(d: Scalar, s: Scalar): void {
  if (isConst(s) && isConst(d)) { markKnown(d, d.varOff.value); return; }
  d.umin = max(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  signFromU64(d);
  updateRegBounds(d);
}

function xor32(d: Scalar, s: Scalar): void {
  const v = tnumSubreg(d.varOff);
  if (isConst32(s) && isConst32(d)) { mark32Known(d, v.value); return; }
  d.u32min = v.value;
  d.u32max = v.value | v.mask;
  signFromU32(d);
}

function xor64(d: Scalar, s: Scalar): void {
  if (isConst(s) && isConst(d)) { markKnown(d, d.varOff.value); return; }
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  signFromU64(d);
  updateRegBounds(d);
}

function lsh32Bounds(d: Scalar, umin: bigint, umax: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umax > 31n || d.u32max > 1n << (31n - umax)) {
    d.u32min = 0n; d.u32max = U32;
  } else {
    d.u32min = u32(d.u32min << umin);
    d.u32max = u32(d.u32max << umax);
  }
}

function lsh64Bounds(d: Scalar, umin: bigint, umax: bigint): void {
  // <<32 then s>>32 is the compiler's sign-extension idiom: keep positive 32-bit bounds.
  d.smax = umin === 32n && umax === 32n && d.s32max >= 0n ? d.s32max << 32n : S64_MAX;
  d.smin = umin === 32n && umax === 32n && d.s32min >= 0n ? d.s32min << 32n : S64_MIN;
  if (d.umax > 1n << (63n - umax)) {
    d.umin = 0n; d.umax = U64;
  } else {
    d.umin = u64(d.umin << umin);
    d.umax = u64(d.umax << umax);
  }
}

function lsh32(d: Scalar, s: Scalar): void {
  const sub = tnumSubreg(d.varOff);
  lsh32Bounds(d, s.u32min, s.u32max);
  d.varOff = tnumSubreg(tnumLshift(sub, Number(s.u32min)));
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function lsh64(d: Scalar, s: Scalar): void {
  lsh64Bounds(d, s.umin, s.umax);
  lsh32Bounds(d, s.umin, s.umax);
  d.varOff = tnumLshift(d.varOff, Number(s.umin));
  updateRegBounds(d);
}

function rsh32(d: Scalar, s: Scalar): void {
  const sub = tnumSubreg(d.varOff);
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  d.varOff = tnumRshift(sub, Number(s.u32min));
  d.u32min >>= s.u32max;
  d.u32max >>= s.u32min;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function rsh64(d: Scalar, s: Scalar): void {
  d.smin = S64_MIN;
  d.smax = S64_MAX;
  d.varOff = tnumRshift(d.varOff, Number(s.umin));
  d.umin >>= s.umax;
  d.umax >>= s.umin;
  mark32Unbounded(d);
  updateRegBounds(d);
}

function arsh32(d: Scalar, s: Scalar): void {
  const sh = s.u32min;
  d.s32min = d.s32min >> sh;
  d.s32max = d.s32max >> sh;
  d.varOff = tnumArshift(tnumSubreg(d.varOff), Number(sh), 32);
  d.u32min = 0n;
  d.u32max = U32;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function arsh64(d: Scalar, s: Scalar): void {
  const sh = s.umin;
  d.smin >>= sh;
  d.smax >>= sh;
  d.varOff = tnumArshift(d.varOff, Number(sh), 64);
  d.umin = 0n;
  d.umax = U64;
  mark32Unbounded(d);
  updateRegBounds(d);
}

export type ScalarAluOp = 'add' | 'sub' | 'mul' | 'and' | 'or' | 'xor' | 'lsh' | 'rsh' | 'arsh' | 'neg' | 'div' | 'sdiv' | 'mod' | 'smod';

/** Whether the kernel computes a range for `op` with this source (is_safe_to_compute_dst_reg_range). */
export function canComputeRange(op: ScalarAluOp, src: Scalar, width: 32 | 64): boolean {
  switch (op) {
    case 'add': case 'sub': case 'neg': case 'and': case 'xor': case 'or': case 'mul':
      return true;
    case 'lsh': case 'rsh': case 'arsh': {
      const known = width === 32
        ? isConst32(src) && src.s32min === src.s32max && src.u32min === src.u32max
        : isConst(src) && src.smin === src.smax && src.umin === src.umax;
      return known && src.umax < BigInt(width);
    }
    default:
      return false;
  }
}

function constAlu64(op: ScalarAluOp, a: bigint, b: bigint): bigint | undefined {
  switch (op) {
    case 'add': return u64(a + b);
    case 'sub': return u64(a - b);
    case 'mul': return u64(a * b);
    case 'and': return a & b;
    case 'or': return a | b;
    case 'xor': return a ^ b;
    case 'lsh': return u64(a << b);
    case 'rsh': return a >> b;
    case 'arsh': return u64(s64(a) >> b);
    default: return undefined;
  }
}

/**
 * dst = dst op src on scalars (adjust_scalar_min_max_vals). Returns the new
 * dst; inputs are not modified.
 */
export function scalarAlu(op: ScalarAluOp, dstIn: Scalar, src: Scalar, width: 32 | 64): Scalar {
  if (!canComputeRange(op, src, width)) return unknownScalar();
  // Two 64-bit constants give a constant (the tnum is exact and the range sync collapses to it), computed directly.
  if (width === 64 && dstIn.varOff.mask === 0n && src.varOff.mask === 0n) {
    const c = constAlu64(op, dstIn.varOff.value, src.varOff.value);
    if (c !== undefined) return knownScalar(c);
  }
  const d = copyScalar(dstIn);
  const alu32 = width === 32;
  switch (op) {
    case 'add':
      add32(d, src); add64(d, src);
      d.varOff = tnumAdd(d.varOff, src.varOff);
      break;
    case 'sub':
      sub32(d, src); sub64(d, src);
      d.varOff = tnumSub(d.varOff, src.varOff);
      break;
    case 'neg': {
      const old = copyScalar(d);
      markKnown(d, 0n);
      sub32(d, old); sub64(d, old);
      d.varOff = tnumNeg(old.varOff);
      break;
    }
    case 'mul':
      d.varOff = tnumMul(d.varOff, src.varOff);
      mul32(d, src); mul64(d, src);
      break;
    case 'and':
      d.varOff = tnumAnd(d.varOff, src.varOff);
      and32(d, src); and64(d, src);
      break;
    case 'or':
      d.varOff = tnumOr(d.varOff, src.varOff);
      or32(d, src); or64(d, src);
      break;
    case 'xor':
      d.varOff = tnumXor(d.varOff, src.varOff);
      xor32(d, src); xor64(d, src);
      break;
    case 'lsh':
      if (alu32) lsh32(d, src); else lsh64(d, src);
      break;
    case 'rsh':
      if (alu32) rsh32(d, src); else rsh64(d, src);
      break;
    case 'arsh':
      if (alu32) arsh32(d, src); else arsh64(d, src);
      break;
    default:
      break;
  }
  if (alu32) zext32To64(d);
  boundsSync(d);
  return d;
}

/** Every value b can take, a can take too (range_within plus tnum_in). */
export function scalarWithin(a: Scalar, b: Scalar): boolean {
  return a.umin <= b.umin && a.umax >= b.umax && a.smin <= b.smin && a.smax >= b.smax &&
    a.u32min <= b.u32min && a.u32max >= b.u32max && a.s32min <= b.s32min && a.s32max >= b.s32max &&
    ((b.varOff.mask & ~a.varOff.mask) === 0n) && a.varOff.value === (b.varOff.value & ~a.varOff.mask);
}

export function scalarEqual(a: Scalar, b: Scalar): boolean {
  return a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax &&
    a.u32min === b.u32min && a.u32max === b.u32max && a.s32min === b.s32min && a.s32max === b.s32max &&
    a.varOff.value === b.varOff.value && a.varOff.mask === b.varOff.mask;
}

export { tnumConst };
