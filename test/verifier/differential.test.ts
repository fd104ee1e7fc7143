/**
 * Differential test: every corpus case is loaded into the running kernel
 * (privileged, log level 1) and checked with bpfkit's verifier. Verdicts and
 * first error messages must agree; full logs must agree for nearly all cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelTest } from '../helpers/kernel.js';
import { verify } from '../../src/verifier/index.js';
import { CORPUS } from './corpus.js';
import { kernelUnusableReason, kernelVerify, possibleCpus } from './kernel-oracle.js';

const nrCpus = possibleCpus();

/** Map addresses and precision marks are not ours to reproduce; the `;` column depends on the address width. */
const normalize = (log: string): string => log
  .replace(/ +;/g, ' ;')
  .replace(/\(18\) r(\d+) = 0x[0-9a-f]+/g, '(18) r$1 = ADDR')
  .replace(/\bP(-?\d)/g, '$1');

let compared = 0, logIdentical = 0;
const logDiffs: string[] = [];

for (const c of CORPUS) {
  kernelTest(`verifier agrees with the kernel: ${c.name} [${c.type}]`, () => {
    const why = kernelUnusableReason();
    if (why) assert.fail(`kernel oracle unusable: ${why}`);
    const kernel = kernelVerify(c.insns, c.type, c.maps ?? [], 1);
    const ours = verify(c.insns, { progType: c.type, maps: c.maps ?? [], logLevel: 1, nrCpus });
    assert.equal(ours.accepted, kernel.accepted, `verdict differs\n--- kernel\n${kernel.log}--- ours\n${ours.log}`);
    if (!kernel.accepted) {
      const first = ours.errors[0];
      assert.ok(first, 'a refusal must carry an issue');
      assert.ok(kernel.log.includes(first.message), `first error differs: ours '${first.message}'\n--- kernel\n${kernel.log}`);
      const insnLines = kernel.log.match(/^(\d+): \(/gm);
      if (insnLines) assert.equal(first.insn, Number(insnLines[insnLines.length - 1].slice(0, -3)), 'refused at a different instruction');
    }
    compared++;
    if (normalize(ours.log) === normalize(kernel.log)) logIdentical++;
    else logDiffs.push(c.name);
    // Level 2 opens with the subprogram list and the live-register table; those must be identical.
    const head = (log: string): string => {
      const lines = log.split('\n');
      const n = lines.findIndex((l) => !/^(func#\d+ @\d+|Live regs before insn:|[ \d]{3} +\d+: .*)$/.test(l));
      return normalize(lines.slice(0, n < 0 ? lines.length : n).join('\n'));
    };
    const k2 = kernelVerify(c.insns, c.type, c.maps ?? [], 2).log;
    const o2 = verify(c.insns, { progType: c.type, maps: c.maps ?? [], logLevel: 2, nrCpus }).log;
    if (k2.includes('Live regs before insn:')) {
      assert.ok(head(k2).includes('Live regs before insn:'));
      assert.equal(head(o2), head(k2), 'level-2 header differs');
    }
  });
}

test('log agreement with the kernel is at least 98%', (t) => {
  if (compared === 0) { t.skip('no kernel comparisons ran'); return; }
  t.diagnostic(`cases ${compared}, identical logs ${logIdentical} (${((100 * logIdentical) / compared).toFixed(1)}%)`);
  if (logDiffs.length) t.diagnostic(`log differs: ${logDiffs.join('; ')}`);
  assert.ok(logIdentical / compared >= 0.98, `only ${logIdentical}/${compared} logs identical`);
});
