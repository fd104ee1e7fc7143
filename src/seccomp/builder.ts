/**
 * Building a policy in TypeScript:
 *
 *     const p = new PolicyBuilder(ACT.errno(EPERM), ['x86_64', 'x86'])
 *       .allow('read', 'write', 'exit_group')
 *       .add(ACT.allow(), 'personality', arg(0).eq(0))
 *       .add(ACT.killProcess(), 'ptrace')
 *       .build();
 */
import type { Action } from './actions.js';
import { ACT } from './actions.js';
import { type ArchName } from './arch.js';
import type { ArgCondition, Policy, Rule } from './policy.js';
import { checkPolicy } from './validate.js';

/** Conditions on argument `index`: `arg(1).maskedEq(0xff, 0x10)`. */
export function arg(index: number) {
  const u64 = (v: bigint | number) => BigInt.asUintN(64, BigInt(v));
  return {
    eq: (v: bigint | number): ArgCondition => ({ index, op: 'eq', value: u64(v) }),
    ne: (v: bigint | number): ArgCondition => ({ index, op: 'ne', value: u64(v) }),
    lt: (v: bigint | number): ArgCondition => ({ index, op: 'lt', value: u64(v) }),
    le: (v: bigint | number): ArgCondition => ({ index, op: 'le', value: u64(v) }),
    gt: (v: bigint | number): ArgCondition => ({ index, op: 'gt', value: u64(v) }),
    ge: (v: bigint | number): ArgCondition => ({ index, op: 'ge', value: u64(v) }),
    maskedEq: (mask: bigint | number, v: bigint | number): ArgCondition =>
      ({ index, op: 'masked_eq', value: u64(mask), valueTwo: u64(v) }),
  };
}

export class PolicyBuilder {
  private readonly rules: Rule[] = [];
  private badArch: Action | undefined;

  constructor(private readonly defaultAction: Action, private readonly arches: readonly ArchName[] = ['x86_64']) {}

  /** One rule per named syscall; all `conds` must hold. */
  add(action: Action, syscalls: string | readonly string[], ...conds: ArgCondition[]): this {
    for (const syscall of typeof syscalls === 'string' ? [syscalls] : syscalls) {
      this.rules.push({ syscall, action, args: conds, origin: `rule ${this.rules.length}` });
    }
    return this;
  }

  allow(...syscalls: string[]): this {
    return this.add(ACT.allow(), syscalls);
  }

  errno(errno: number, ...syscalls: string[]): this {
    return this.add(ACT.errno(errno), syscalls);
  }

  killProcess(...syscalls: string[]): this {
    return this.add(ACT.killProcess(), syscalls);
  }

  badArchAction(action: Action): this {
    this.badArch = action;
    return this;
  }

  build(): Policy {
    const policy: Policy = { defaultAction: this.defaultAction, arches: [...this.arches], rules: [...this.rules], badArchAction: this.badArch };
    checkPolicy(policy, 'builder');
    return policy;
  }
}

