/**
 * The policy model both front ends produce (OCI/Docker JSON profiles and the
 * TypeScript builder) and the compiler and explainer consume.
 *
 * Semantics, for a system call on one of the policy's architectures: among
 * the rules naming that call whose argument conditions all hold, the one with
 * the highest-precedence action decides (ties go to the earlier rule), as if
 * each rule were its own stacked filter; if none holds, `defaultAction`.
 * A call on any other architecture gets `badArchAction`.
 */
import type { Action } from './actions.js';
import type { ArchName } from './arch.js';

/**
 * libseccomp's comparison operators. `masked_eq` tests
 * `(arg & value) == (valueTwo & value)`: libseccomp masks the datum too, and
 * OCI/Docker profiles mean what libseccomp does with them.
 */
export type CmpOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked_eq';

export const CMP_OPS: readonly CmpOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];

export interface ArgCondition {
  /** Argument index, 0..5. */
  readonly index: number;
  readonly op: CmpOp;
  /** The operand; the mask for masked_eq. Unsigned 64-bit. */
  readonly value: bigint;
  /** The expected value for masked_eq (only its bits inside the mask count); unused otherwise. */
  readonly valueTwo?: bigint;
}

export interface Rule {
  readonly syscall: string;
  readonly action: Action;
  /** All must hold (AND). An empty list matches every call. */
  readonly args: readonly ArgCondition[];
  /** Where the rule came from, for explanations: `syscalls[12]` or a builder note. */
  readonly origin?: string;
}

export interface Policy {
  readonly defaultAction: Action;
  /** The first is the native architecture. */
  readonly arches: readonly ArchName[];
  readonly rules: readonly Rule[];
  /** For calls made under another architecture; kill the process unless set. */
  readonly badArchAction?: Action;
}

/** Reduces an argument to the width the architecture passes (32-bit ABIs see the low word only). */
export function argWidth(value: bigint, bits: 32 | 64): bigint {
  return BigInt.asUintN(bits, value);
}

/** Direct (non-BPF) evaluation of one condition: the reference the compiler is tested against. */
export function conditionHolds(c: ArgCondition, arg: bigint, bits: 32 | 64): boolean {
  const a = argWidth(arg, bits);
  const v = argWidth(c.value, bits);
  switch (c.op) {
    case 'eq': return a === v;
    case 'ne': return a !== v;
    case 'lt': return a < v;
    case 'le': return a <= v;
    case 'gt': return a > v;
    case 'ge': return a >= v;
    case 'masked_eq': return (a & v) === (argWidth(c.valueTwo ?? 0n, bits) & v);
  }
}

export function formatCondition(c: ArgCondition): string {
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  const sym: Record<CmpOp, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=', masked_eq: '' };
  if (c.op === 'masked_eq') return `(arg${c.index} & ${hex(c.value)}) == ${hex((c.valueTwo ?? 0n) & c.value)}`;
  return `arg${c.index} ${sym[c.op]} ${hex(c.value)}`;
}
