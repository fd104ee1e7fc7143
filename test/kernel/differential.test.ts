/**
 * Differential test: random programs the kernel's verifier accepts, run in
 * the kernel (XDP, BPF_PROG_TEST_RUN) and in bpfkit's interpreter; the full
 * 64-bit r0 must agree. Directed cases below pin down the semantics the
 * random generator leaves out (see random-program.ts for why).
 *
 *   BPFKIT_DIFF_SEED   base seed (default 0x5eed; "random" picks one)
 *   BPFKIT_DIFF_COUNT  programs to run (default 500)
 *
 * A difference is minimised (body instructions dropped while it persists)
 * and reported with the seed, both r0 values, and the program.
 */
import assert from 'node:assert/strict';
import { build as b, type Insn } from '../../src/isa/index.js';
import { run } from '../../src/vm/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { DifferentialRunner, describeDifference, differs } from './differential-harness.js';
import { generateProgram, INPUT_SIZE } from './random-program.js';

checkFdLeaks();

function baseSeed(): number {
  const env = process.env.BPFKIT_DIFF_SEED;
  if (env === undefined || env === '') return 0x5eed;
  if (env === 'random') return (Math.random() * 0x100000000) >>> 0;
  const n = Number(env);
  if (!Number.isInteger(n)) throw new Error(`BPFKIT_DIFF_SEED must be an integer or "random", not ${env}`);
  return n >>> 0;
}

const count = Number(process.env.BPFKIT_DIFF_COUNT ?? 500);

kernelTest(`random programs: interpreter r0 equals kernel r0 (${count} programs)`, { timeout: 120_000 }, (t) => {
  const seed = baseSeed();
  t.diagnostic(`BPFKIT_DIFF_SEED=${seed} BPFKIT_DIFF_COUNT=${count}`);
  using runner = new DifferentialRunner();
  const reports: string[] = [];
  const start = performance.now();
  for (let i = 0; i < count && reports.length < 3; i++) {
    const p = generateProgram((seed + i) >>> 0);
    let o;
    try {
      o = runner.outcome(p);
    } catch (e) {
      // A refusal is a generator bug: say which program.
      throw new Error(`program seed ${p.seed} (base seed ${seed}): ${(e as Error).message}`, { cause: e });
    }
    if (differs(o)) {
      const small = runner.minimize(p);
      reports.push(describeDifference(small, runner.outcome(small)));
    }
  }
  const secs = (performance.now() - start) / 1000;
  t.diagnostic(`${count} programs in ${secs.toFixed(2)} s: ${(count / secs).toFixed(0)} programs/s`);
  assert.equal(reports.length, 0, `interpreter and kernel disagree (base seed ${seed}):\n\n${reports.join('\n\n')}`);
});

/**
 * Hand-written programs with hand-computed results: the harness must get
 * the full 64-bit r0 out of the kernel, and both sides must give it.
 */
const DIRECTED: { name: string; body: Insn[]; r0: bigint }[] = [
  { name: 'lddw reaches the upper half', body: [b.lddw(0, 0x1122334455667788n)], r0: 0x1122334455667788n },
  { name: 'div by zero register gives 0', body: [b.mov64(0, b.imm(77)), b.mov64(3, b.imm(0)), b.div64(0, 3)], r0: 0n },
  { name: 'mod by zero register keeps dst', body: [b.lddw(0, 0xfedcba9876543210n), b.mov64(3, b.imm(0)), b.mod64(0, 3)], r0: 0xfedcba9876543210n },
  { name: 'mod32 by zero register zero-extends dst', body: [b.lddw(0, 0xfedcba9876543210n), b.mov64(3, b.imm(0)), b.mod32(0, 3)], r0: 0x76543210n },
  {
    name: 'sdiv INT64_MIN / -1 wraps',
    body: [b.lddw(0, 0x8000000000000000n), { kind: 'alu', width: 64, op: 'sdiv', dst: 0, src: b.imm(-1) }],
    r0: 0x8000000000000000n,
  },
  {
    name: 'smod32 INT32_MIN % -1 is 0',
    body: [b.mov32(0, b.imm(-0x80000000)), { kind: 'alu', width: 32, op: 'smod', dst: 0, src: b.imm(-1) }],
    r0: 0n,
  },
  { name: 'lsh by register takes the amount mod 64', body: [b.mov64(0, b.imm(1)), b.mov64(3, b.imm(65)), b.lsh64(0, 3)], r0: 2n },
  { name: 'rsh32 by register takes the amount mod 32', body: [b.mov32(0, b.imm(-1)), b.mov64(3, b.imm(33)), b.rsh32(0, 3)], r0: 0x7fffffffn },
  {
    name: 'cmpxchg32 success zero-extends r0',
    body: [
      b.lddw(0, 0xc99bd1e86c7f8000n), b.stx(8, 10, 0, -8), b.mov64(4, b.imm(11)),
      { kind: 'atomic', size: 4, op: 'cmpxchg', fetch: true, dst: 10, src: 4, off: -8 },
    ],
    r0: 0x6c7f8000n,
  },
  {
    name: 'cmpxchg32 failure loads the old value zero-extended',
    body: [
      b.lddw(3, 0xffffffff00000005n), b.stx(8, 10, 3, -8), b.lddw(0, 0xffffffff00000006n), b.mov64(4, b.imm(7)),
      { kind: 'atomic', size: 4, op: 'cmpxchg', fetch: true, dst: 10, src: 4, off: -8 },
    ],
    r0: 5n,
  },
  {
    name: 'cmpxchg32 success writes only the low word',
    body: [
      b.lddw(0, 0xffffffff00000005n), b.stx(8, 10, 0, -8), b.mov64(4, b.imm(7)),
      { kind: 'atomic', size: 4, op: 'cmpxchg', fetch: true, dst: 10, src: 4, off: -8 },
      b.ldx(8, 0, 10, -8),
    ],
    r0: 0xffffffff00000007n,
  },
  {
    name: 'fetch-add32 loads the old value zero-extended',
    body: [
      b.lddw(1, 0x80000000fffffffen), b.stx(8, 10, 1, -16), b.lddw(2, 0x1234567800000003n),
      { kind: 'atomic', size: 4, op: 'add', fetch: true, dst: 10, src: 2, off: -16 },
      b.ldx(8, 0, 10, -16), b.xor64(0, 2),
    ],
    r0: 0x80000000_00000001n ^ 0xfffffffen,
  },
  {
    name: 'sign-extending loads and movsx',
    body: [
      b.mov64(1, b.imm(0x80)), b.stx(8, 10, 1, -8),
      { kind: 'ldx', size: 1, signExtend: true, dst: 0, src: 10, off: -8 },
      { kind: 'movsx', width: 32, bits: 8, dst: 3, src: 1 }, b.add64(0, 3),
    ],
    r0: BigInt.asUintN(64, 0xffffffffffffff80n + 0xffffff80n),
  },
  { name: 'be16 keeps only 16 bits', body: [b.lddw(0, 0x1122334455667788n), { kind: 'endian', order: 'be', bits: 16, dst: 0 }], r0: 0x8877n },
  { name: 'bswap64', body: [b.lddw(0, 0x1122334455667788n), { kind: 'endian', order: 'swap', bits: 64, dst: 0 }], r0: 0x8877665544332211n },
];

for (const c of DIRECTED) {
  kernelTest(`directed: ${c.name}`, () => {
    using runner = new DifferentialRunner();
    const vm = run([...c.body, b.exit()], { mem: new Uint8Array(INPUT_SIZE) }).r0;
    const kernel = runner.kernelR0Of(c.body);
    assert.equal(`0x${kernel.toString(16)}`, `0x${c.r0.toString(16)}`, 'kernel');
    assert.equal(`0x${vm.toString(16)}`, `0x${c.r0.toString(16)}`, 'interpreter');
  });
}
