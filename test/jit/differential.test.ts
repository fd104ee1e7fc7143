/**
 * Differential tests: random programs on the interpreter and on the JIT
 * must agree on r0, input memory, stack, instruction count and errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateProgram, vmProgram } from '../kernel/random-program.js';
import { chaos } from './chaos.js';
import { both } from './harness.js';

test('2,000 verifier-friendly random programs (the kernel differential generator) agree', () => {
  let ok = 0;
  for (let i = 0; i < 2000; i++) {
    const p = generateProgram(0x51ed0000 + i);
    const { interp, jit } = both(vmProgram(p), p.input);
    assert.deepEqual(jit, interp, `seed ${0x51ed0000 + i}`);
    if (interp.ok) ok++;
  }
  assert.ok(ok >= 1990, `${ok} programs ran to the end`);
});

test('3,000 unverified chaos programs agree, errors included', () => {
  const kinds = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const { program, mem } = chaos(0xc4a05 + i);
    const { interp, jit } = both(program, mem, { budget: 1 + (i % 7) * 300, runs: 1 + (i % 3) });
    assert.deepEqual(jit, interp, `chaos seed ${0xc4a05 + i}`);
    const k = interp.ok ? 'ok' : interp.error;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  // The mix must exercise normal ends, faults and budget exhaustion.
  for (const k of ['ok', 'VmMemoryError', 'VmBudgetError', 'VmUnknownHelperError']) {
    assert.ok((kinds.get(k) ?? 0) >= 20, `${k}: ${kinds.get(k) ?? 0} of 3000 (${JSON.stringify([...kinds])})`);
  }
});
