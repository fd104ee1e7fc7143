/**
 * Kernel-independent checks: tnum soundness on random values, scalar range
 * arithmetic, structure errors and the complexity limit, the log format, and
 * the `bpfkit verify` command. Expected messages were established by loading
 * the same programs into Linux 6.18 (see differential.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build as b, encode } from '../../src/isa/index.js';
import { verify, verifyOrThrow, VerifierError } from '../../src/verifier/index.js';
import { tnumAdd, tnumAnd, tnumConst, tnumIn, tnumMul, tnumOr, tnumRange, tnumSub, tnumXor, type Tnum } from '../../src/verifier/tnum.js';
import { knownScalar, scalarAlu, unknownScalar, boundsSync } from '../../src/verifier/bounds.js';
import { regStr } from '../../src/verifier/log.js';
import { scalarReg } from '../../src/verifier/reg-state.js';
import verifyCommand from '../../src/cli/commands/verify.js';

const { mov64, imm, exit, add64, jlt, ja, call, and64, ldx } = b;
const U64 = (1n << 64n) - 1n;

/** A deterministic 64-bit generator (xorshift). */
function rng(seed: bigint): () => bigint {
  let x = seed;
  return () => {
    x ^= (x << 13n) & U64; x ^= x >> 7n; x ^= (x << 17n) & U64;
    return x;
  };
}

/** A random tnum and a random member of it. */
function sample(next: () => bigint): [Tnum, bigint] {
  const mask = next() & next();
  const value = next() & ~mask & U64;
  const member = (value | (next() & mask)) & U64;
  return [{ value, mask }, member];
}

test('tnum operations contain every concrete result', () => {
  const next = rng(0x9e3779b97f4a7c15n);
  const ops: [string, (a: Tnum, b: Tnum) => Tnum, (x: bigint, y: bigint) => bigint][] = [
    ['add', tnumAdd, (x, y) => (x + y) & U64], ['sub', tnumSub, (x, y) => (x - y) & U64],
    ['mul', tnumMul, (x, y) => (x * y) & U64], ['and', tnumAnd, (x, y) => x & y],
    ['or', tnumOr, (x, y) => x | y], ['xor', tnumXor, (x, y) => x ^ y],
  ];
  for (let i = 0; i < 300; i++) {
    const [a, x] = sample(next);
    const [c, y] = sample(next);
    for (const [name, op, concrete] of ops) {
      assert.ok(tnumIn(op(a, c), tnumConst(concrete(x, y))), `${name} lost ${x} op ${y}`);
    }
  }
  assert.deepEqual(tnumRange(0n, 255n), { value: 0n, mask: 255n });
});

test('scalar ranges after masking match the kernel log', () => {
  const r = scalarAlu('and', unknownScalar(), knownScalar(0xffn), 64);
  assert.equal(regStr(scalarReg(r), 0), 'scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
  const sh = scalarAlu('rsh', unknownScalar(), knownScalar(60n), 64);
  assert.equal(regStr(scalarReg(sh), 0), 'scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))');
  const w = scalarAlu('add', unknownScalar(), knownScalar(0n), 32);
  assert.equal(regStr(scalarReg(w), 0), 'scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
  const k = knownScalar(5n);
  boundsSync(k);
  assert.equal(regStr(scalarReg(scalarAlu('mul', k, knownScalar(3n), 64)), 0), '15');
});

test('structure errors carry the kernel message and location', () => {
  const cases: [ReturnType<typeof exit>[], string, number][] = [
    [[ja(5), exit()], 'jump out of range from insn 0 to 6', 0],
    [[mov64(0, imm(0))], 'last insn is not an exit or jmp', 0],
    [[mov64(0, imm(0)), exit(), mov64(0, imm(1)), exit()], 'unreachable insn 2', 2],
  ];
  for (const [prog, msg, insn] of cases) {
    const r = verify(prog, { progType: 'xdp', logLevel: 1 });
    assert.equal(r.accepted, false);
    assert.equal(r.errors[0].message, msg);
    assert.equal(r.errors[0].insn, insn);
    assert.match(r.log, new RegExp(`^${msg}\\nprocessed 0 insns`));
  }
});

test('the complexity limit stops long loops with the kernel message', () => {
  const prog = [mov64(0, imm(0)), add64(0, imm(1)), jlt(0, imm(400000), -2), exit()];
  const r = verify(prog, { progType: 'xdp', insnLimit: 2000 });
  assert.equal(r.accepted, false);
  assert.equal(r.errors[0].message, 'BPF program is too large. Processed 2001 insn');
  assert.equal(r.stats.processed, 2001);
});

test('accepted programs report statistics and an empty path log at level 1', () => {
  const r = verify([call(7), and64(0, imm(1)), exit()], { progType: 'cgroup_skb', logLevel: 1 });
  assert.equal(r.accepted, true);
  assert.equal(r.log, 'processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n');
  const l2 = verify([mov64(0, imm(0)), exit()], { progType: 'xdp', logLevel: 2 });
  assert.match(l2.log, /0: \(b7\) r0 = 0 {24}; R0=0\n1: \(95\) exit\n/);
  assert.equal(l2.states?.get(1), 'R0=0 R1=ctx() R10=fp0');
});

test('refusals carry a structured issue with the instruction text', () => {
  const r = verify([ldx(8, 0, 0, 0), exit()], { progType: 'xdp' });
  assert.deepEqual(r.errors[0], { insn: 0, message: 'R0 !read_ok', hint: 'R0 is read before anything was written to it', line: '0: (79) r0 = *(u64 *)(r0 +0)' });
  assert.throws(() => verifyOrThrow([ldx(8, 0, 0, 0), exit()], { progType: 'xdp', logLevel: 1 }), (e: unknown) =>
    e instanceof VerifierError && e.log.includes('R0 !read_ok') && e.issues[0].insn === 0);
  const err = new VerifierError(r.errors, r.log);
  assert.equal(err.code, 'VERIFIER_REJECTED');
  assert.equal(err.message, 'insn 0: R0 !read_ok');
});

test('empty and hostile programs give a verdict, not a crash', () => {
  const r = verify([], { progType: 'xdp' });
  assert.equal(r.accepted, false);
  const deep = verify([{ kind: 'call_local', off: -1 }, exit()], { progType: 'xdp', logLevel: 1 });
  assert.equal(deep.accepted, false);
  assert.equal(deep.errors[0].message, 'the call stack of 9 frames is too deep');
});

async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await verifyCommand(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => new Uint8Array() });
  return { code, out, err };
}

test('bpfkit verify: bytecode and assembly files, exit codes, --json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-verify-'));
  const bin = join(dir, 'ok.bin');
  writeFileSync(bin, encode([mov64(0, imm(2)), exit()]));
  const ok = await runCli([bin, '--type', 'xdp']);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /^processed 2 insns/);
  const asm = join(dir, 'bad.s');
  writeFileSync(asm, 'r0 = r2\nexit\n');
  const bad = await runCli([asm, '--log-level', '1']);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /0: \(bf\) r0 = r2\nR2 !read_ok\n/);
  const js = await runCli([asm, '--json', '--type', 'socket']);
  const parsed = JSON.parse(js.out) as { accepted: boolean; errors: { insn: number; message: string }[] };
  assert.equal(parsed.accepted, false);
  assert.equal(parsed.errors[0].message, 'R2 !read_ok');
  await assert.rejects(runCli([asm, '--type', 'nope']), /unknown program type/);
  const mapBin = join(dir, 'map.bin');
  writeFileSync(mapBin, encode([b.st(4, 10, -4, 0), mov64(2, 10), add64(2, imm(-4)), b.lddw(1, 3n, 'map_fd'), call(1), ldx(8, 0, 0, 0), exit()]));
  const m = await runCli([mapBin, '--map', '3:hash:4:8:16']);
  assert.equal(m.code, 1);
  assert.match(m.out, /R0=map_value_or_null\(id=1,ks=4,vs=8\)\n6: \(79\) r0 = \*\(u64 \*\)\(r0 \+0\)\nR0 invalid mem access 'map_value_or_null'\n/);
  const noMap = await runCli([mapBin]);
  assert.match(noMap.out, /fd 3 is not pointing to valid bpf_map/);
});

test('bpf_loop callbacks (with BTF function info) check the callback and its return value', () => {
  const { lddw, st, stx } = b;
  const loop = (cbBody: ReturnType<typeof exit>[]) => [
    st(8, 10, -8, 0), mov64(1, imm(10)), lddw(2, 7n, 'func'), mov64(3, 10), add64(3, imm(-8)), mov64(4, imm(0)), call(181),
    ldx(8, 0, 10, -8), exit(), ...cbBody,
  ];
  const ok = verify(loop([ldx(8, 1, 2, 0), stx(8, 2, 1, 0), mov64(0, imm(0)), exit()]), { progType: 'xdp', btfFuncInfo: true, logLevel: 1, insnLimit: 5000 });
  assert.equal(ok.accepted, true, ok.log);
  const bad = verify(loop([mov64(0, imm(2)), exit()]), { progType: 'xdp', btfFuncInfo: true, insnLimit: 5000 });
  assert.equal(bad.errors[0].message, 'At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]');
  const noBtf = verify(loop([mov64(0, imm(0)), exit()]), { progType: 'xdp' });
  assert.equal(noBtf.errors[0].message, 'missing btf func_info');
  const oob = verify(loop([mov64(3, 10), add64(3, 1), st(1, 3, -1, 0), mov64(0, imm(0)), exit()]), { progType: 'xdp', btfFuncInfo: true, insnLimit: 5000 });
  assert.equal(oob.accepted, false);
});
