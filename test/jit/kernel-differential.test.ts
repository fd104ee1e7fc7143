/**
 * Differential test, kernel against the JIT: random programs the kernel's
 * verifier accepts (test/kernel/random-program.ts) run in the kernel (XDP,
 * BPF_PROG_TEST_RUN) and on bpfkit's WebAssembly JIT, both with memory
 * checks and in the `verified` mode that drops them (the kernel accepted
 * every program); the full 64-bit r0 must agree, with no difference.
 *
 *   BPFKIT_DIFF_SEED   base seed (default 0x1eed; "random" picks one)
 *   BPFKIT_JIT_DIFF_COUNT  programs to run (default 2000)
 */
import assert from 'node:assert/strict';
import { compile } from '../../src/jit/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { DifferentialRunner } from '../kernel/differential-harness.js';
import { generateProgram, vmProgram, type RandomProgram } from '../kernel/random-program.js';

checkFdLeaks();

function baseSeed(): number {
  const env = process.env.BPFKIT_DIFF_SEED;
  if (env === undefined || env === '') return 0x1eed;
  if (env === 'random') return (Math.random() * 0x100000000) >>> 0;
  const n = Number(env);
  if (!Number.isInteger(n)) throw new Error(`BPFKIT_DIFF_SEED must be an integer or "random", not ${env}`);
  return n >>> 0;
}

const count = Number(process.env.BPFKIT_JIT_DIFF_COUNT ?? 2000);

function jitR0(p: RandomProgram, verified: boolean): bigint | string {
  try {
    return compile(vmProgram(p), { verified }).run(p.input).r0;
  } catch (e) {
    return `threw ${(e as Error).name}: ${(e as Error).message}`;
  }
}

const hex64 = (v: bigint | string): string => (typeof v === 'bigint' ? `0x${v.toString(16).padStart(16, '0')}` : v);

kernelTest(`random programs: JIT r0 equals kernel r0 (${count} programs)`, { timeout: 300_000 }, (t) => {
  const seed = baseSeed();
  t.diagnostic(`BPFKIT_DIFF_SEED=${seed} BPFKIT_JIT_DIFF_COUNT=${count}`);
  using runner = new DifferentialRunner();
  const reports: string[] = [];
  const start = performance.now();
  let compared = 0;
  for (let i = 0; i < count && reports.length < 5; i++) {
    const p = generateProgram((seed + i) >>> 0);
    let kernel: bigint;
    try {
      kernel = runner.kernelR0(p);
    } catch (e) {
      throw new Error(`program seed ${p.seed} (base seed ${seed}): ${(e as Error).message}`, { cause: e });
    }
    for (const verified of [false, true]) {
      const jit = jitR0(p, verified);
      compared++;
      if (jit !== kernel) {
        reports.push(`seed ${p.seed}${verified ? ' (verified mode)' : ''}: kernel r0 = ${hex64(kernel)}, JIT r0 = ${hex64(jit)}`);
      }
    }
  }
  const secs = (performance.now() - start) / 1000;
  t.diagnostic(`${count} programs (${compared} JIT runs) in ${secs.toFixed(2)} s`);
  assert.equal(compared, 2 * count);
  assert.equal(reports.length, 0, `JIT and kernel disagree (base seed ${seed}):\n${reports.join('\n')}`);
});
