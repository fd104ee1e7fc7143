/**
 * Which helpers each program type may call, against the kernel's verifier:
 * a program that only calls the helper is refused with "cannot use helper"
 * or "unknown func" exactly when our table says the type may not call it
 * (any other refusal is about the zeroed arguments, so the call is allowed).
 */
import assert from 'node:assert/strict';
import { allowedHelpers, helperId, IMPLEMENTED_HELPER_NAMES } from '../../src/helpers/index.js';
import { loadProgram, VerifierError, type ProgType } from '../../src/kernel/index.js';
import type { Insn } from '../../src/isa/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';

checkFdLeaks();

function kernelAllows(type: ProgType, helper: number): boolean {
  const insns: Insn[] = [];
  for (const r of [1, 2, 3, 4, 5] as const) insns.push({ kind: 'alu', width: 64, op: 'mov', dst: r, src: { imm: 0 } });
  insns.push({ kind: 'call', helper }, { kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: 0 } }, { kind: 'exit' });
  try {
    loadProgram({ type, insns, license: 'GPL' }).close();
    return true;
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    return !/cannot use helper|unknown func/.test(e.log ?? e.message);
  }
}

for (const type of ['xdp', 'sched_cls', 'socket_filter', 'cgroup_skb', 'tracepoint', 'kprobe', 'raw_tracepoint', 'perf_event'] as const) {
  kernelTest(`helpers ${type} programs may call match the kernel`, () => {
    const ours = allowedHelpers(type)!;
    const wrong: string[] = [];
    for (const name of IMPLEMENTED_HELPER_NAMES) {
      const k = kernelAllows(type, helperId(name));
      if (k !== ours.has(name)) wrong.push(`${name}: kernel ${k ? 'allows' : 'refuses'}`);
    }
    assert.deepEqual(wrong, []);
  });
}
