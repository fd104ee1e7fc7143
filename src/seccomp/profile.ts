/**
 * The OCI runtime-spec / Docker seccomp profile format -> Policy.
 *
 *     { "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
 *       "archMap": [{ "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] }],
 *       "syscalls": [{ "names": ["personality"], "action": "SCMP_ACT_ALLOW",
 *                      "args": [{ "index": 0, "value": 8, "op": "SCMP_CMP_EQ" }],
 *                      "includes": { "caps": ["CAP_SYS_ADMIN"], "arches": ["amd64"], "minKernel": "4.8" } }] }
 *
 * includes/excludes are evaluated here, against the options (native arch,
 * capabilities, kernel version), as Docker does when it starts a container.
 * The native architecture is always filtered, as libseccomp always adds it.
 */
import { type Action, parseScmpAction } from './actions.js';
import { type ArchInfo, type ArchName, ARCHES, lookupArch } from './arch.js';
import { SeccompPolicyError } from './errors.js';
import { parseJson } from './json.js';
import type { ArgCondition, CmpOp, Policy, Rule } from './policy.js';
import { checkPolicy } from './validate.js';

export interface ProfileOptions {
  /** The native architecture (Docker's runtime.GOARCH); default x86_64. */
  readonly arch?: ArchName;
  /** Capabilities the process keeps (`CAP_SYS_ADMIN`), for includes/excludes.caps. */
  readonly caps?: readonly string[];
  /** Kernel version (`6.1`), for includes/excludes.minKernel; when unset, minKernel conditions hold. */
  readonly kernel?: string;
}

export interface ProfileResult {
  readonly policy: Policy;
  /** Fields we read but do not act on. */
  readonly warnings: string[];
  /** Entries includes/excludes left out, with the reason (`syscalls[8]: needs CAP_SYS_ADMIN`). */
  readonly skipped: string[];
}

const OPS: Record<string, CmpOp> = {
  SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le', SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge', SCMP_CMP_GT: 'gt', SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** Parses JSON text; syntax errors carry line:column. */
export function parseProfile(text: string, opts: ProfileOptions = {}): ProfileResult {
  return profileToPolicy(parseJson(text), opts);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function profileToPolicy(json: unknown, opts: ProfileOptions = {}): ProfileResult {
  if (!isObj(json)) throw new SeccompPolicyError('profile', 'expected a JSON object');
  const warnings: string[] = [];
  const skipped: string[] = [];
  const native = ARCHES[opts.arch ?? 'x86_64'];
  const caps = new Set((opts.caps ?? []).map((c) => c.toUpperCase()));

  const defaultErrno = optInt(json, 'defaultErrnoRet', 'defaultErrnoRet', 0xffff);
  const defaultAction = action(json.defaultAction, 'defaultAction', defaultErrno);

  const arches: ArchName[] = [native.name];
  const addArch = (v: unknown, where: string) => {
    const a = archField(v, where);
    if (!arches.includes(a.name)) arches.push(a.name);
  };
  if (json.architectures !== undefined) {
    list(json.architectures, 'architectures').forEach((v, i) => addArch(v, `architectures[${i}]`));
  }
  if (json.archMap !== undefined) {
    list(json.archMap, 'archMap').forEach((m, i) => {
      const where = `archMap[${i}]`;
      if (!isObj(m)) throw new SeccompPolicyError(where, 'expected an object');
      if (archField(m.architecture, `${where}.architecture`).name !== native.name) return; // only the native arch's entry applies
      if (m.subArchitectures !== undefined) {
        list(m.subArchitectures, `${where}.subArchitectures`).forEach((s, j) => addArch(s, `${where}.subArchitectures[${j}]`));
      }
    });
  }
  for (const f of ['flags', 'listenerPath', 'listenerMetadata']) {
    if (json[f] !== undefined && !(Array.isArray(json[f]) && (json[f] as unknown[]).length === 0)) warnings.push(`${f}: not applied by bpfkit`);
  }

  const rules: Rule[] = [];
  const syscalls = json.syscalls === undefined || json.syscalls === null ? [] : list(json.syscalls, 'syscalls');
  syscalls.forEach((s, i) => {
    const where = `syscalls[${i}]`;
    if (!isObj(s)) throw new SeccompPolicyError(where, 'expected an object');
    const names: string[] = [];
    if (s.names !== undefined) list(s.names, `${where}.names`).forEach((n, j) => names.push(str(n, `${where}.names[${j}]`)));
    if (s.name !== undefined) names.push(str(s.name, `${where}.name`));
    if (names.length === 0) throw new SeccompPolicyError(where, 'no syscall names');
    const errnoRet = optInt(s, 'errnoRet', `${where}.errnoRet`, 0xffff);
    const act = action(s.action, `${where}.action`, errnoRet);
    const args = s.args === undefined || s.args === null ? [] : list(s.args, `${where}.args`).map((a, j) => condition(a, `${where}.args[${j}]`));
    const skip = filtered(s, where, native, caps, opts.kernel);
    if (skip) { skipped.push(`${where}: ${skip}`); return; }
    for (const name of names) rules.push({ syscall: name, action: act, args, origin: `${where} (${name})` });
  });

  const policy: Policy = { defaultAction, arches, rules };
  checkPolicy(policy, 'profile');
  return { policy, warnings, skipped };
}

/** Why includes/excludes leave this entry out, or undefined when it applies. */
function filtered(s: Obj, where: string, native: ArchInfo, caps: ReadonlySet<string>, kernel: string | undefined): string | undefined {
  for (const side of ['includes', 'excludes'] as const) {
    const f = s[side];
    if (f === undefined || f === null) continue;
    if (!isObj(f)) throw new SeccompPolicyError(`${where}.${side}`, 'expected an object');
    const inc = side === 'includes';
    if (f.arches !== undefined) {
      const arches = list(f.arches, `${where}.${side}.arches`).map((a, j) => str(a, `${where}.${side}.arches[${j}]`));
      const hit = arches.some((a) => lookupArch(a)?.name === native.name);
      if (inc && arches.length > 0 && !hit) return `architecture ${native.goName} not in includes.arches`;
      if (!inc && hit) return `architecture ${native.goName} in excludes.arches`;
    }
    if (f.caps !== undefined) {
      const want = list(f.caps, `${where}.${side}.caps`).map((c, j) => str(c, `${where}.${side}.caps[${j}]`).toUpperCase());
      if (inc) {
        const missing = want.filter((c) => !caps.has(c));
        if (missing.length) return `needs ${missing.join(', ')}`;
      } else {
        const present = want.filter((c) => caps.has(c));
        if (present.length) return `excluded by ${present.join(', ')}`;
      }
    }
    if (f.minKernel !== undefined && f.minKernel !== '' && kernel !== undefined) {
      const min = str(f.minKernel, `${where}.${side}.minKernel`);
      const atLeast = compareVersions(kernel, min, `${where}.${side}.minKernel`) >= 0;
      if (inc && !atLeast) return `kernel ${kernel} older than ${min}`;
      if (!inc && atLeast) return `kernel ${kernel} is ${min} or newer`;
    }
  }
  return undefined;
}

function compareVersions(a: string, b: string, where: string): number {
  const parse = (v: string) => {
    const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
    if (!m) throw new SeccompPolicyError(where, `bad kernel version '${v}'`);
    return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new SeccompPolicyError(where, 'expected an array');
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new SeccompPolicyError(where, 'expected a string');
  return v;
}

function optInt(o: Obj, key: string, where: string, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new SeccompPolicyError(where, `expected an integer 0..${max}`);
  return v;
}

function action(v: unknown, where: string, data: number | undefined): Action {
  const name = str(v, where);
  const a = parseScmpAction(name, data);
  if (!a) throw new SeccompPolicyError(where, `unknown action '${name}'`);
  return a;
}

function archField(v: unknown, where: string): ArchInfo {
  const name = str(v, where);
  const a = lookupArch(name);
  if (!a) throw new SeccompPolicyError(where, `unknown architecture '${name}'`);
  return a;
}

function u64(v: unknown, where: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') {
    b = v;
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new SeccompPolicyError(where, `${v} is not an exact integer`);
    b = BigInt(v);
  } else if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v.trim())) {
    b = BigInt(v.trim());
  } else {
    throw new SeccompPolicyError(where, 'expected an unsigned integer');
  }
  if (b < 0n || b >= 1n << 64n) throw new SeccompPolicyError(where, `${b} does not fit in 64 bits`);
  return b;
}

function condition(a: unknown, where: string): ArgCondition {
  if (!isObj(a)) throw new SeccompPolicyError(where, 'expected an object');
  const index = a.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    throw new SeccompPolicyError(`${where}.index`, 'expected an argument index 0..5');
  }
  const opName = str(a.op, `${where}.op`);
  const op = Object.hasOwn(OPS, opName) ? OPS[opName] : undefined;
  if (!op) throw new SeccompPolicyError(`${where}.op`, `unknown operator '${opName}'`);
  const value = u64(a.value ?? 0, `${where}.value`);
  const valueTwo = a.valueTwo === undefined ? 0n : u64(a.valueTwo, `${where}.valueTwo`);
  return op === 'masked_eq' ? { index, op, value, valueTwo } : { index, op, value };
}
