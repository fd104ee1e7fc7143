import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BPF_MAXINSNS } from '../../src/cbpf/index.js';
import {
  ACT, actionToRet, ARCHES, type ArchName, checkSeccompFilter, compile, decide, explain, parseProfile, runFilter,
  SeccompPolicyError, syscallNumber,
} from '../../src/seccomp/index.js';
import { randomData, Rng } from './random.js';

const profileText = readFileSync(new URL('./fixtures/default-like.json', import.meta.url), 'utf8');

test('a container-default-sized profile compiles within the limits on every architecture it maps', (t) => {
  const sizes: string[] = [];
  for (const arch of ['x86_64', 'aarch64', 'riscv64', 'ppc64le', 's390x'] as ArchName[]) {
    for (const caps of [[], ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']]) {
      const { policy } = parseProfile(profileText, { arch, caps, kernel: '6.1' });
      const allowed = policy.rules.filter((r) => r.action.kind === 'allow').length;
      assert.ok(allowed > 300, `${allowed} allow rules`);
      const { filter } = compile(policy);
      checkSeccompFilter(filter);
      assert.ok(filter.length < BPF_MAXINSNS);
      sizes.push(`${arch}${caps.length ? '+caps' : ''}:${filter.length}`);
      // The filter says what the profile says, on calls near its constants.
      const r = new Rng(arch.length * 1000 + caps.length);
      for (let i = 0; i < 1500; i++) {
        const { data, arch: a } = randomData(r, policy);
        assert.equal(runFilter(filter, data, a ? ARCHES[a].endian : 'little'), actionToRet(decide(policy, data).action));
      }
    }
  }
  assert.deepEqual(parseProfile(profileText, { arch: 'x86_64' }).policy.arches, ['x86_64', 'x86', 'x32']);
  assert.deepEqual(parseProfile(profileText, { arch: 'aarch64' }).policy.arches, ['aarch64', 'arm']);
  t.diagnostic(`filter sizes: ${sizes.join(' ')}`);
});

test('includes and excludes follow capabilities, architecture and kernel version', () => {
  const noCaps = parseProfile(profileText, { arch: 'x86_64', caps: [], kernel: '6.1' }).policy;
  const admin = parseProfile(profileText, { arch: 'x86_64', caps: ['cap_sys_admin'], kernel: '6.1' }).policy;
  const CLONE_NEWNS = 0x20000n;
  assert.deepEqual(explain(noCaps, 'mount').action, ACT.errno(1));
  assert.deepEqual(explain(admin, 'mount').action, ACT.allow());
  assert.deepEqual(explain(noCaps, 'clone', [CLONE_NEWNS]).action, ACT.errno(1));
  assert.deepEqual(explain(noCaps, 'clone', [0x11n]).action, ACT.allow());
  assert.deepEqual(explain(admin, 'clone', [CLONE_NEWNS]).action, ACT.allow());
  assert.deepEqual(explain(noCaps, 'clone3').action, ACT.errno(38));
  assert.deepEqual(explain(noCaps, 'arch_prctl').action, ACT.allow());
  const rawio = parseProfile(profileText, { arch: 'x86_64', caps: ['CAP_SYS_RAWIO'] }).policy;
  assert.deepEqual(explain(rawio, 'iopl').action, ACT.allow());
  const rawioArm = parseProfile(profileText, { arch: 'aarch64', caps: ['CAP_SYS_RAWIO'] });
  assert.ok(rawioArm.skipped.some((s) => /architecture arm64 not in includes.arches/.test(s)));
  assert.deepEqual(explain(parseProfile(profileText, { kernel: '4.4' }).policy, 'ptrace').action, ACT.errno(1));
  assert.deepEqual(explain(parseProfile(profileText, { kernel: '5.10.0-8-amd64' }).policy, 'ptrace').action, ACT.allow());
  assert.deepEqual(explain(noCaps, 'kexec_load').action, ACT.killProcess());
  assert.deepEqual(explain(noCaps, 'socket', [40n]).action, ACT.errno(1));
  assert.deepEqual(explain(noCaps, 'socket', [1n]).action, ACT.allow());
  assert.deepEqual(explain(noCaps, 'personality', [0xffffffffn]).action, ACT.allow());
  assert.deepEqual(explain(noCaps, 'personality', [0x1ffffffffn]).action, ACT.errno(1));
  // i386 has its own numbers: personality is 136 there.
  assert.equal(syscallNumber('x86', 'personality'), 136);
  assert.deepEqual(explain(noCaps, 'personality', [8n], 'x86').action, ACT.allow());
});

test('OCI architectures, 64-bit values and errno defaults', () => {
  const { policy } = parseProfile(`{
    "defaultAction": "SCMP_ACT_ERRNO",
    "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64"],
    "syscalls": [
      { "names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_EQ" }] },
      { "names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{ "index": 0, "value": "0xfff", "valueTwo": "7", "op": "SCMP_CMP_MASKED_EQ" }] },
      { "name": "write", "action": "SCMP_ACT_TRACE", "errnoRet": 4 }
    ] }`, { arch: 'x86_64' });
  assert.deepEqual(policy.arches, ['x86_64', 'x86']);
  assert.deepEqual(policy.defaultAction, ACT.errno(1));
  assert.equal(policy.rules[0].args[0].value, 0xffffffffffffffffn);
  assert.deepEqual(policy.rules[1].args[0], { index: 0, op: 'masked_eq', value: 0xfffn, valueTwo: 7n });
  assert.deepEqual(policy.rules[2].action, ACT.trace(4));
  assert.deepEqual(explain(policy, 'lseek', [3n, 0xffffffffffffffffn]).action, ACT.allow());
  assert.deepEqual(explain(policy, 'lseek', [3n, 0xfffffffffffffffen]).action, ACT.errno(1));
});

test('profile errors name the field', () => {
  const bad = (text: string, re: RegExp) =>
    assert.throws(() => parseProfile(text), (e: unknown) => e instanceof SeccompPolicyError && re.test(e.message), re.source);
  bad('{ "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ }', /^2:17: invalid JSON: unexpected '}'/);
  bad('[]', /^profile: expected a JSON object/);
  bad('{ "defaultAction": "SCMP_ACT_NOPE" }', /^defaultAction: unknown action 'SCMP_ACT_NOPE'/);
  bad('{ "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"] }', /^architectures\[0\]: unknown architecture 'SCMP_ARCH_VAX'/);
  bad('{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 1, "op": "SCMP_CMP_XX" }] }] }',
    /^syscalls\[0\]\.args\[0\]\.op: unknown operator 'SCMP_CMP_XX'/);
  bad('{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 7, "value": 1, "op": "SCMP_CMP_EQ" }] }] }',
    /^syscalls\[0\]\.args\[0\]\.index: expected an argument index 0\.\.5/);
  bad('{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ" }] }] }',
    /^syscalls\[0\]\.args\[0\]\.value: 18446744073709551616 does not fit in 64 bits/);
  bad('{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "action": "SCMP_ACT_ALLOW" }] }', /^syscalls\[0\]: no syscall names/);
  bad('{ "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1 }', /^defaultErrnoRet: expected an integer/);
});

test('random bytes and mangled profiles give SeccompPolicyError, never a crash', () => {
  const r = new Rng(99);
  for (let i = 0; i < 300; i++) {
    const chars = [...profileText.slice(0, 2000)];
    for (let j = 0; j < 3; j++) chars[r.int(chars.length)] = String.fromCharCode(r.int(128));
    try {
      const { policy } = parseProfile(chars.join(''));
      compile(policy);
    } catch (e) {
      assert.ok(e instanceof SeccompPolicyError, String(e));
    }
  }
});
