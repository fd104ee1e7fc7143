/**
 * Programs compiled by clang (test/verifier/fixtures/progs.bpf.c) checked by
 * bpfkit's verifier and by the running kernel: verdicts and first errors
 * must agree. Also checks which program types may call each modelled helper.
 */
import assert from 'node:assert/strict';
import { kernelTest } from '../helpers/kernel.js';
import { build as b } from '../../src/isa/index.js';
import { HELPERS, verify, type ProgType } from '../../src/verifier/index.js';
import { compilePrograms, MAPS } from './compiled.js';
import { kernelVerify, possibleCpus } from './kernel-oracle.js';

const programs = compilePrograms();

for (const p of programs) {
  kernelTest(`compiled ${p.section}: verdict and first error match the kernel`, () => {
    const kernel = kernelVerify(p.insns, p.type, MAPS, 1);
    const ours = verify(p.insns, { progType: p.type, maps: MAPS, logLevel: 1, nrCpus: possibleCpus() });
    assert.equal(ours.accepted, kernel.accepted, `--- kernel\n${kernel.log}--- ours\n${ours.log}`);
    if (!kernel.accepted) assert.ok(kernel.log.includes(ours.errors[0].message), `ours: ${ours.errors[0].message}\n--- kernel\n${kernel.log}`);
  });
}

kernelTest('helper availability per program type matches the kernel', () => {
  const types: ProgType[] = ['socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb', 'raw_tracepoint'];
  const wrong: string[] = [];
  for (const id of HELPERS.keys()) {
    for (const t of types) {
      const prog = [b.call(id), b.mov64(0, b.imm(0)), b.exit()];
      const unavailable = (log: string): boolean => /cannot use helper/.test(log);
      const k = unavailable(kernelVerify(prog, t, [], 1).log);
      const o = unavailable(verify(prog, { progType: t, logLevel: 1 }).log);
      if (k !== o) wrong.push(`helper ${id} for ${t}: kernel ${k ? 'refuses' : 'allows'}`);
    }
  }
  assert.deepEqual(wrong, []);
});
