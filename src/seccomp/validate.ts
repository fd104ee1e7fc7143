/**
 * Structural checks shared by both front ends, so the compiler can assume a
 * well-formed policy: known architectures (x32 allowed beside x86_64), at
 * least one, no duplicates, argument indexes 0..5, values within 64 bits.
 */
import { ARCHES, type ArchName } from './arch.js';
import { SeccompPolicyError } from './errors.js';
import { CMP_OPS, type Policy } from './policy.js';

export function checkPolicy(policy: Policy, where: string): void {
  if (policy.arches.length === 0) throw new SeccompPolicyError(where, 'no architectures');
  const seen = new Set<ArchName>();
  for (const a of policy.arches) {
    if (!Object.hasOwn(ARCHES, a)) throw new SeccompPolicyError(where, `unknown architecture '${a}'`);
    if (seen.has(a)) throw new SeccompPolicyError(where, `architecture '${a}' listed twice`);
    seen.add(a);
  }
  policy.rules.forEach((r, i) => {
    const at = r.origin ?? `${where}: rule ${i}`;
    if (typeof r.syscall !== 'string' || r.syscall === '') throw new SeccompPolicyError(at, 'missing syscall name');
    for (const c of r.args) {
      if (!Number.isInteger(c.index) || c.index < 0 || c.index > 5) {
        throw new SeccompPolicyError(at, `argument index ${c.index} out of range 0..5`);
      }
      if (!CMP_OPS.includes(c.op)) throw new SeccompPolicyError(at, `unknown operator '${String(c.op)}'`);
      for (const v of [c.value, c.valueTwo ?? 0n]) {
        if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw new SeccompPolicyError(at, `value ${String(v)} is not an unsigned 64-bit integer`);
      }
    }
  });
}
