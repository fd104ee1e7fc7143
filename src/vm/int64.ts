/**
 * 64-bit integer arithmetic on pairs of 32-bit halves. Registers live in two
 * Int32Arrays (lo, hi) so the interpreter's hot loop never allocates a
 * BigInt; these are the operations that do not fit in one line there. BigInt
 * is used only where it is rare (64-bit division with a high word set).
 */

/** High 32 bits of the unsigned 64-bit product of two unsigned 32-bit values. */
export function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16;
  const b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** The unsigned 64-bit value of a register pair. */
export function toBigUint(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The signed 64-bit value of a register pair. */
export function toBigInt(lo: number, hi: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}

/** Store a bigint (taken mod 2^64) into register `r`. */
export function setBig(lo: Int32Array, hi: Int32Array, r: number, v: bigint): void {
  lo[r] = Number(BigInt.asIntN(32, v));
  hi[r] = Number(BigInt.asIntN(32, v >> 32n));
}

/** Store an integer that is exact as a double (|v| <= 2^53) into register `r`, sign-extended. */
export function setSafeInt(lo: Int32Array, hi: Int32Array, r: number, v: number): void {
  lo[r] = v;
  hi[r] = Math.floor(v / 4294967296);
}

/** Byte swap of a 32-bit value. */
export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/**
 * 64-bit division and modulo of registers d and s, result into d, following
 * RFC 9669: unsigned or signed (truncating toward zero); by zero, div gives
 * 0 and mod leaves d unchanged; INT64_MIN / -1 wraps to INT64_MIN and
 * INT64_MIN % -1 is 0.
 */
export function divmod64(lo: Int32Array, hi: Int32Array, d: number, s: number, signed: boolean, mod: boolean): void {
  const dl = lo[d], dh = hi[d], sl = lo[s], sh = hi[s];
  if (sl === 0 && sh === 0) {
    if (!mod) lo[d] = hi[d] = 0;
    return;
  }
  if (signed) {
    // Both in int32 range: doubles are exact, and the result fits in 64 bits.
    if (dh === dl >> 31 && sh === sl >> 31) {
      setSafeInt(lo, hi, d, mod ? dl % sl : Math.trunc(dl / sl));
      return;
    }
    const a = toBigInt(dl, dh), b = toBigInt(sl, sh);
    setBig(lo, hi, d, mod ? a % b : a / b);
    return;
  }
  if (dh === 0 && sh === 0) {
    const a = dl >>> 0, b = sl >>> 0;
    lo[d] = mod ? a % b : a / b;
    hi[d] = 0;
    return;
  }
  const a = toBigUint(dl, dh), b = toBigUint(sl, sh);
  setBig(lo, hi, d, mod ? a % b : a / b);
}
