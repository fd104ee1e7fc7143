import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BPF_MAXINSNS } from '../../src/cbpf/index.js';
import {
  ACT, actionToRet, ARCHES, arg, AUDIT_ARCH, checkSeccompFilter, compile, decide, explain, PolicyBuilder, runFilter,
  encodeSeccompData, loadWord, SeccompCompileError, SeccompPolicyError, seccompWordImage, type Policy, type SeccompData,
} from '../../src/seccomp/index.js';
import { assemble, Program } from '../../src/seccomp/layout.js';
import { randomData, randomPolicy, Rng } from './random.js';

const call = (nr: number, args: bigint[] = [], arch: number = AUDIT_ARCH.X86_64): SeccompData =>
  ({ nr, arch, instructionPointer: 0n, args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) });

function agree(p: Policy, trials: number, r: Rng): number {
  const { filter } = compile(p);
  checkSeccompFilter(filter);
  assert.ok(filter.length <= BPF_MAXINSNS);
  for (let i = 0; i < trials; i++) {
    const { data, arch } = randomData(r, p);
    const endian = arch ? ARCHES[arch].endian : 'little';
    const got = runFilter(filter, data, endian);
    const want = actionToRet(decide(p, data).action);
    if (got !== want) {
      assert.fail(`filter 0x${got.toString(16)} != policy 0x${want.toString(16)} for ${JSON.stringify(data, (_, v) => typeof v === 'bigint' ? `0x${v.toString(16)}` : v)}\npolicy ${JSON.stringify(p, (_, v) => typeof v === 'bigint' ? `0x${v.toString(16)}` : v)}`);
    }
  }
  return filter.length;
}

test('compiled filter agrees with the policy on random policies and calls (all architectures)', () => {
  const r = new Rng(0x5ecc0);
  for (let i = 0; i < 400; i++) agree(randomPolicy(r), 150, r);
});

test('x86_64 / x32 / i386 split: x32 calls go to the x32 rules or the bad-arch action', () => {
  const p = new PolicyBuilder(ACT.errno(1), ['x86_64']).allow('getpid').badArchAction(ACT.killThread()).build();
  const { filter } = compile(p);
  assert.equal(runFilter(filter, call(39)), actionToRet(ACT.allow()));
  assert.equal(runFilter(filter, call(0x40000000 + 39)), actionToRet(ACT.killThread()));
  assert.equal(runFilter(filter, call(20, [], AUDIT_ARCH.I386)), actionToRet(ACT.killThread()));
  const both = compile(new PolicyBuilder(ACT.errno(1), ['x86_64', 'x32', 'x86']).allow('getpid').build()).filter;
  assert.equal(runFilter(both, call(0x40000000 + 39)), actionToRet(ACT.allow()));
  assert.equal(runFilter(both, call(0x40000000 + 40)), actionToRet(ACT.errno(1)));
  assert.equal(runFilter(both, call(20, [], AUDIT_ARCH.I386)), actionToRet(ACT.allow()));
  const x32only = compile(new PolicyBuilder(ACT.errno(1), ['x32']).allow('getpid').build()).filter;
  assert.equal(runFilter(x32only, call(39)), actionToRet(ACT.killProcess()));
  assert.equal(runFilter(x32only, call(0x40000000 + 39)), actionToRet(ACT.allow()));
});

test('64-bit comparisons use both halves; 32-bit ABIs compare the low word', () => {
  const p = new PolicyBuilder(ACT.errno(1), ['x86_64', 'x86'])
    .add(ACT.allow(), 'personality', arg(0).gt(0x1_00000000n))
    .add(ACT.allow(), 'setpgid', arg(1).maskedEq(0xff000000ffn, 0x1200000034n))
    .build();
  const { filter } = compile(p);
  const allow = actionToRet(ACT.allow());
  const deny = actionToRet(ACT.errno(1));
  assert.equal(runFilter(filter, call(135, [0x1_00000001n])), allow);
  assert.equal(runFilter(filter, call(135, [0x2_00000000n])), allow);
  assert.equal(runFilter(filter, call(135, [0x1_00000000n])), deny);
  assert.equal(runFilter(filter, call(135, [0xffffffffn])), deny);
  assert.equal(runFilter(filter, call(109, [0n, 0xab1200cd0034n])), allow);
  assert.equal(runFilter(filter, call(109, [0n, 0xab1300cd0034n])), deny);
  // i386 personality is 136: the value's high word is ignored, 0 > 0 is false.
  assert.equal(runFilter(filter, call(136, [0x5_00000000n], AUDIT_ARCH.I386)), deny);
  assert.equal(runFilter(filter, call(136, [1n], AUDIT_ARCH.I386)), allow);
});

test('far targets get ja trampolines and still evaluate correctly', () => {
  const b = new PolicyBuilder(ACT.errno(1), ['x86_64']);
  // Many conditional rules on a low syscall push everything after it far away.
  for (let i = 0; i < 120; i++) b.add(ACT.allow(), 'read', arg(0).eq(i), arg(1).lt(1000 + i));
  for (let i = 0; i < 200; i++) b.add(ACT.allow(), 'openat', arg(2).maskedEq(0xff, i));
  b.allow('exit_group', 'write');
  const p = b.build();
  const { filter } = compile(p);
  assert.ok(filter.some((f) => f.code === 0x05), 'expected at least one ja');
  assert.equal(runFilter(filter, call(231)), actionToRet(ACT.allow()));
  assert.equal(runFilter(filter, call(0, [119n, 1118n])), actionToRet(ACT.allow()));
  assert.equal(runFilter(filter, call(0, [119n, 1119n])), actionToRet(ACT.errno(1)));
  agree(p, 3000, new Rng(7));
});

test('policies past 4096 instructions are refused with SeccompCompileError', () => {
  const b = new PolicyBuilder(ACT.errno(1), ['x86_64']);
  for (let i = 0; i < 1500; i++) b.add(ACT.allow(), 'ioctl', arg(1).eq(i));
  assert.throws(() => compile(b.build()), (e: unknown) => e instanceof SeccompCompileError && /at most 4096/.test(e.message));
});

test('rule precedence: the highest-precedence matching rule wins, whatever the order', () => {
  const p = new PolicyBuilder(ACT.allow(), ['x86_64'])
    .add(ACT.errno(5), 'kill', arg(1).eq(9))
    .add(ACT.killProcess(), 'kill', arg(1).eq(9), arg(0).eq(1))
    .add(ACT.log(), 'kill')
    .build();
  const { filter } = compile(p);
  assert.equal(runFilter(filter, call(62, [1n, 9n])), actionToRet(ACT.killProcess()));
  assert.equal(runFilter(filter, call(62, [2n, 9n])), actionToRet(ACT.errno(5)));
  assert.equal(runFilter(filter, call(62, [2n, 15n])), actionToRet(ACT.log()));
  const d = explain(p, 'kill', [1n, 9n]);
  assert.equal(d.decidedBy?.index, 1);
  assert.match(d.reason, /KILL_PROCESS by rule 1 because arg1 == 0x9 && arg0 == 0x1 \(outranks 2 other matching rules\)/);
  assert.match(explain(p, 'getpid').reason, /ALLOW by default: no rule names getpid/);
});

test('builder and policy errors say where', () => {
  assert.throws(() => new PolicyBuilder(ACT.allow(), ['x86_64']).add(ACT.allow(), 'read', arg(6).eq(0)).build(),
    (e: unknown) => e instanceof SeccompPolicyError && /rule 0: argument index 6/.test(e.message));
  assert.throws(() => new PolicyBuilder(ACT.allow(), []).build(), SeccompPolicyError);
  assert.throws(() => explain(new PolicyBuilder(ACT.allow()).build(), 'no_such_call'), /unknown syscall 'no_such_call' on x86_64/);
  const { warnings } = compile(new PolicyBuilder(ACT.allow()).allow('no_such_call').build());
  assert.deepEqual(warnings, ["unknown syscall 'no_such_call' ignored (rule 0)"]);
});

test('the word image matches loadWord for both byte orders', () => {
  const r = new Rng(3);
  for (let i = 0; i < 200; i++) {
    const data: SeccompData = { nr: r.u32(), arch: r.u32(), instructionPointer: r.u64(), args: [r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64()] };
    for (const endian of ['little', 'big'] as const) {
      const img = new DataView(seccompWordImage(data, endian).buffer);
      for (let off = 0; off < 64; off += 4) assert.equal(img.getUint32(off), loadWord(data, off, endian), `${endian} ${off}`);
    }
  }
  const d: SeccompData = { nr: 1, arch: 2, instructionPointer: 0x1122334455667788n, args: [0xaabbccdd00112233n] };
  assert.equal(loadWord(d, 16, 'little'), 0x00112233);
  assert.equal(loadWord(d, 20, 'little'), 0xaabbccdd);
  assert.equal(loadWord(d, 16, 'big'), 0xaabbccdd);
  assert.equal(loadWord(d, 12, 'big'), 0x55667788);
  assert.equal(loadWord(d, 2, 'little'), undefined);
  assert.deepEqual([...encodeSeccompData(d, 'little').subarray(16, 24)], [0x33, 0x22, 0x11, 0x00, 0xdd, 0xcc, 0xbb, 0xaa]);
});

test('assemble: both branches far away get one trampoline each, offsets land on the labels', () => {
  const p = new Program();
  const t = p.label();
  const f = p.label();
  p.insn(0x20, 0); // ld [0]
  p.jump(0x10, 7, t, f); // jeq #7
  for (let i = 0; i < 300; i++) p.insn(0x06, 1000 + i); // filler returns
  p.place(t);
  p.insn(0x06, 1);
  for (let i = 0; i < 300; i++) p.insn(0x06, 2000 + i);
  p.place(f);
  p.insn(0x06, 2);
  const out = assemble(p);
  assert.equal(out.length, 2 + 2 + 300 + 1 + 300 + 1);
  assert.deepEqual(out[1], { code: 0x15, jt: 0, jf: 1, k: 7 });
  const land = (from: number, off: number) => from + 1 + off;
  assert.equal(out[2].code, 0x05);
  assert.deepEqual(out[land(2, out[2].k)], { code: 0x06, jt: 0, jf: 0, k: 1 });
  assert.equal(out[3].code, 0x05);
  assert.deepEqual(out[land(3, out[3].k)], { code: 0x06, jt: 0, jf: 0, k: 2 });
  checkSeccompFilter(out);
});
