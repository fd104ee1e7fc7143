/**
 * Seeded random policies and seccomp_data for the property and differential
 * tests. Values cluster around the policies' own constants (equal, one off,
 * halves swapped, masked bits flipped) so comparisons hit their edges.
 */
import { type Action, ACT, ARCHES, type ArchName, type ArgCondition, type CmpOp, CMP_OPS, type Policy, type Rule, type SeccompData, X32_SYSCALL_BIT } from '../../src/seccomp/index.js';

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  /** Uniform in [0, 2^32). */
  u32(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number { return this.u32() % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  chance(p: number): boolean { return this.u32() / 2 ** 32 < p; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
}

const EDGE32 = [0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** A 64-bit value: edges, small numbers, or random. `bits32` keeps the high half zero. */
export function value(r: Rng, bits32 = false): bigint {
  const hi = bits32 ? 0 : r.chance(0.5) ? r.pick(EDGE32) : r.chance(0.5) ? 0 : r.u32();
  const lo = r.chance(0.4) ? r.pick(EDGE32) : r.chance(0.5) ? r.int(64) : r.u32();
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function action(r: Rng): Action {
  switch (r.int(8)) {
    case 0: return ACT.killProcess();
    case 1: return ACT.killThread();
    case 2: return ACT.trap(r.int(3));
    case 3: return ACT.errno(r.pick([1, 13, 38]));
    case 4: return ACT.userNotif();
    case 5: return ACT.trace(r.int(3));
    case 6: return ACT.log();
    default: return ACT.allow();
  }
}

export function condition(r: Rng, index: number, ops: readonly CmpOp[] = CMP_OPS, bits32 = false): ArgCondition {
  const op = r.pick(ops);
  if (op === 'masked_eq') {
    const mask = value(r, bits32);
    // Usually a reachable datum (inside the mask), sometimes not.
    const want = r.chance(0.8) ? value(r, bits32) & mask : value(r, bits32);
    return { index, op, value: mask, valueTwo: want };
  }
  return { index, op, value: value(r, bits32) };
}

export interface RandomPolicyOptions {
  readonly arches?: readonly ArchName[];
  readonly syscalls?: readonly string[];
  readonly maxRules?: number;
  readonly ops?: readonly CmpOp[];
  readonly bits32?: boolean;
  /** All rules naming one syscall share one action, which differs from the default (what libseccomp accepts). */
  readonly oneActionPerSyscall?: boolean;
  readonly distinctArgs?: boolean;
}

export function randomPolicy(r: Rng, o: RandomPolicyOptions = {}): Policy {
  const all = Object.keys(ARCHES) as ArchName[];
  const arches = o.arches ?? shuffle(r, all).slice(0, 1 + r.int(3));
  const names = o.syscalls ?? Object.keys(ARCHES[arches[0]].syscalls);
  const used = shuffle(r, names).slice(0, 1 + r.int(Math.min(40, names.length)));
  const defaultAction = action(r);
  const perSyscall = new Map<string, Action>();
  const rules: Rule[] = [];
  const n = 1 + r.int(o.maxRules ?? 30);
  for (let i = 0; i < n; i++) {
    const syscall = r.pick(used);
    let act = action(r);
    if (o.oneActionPerSyscall) {
      const prior = perSyscall.get(syscall);
      if (prior) act = prior;
      while (actionKey(act) === actionKey(defaultAction)) act = action(r);
      perSyscall.set(syscall, act);
    }
    const nargs = r.chance(0.25) ? 0 : 1 + r.int(3);
    const indexes = o.distinctArgs ? shuffle(r, [0, 1, 2, 3, 4, 5]).slice(0, nargs) : Array.from({ length: nargs }, () => r.int(6));
    rules.push({ syscall, action: act, args: indexes.map((ix) => condition(r, ix, o.ops, o.bits32)), origin: `rule ${i}` });
  }
  return { defaultAction, arches, rules, badArchAction: r.chance(0.5) ? action(r) : undefined };
}

const actionKey = (a: Action) => JSON.stringify(a);

function shuffle<T>(r: Rng, xs: readonly T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** A seccomp_data that usually names one of the policy's calls with arguments near its constants. */
export function randomData(r: Rng, p: Policy, o: { zeroHigh?: (arch: ArchName) => boolean } = {}): { data: SeccompData; arch?: ArchName } {
  let arch: ArchName | undefined = r.chance(0.9) ? r.pick(p.arches) : r.pick(Object.keys(ARCHES) as ArchName[]);
  let audit = ARCHES[arch].auditArch;
  if (r.chance(0.03)) { audit = r.u32(); arch = undefined; }
  let nr: number;
  const info = arch ? ARCHES[arch] : undefined;
  if (info && r.chance(0.85) && p.rules.length) {
    const name = r.pick(p.rules).syscall;
    nr = Object.hasOwn(info.syscalls, name) ? info.syscalls[name] : r.int(600);
  } else {
    nr = r.chance(0.5) ? r.int(1000) : r.chance(0.5) ? (X32_SYSCALL_BIT + r.int(600)) >>> 0 : r.u32();
  }
  const consts = p.rules.flatMap((rule) => rule.args.flatMap((c) => [c.value, c.valueTwo ?? 0n]));
  const args: bigint[] = [];
  for (let i = 0; i < 6; i++) {
    let v: bigint;
    if (consts.length && r.chance(0.7)) {
      const c = r.pick(consts);
      switch (r.int(6)) {
        case 0: v = c; break;
        case 1: v = c + 1n; break;
        case 2: v = c - 1n; break;
        case 3: v = ((c & 0xffffffffn) << 32n) | (c >> 32n); break;
        case 4: v = c ^ (1n << BigInt(r.int(64))); break;
        default: v = c | value(r); break;
      }
    } else {
      v = value(r);
    }
    v = BigInt.asUintN(64, v);
    if (arch && o.zeroHigh?.(arch)) v &= 0xffffffffn;
    args.push(v);
  }
  return { data: { nr, arch: audit, instructionPointer: r.u64(), args }, arch };
}
