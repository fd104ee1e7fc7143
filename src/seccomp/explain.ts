/**
 * Direct interpretation of a policy, without BPF: which rule decides a call
 * and why. It is the reference the compiled filter is tested against, and
 * what `bpfkit seccomp explain` prints.
 */
import { type Action, actionRank, ACT, formatAction } from './actions.js';
import { ARCHES, archOfData, type ArchName, syscallName, syscallNumber } from './arch.js';
import type { SeccompData } from './data.js';
import { SeccompPolicyError } from './errors.js';
import { conditionHolds, formatCondition, type Policy, type Rule } from './policy.js';

export interface ConditionResult {
  readonly text: string;
  readonly holds: boolean;
}

export interface RuleResult {
  readonly rule: Rule;
  /** Index in policy.rules. */
  readonly index: number;
  readonly matched: boolean;
  readonly conditions: readonly ConditionResult[];
}

export interface Decision {
  readonly action: Action;
  /** The architecture the call was matched to; undefined for a bad-arch verdict. */
  readonly arch?: ArchName;
  readonly syscall?: string;
  /** The deciding rule; undefined when the default or bad-arch action applies. */
  readonly decidedBy?: RuleResult;
  /** Every rule naming this syscall, in policy order, with its evaluation. */
  readonly considered: readonly RuleResult[];
  readonly reason: string;
}

export function decide(policy: Policy, data: SeccompData): Decision {
  const arch = archOfData(policy.arches, data.arch, data.nr);
  if (!arch) {
    const action = policy.badArchAction ?? ACT.killProcess();
    return { action, considered: [], reason: `arch 0x${(data.arch >>> 0).toString(16)} (nr ${data.nr >>> 0}) is not one of the policy's architectures (${policy.arches.join(', ')})` };
  }
  const info = ARCHES[arch];
  const name = syscallName(arch, data.nr);
  const considered: RuleResult[] = [];
  if (name !== undefined) {
    policy.rules.forEach((rule, index) => {
      if (rule.syscall !== name) return;
      const conditions = rule.args.map((c) => ({ text: formatCondition(c), holds: conditionHolds(c, data.args[c.index] ?? 0n, info.bits) }));
      considered.push({ rule, index, matched: conditions.every((c) => c.holds), conditions });
    });
  }
  let best: RuleResult | undefined;
  for (const r of considered) {
    if (r.matched && (!best || actionRank(r.rule.action) < actionRank(best.rule.action))) best = r;
  }
  const call = name ?? `syscall ${data.nr >>> 0}`;
  if (best) {
    const why = best.conditions.length ? ` because ${best.conditions.map((c) => c.text).join(' && ')}` : ' unconditionally';
    const others = considered.filter((r) => r.matched && r !== best).length;
    return {
      action: best.rule.action, arch, syscall: name, decidedBy: best, considered,
      reason: `${call} on ${arch}: ${formatAction(best.rule.action)} by ${best.rule.origin ?? `rule ${best.index}`}${why}` +
        (others ? ` (outranks ${others} other matching rule${others > 1 ? 's' : ''})` : ''),
    };
  }
  const detail = considered.length ? `no rule for ${call} matched (${considered.length} considered)` : `no rule names ${call}`;
  return { action: policy.defaultAction, arch, syscall: name, considered, reason: `${call} on ${arch}: ${formatAction(policy.defaultAction)} by default: ${detail}` };
}

/** `explain(policy, 'personality', [0xffffffffn])`: a decision for a call made under `arch` (default: the native one). */
export function explain(policy: Policy, syscall: string | number, args: readonly bigint[] = [], arch: ArchName = policy.arches[0]): Decision {
  const nr = typeof syscall === 'number' ? syscall : syscallNumber(arch, syscall);
  if (nr === undefined) throw new SeccompPolicyError('explain', `unknown syscall '${syscall}' on ${arch}`);
  const full = [...args];
  while (full.length < 6) full.push(0n);
  return decide(policy, { nr, arch: ARCHES[arch].auditArch, instructionPointer: 0n, args: full });
}
