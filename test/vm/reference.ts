/**
 * A slow, obviously-correct model of RFC 9669 ALU and jump semantics on
 * BigInt, written independently of the interpreter's 32-bit-halves code, for
 * differential property tests.
 */
import type { AluOp, JmpCond } from '../../src/isa/index.js';

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** dst op src at the given width; returns the new 64-bit dst (unsigned). */
export function refAlu(op: AluOp, width: 32 | 64, dst: bigint, src: bigint): bigint {
  if (width === 64) {
    const a = u64(dst), b = u64(src);
    switch (op) {
      case 'add': return u64(a + b);
      case 'sub': return u64(a - b);
      case 'mul': return u64(a * b);
      case 'div': return b === 0n ? 0n : a / b;
      case 'mod': return b === 0n ? a : a % b;
      case 'sdiv': return b === 0n ? 0n : u64(s64(a) / s64(b));
      case 'smod': return b === 0n ? a : u64(s64(a) % s64(b));
      case 'or': return a | b;
      case 'and': return a & b;
      case 'xor': return a ^ b;
      case 'mov': return b;
      case 'lsh': return u64(a << (b & 63n));
      case 'rsh': return a >> (b & 63n);
      case 'arsh': return u64(s64(a) >> (b & 63n));
    }
  }
  const a = u32(dst), b = u32(src);
  switch (op) {
    case 'add': return u32(a + b);
    case 'sub': return u32(a - b);
    case 'mul': return u32(a * b);
    case 'div': return b === 0n ? 0n : a / b;
    case 'mod': return b === 0n ? a : a % b;
    case 'sdiv': return b === 0n ? 0n : u32(s32(a) / s32(b));
    case 'smod': return b === 0n ? a : u32(s32(a) % s32(b));
    case 'or': return a | b;
    case 'and': return a & b;
    case 'xor': return a ^ b;
    case 'mov': return b;
    case 'lsh': return u32(a << (b & 31n));
    case 'rsh': return a >> (b & 31n);
    case 'arsh': return u32(s32(a) >> (b & 31n));
  }
}

export function refJmp(cond: JmpCond, width: 32 | 64, dst: bigint, src: bigint): boolean {
  const u = width === 64 ? u64 : u32;
  const s = width === 64 ? s64 : s32;
  const a = u(dst), b = u(src);
  switch (cond) {
    case 'jeq': return a === b;
    case 'jne': return a !== b;
    case 'jgt': return a > b;
    case 'jge': return a >= b;
    case 'jlt': return a < b;
    case 'jle': return a <= b;
    case 'jset': return (a & b) !== 0n;
    case 'jsgt': return s(a) > s(b);
    case 'jsge': return s(a) >= s(b);
    case 'jslt': return s(a) < s(b);
    case 'jsle': return s(a) <= s(b);
  }
}

/** Interesting 64-bit values: boundaries of every width and sign, plus a seeded random spread. */
export function interestingValues(randomCount: number, seed = 1): bigint[] {
  const base = [
    0n, 1n, 2n, 3n, 7n, 31n, 32n, 33n, 63n, 64n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn,
    0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, M64,
    M64 - 1n, u64(-2n), u64(-31n), u64(-0x80000000n), 0x123456789abcdef0n, 0xfedcba9876543210n,
  ];
  let x = BigInt(seed) * 0x9e3779b97f4a7c15n;
  const next = (): bigint => {
    // xorshift64*
    x ^= x >> 12n; x ^= u64(x << 25n); x ^= x >> 27n;
    x = u64(x);
    return u64(x * 0x2545f4914f6cdd1dn);
  };
  for (let i = 0; i < randomCount; i++) {
    const r = next();
    // Mix in small and sign-extended values too, where division takes its fast paths.
    base.push(i % 3 === 0 ? r : i % 3 === 1 ? u64(BigInt.asIntN(32, r)) : r & 0xffffn);
  }
  return base;
}
