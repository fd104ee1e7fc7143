/**
 * Differential mutation test: the programs the kernel accepts (the hand
 * corpus and the clang-compiled fixtures) are mutated in small ways
 * (test/verifier/mutate.ts) and each mutant goes to the kernel and to
 * bpfkit's verifier. Verdicts must agree on at least 97% of mutants, and
 * bpfkit must never accept a mutant the kernel refuses for a safety reason
 * (refusals for the complexity limit aside).
 *
 * BPFKIT_MUTANTS sets the count (default 1500; the full run is 5000 or more),
 * BPFKIT_MUTANT_SEED the generator's seed.
 */
import assert from 'node:assert/strict';
import { kernelTest } from '../helpers/kernel.js';
import type { Insn } from '../../src/isa/index.js';
import { verify, type MapInfo, type ProgType } from '../../src/verifier/index.js';
import { compilePrograms, MAPS } from './compiled.js';
import { CORPUS } from './corpus.js';
import { kernelVerify, possibleCpus } from './kernel-oracle.js';
import { mutate, MUTATION_KINDS } from './mutate.js';
import { rng } from './random-programs.js';

const COUNT = Number(process.env.BPFKIT_MUTANTS ?? 1500);
const SEED = Number(process.env.BPFKIT_MUTANT_SEED ?? 0x6d757461);
const COMPLEXITY = /BPF program is too large|too complex|too many states|complexity limit/;

interface Base { readonly name: string; readonly insns: readonly Insn[]; readonly type: ProgType; readonly maps: readonly MapInfo[] }

/** The kernel's reason: the last log line that is not a statistics trailer. */
export function kernelReason(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l && !/^(processed \d+ insns|verification time|stack depth|mark_precise|\d+: )/.test(l));
  return (lines[lines.length - 1] ?? '(no log)').replace(/-?\d+/g, 'N');
}

kernelTest(`${COUNT} mutants of accepted programs: >= 97% same verdicts, no unsafe accepts`, { timeout: 600_000 }, (t) => {
  const nrCpus = possibleCpus();
  const bases: Base[] = [];
  for (const c of CORPUS) {
    const maps = c.maps ?? [];
    if (kernelVerify(c.insns, c.type, maps).accepted) bases.push({ name: c.name, insns: c.insns, type: c.type, maps });
  }
  for (const p of compilePrograms()) {
    if (kernelVerify(p.insns, p.type, MAPS).accepted) bases.push({ name: p.section, insns: p.insns, type: p.type, maps: MAPS });
  }
  assert.ok(bases.length > 100, `only ${bases.length} accepted base programs`);
  const next = rng(SEED);
  let total = 0, agree = 0;
  const classes = new Map<string, number>();
  const unsafe: string[] = [];
  let guard = 0;
  while (total < COUNT && guard++ < COUNT * 20) {
    // Compiled programs are few but rich: draw them as often as the hand corpus.
    const base = bases[Math.floor(next() * bases.length)];
    const m = mutate(next, base.insns, MUTATION_KINDS[Math.floor(next() * MUTATION_KINDS.length)]);
    if (!m) continue;
    total++;
    const k = kernelVerify(m.insns, base.type, base.maps);
    const o = verify(m.insns, { progType: base.type, maps: base.maps, nrCpus, insnLimit: 1_000_000 });
    if (k.accepted === o.accepted) { agree++; continue; }
    const key = k.accepted
      ? `${m.kind}: kernel accepts, ours refuses '${o.errors[0]?.message.replace(/-?\d+/g, 'N')}'`
      : `${m.kind}: kernel refuses '${kernelReason(k.log)}', ours accepts`;
    classes.set(key, (classes.get(key) ?? 0) + 1);
    if (!k.accepted && !COMPLEXITY.test(k.log)) {
      unsafe.push(`${base.name} [${base.type}] ${m.kind} at ${m.at}\n--- kernel\n${k.log}`);
    }
  }
  const sorted = [...classes].sort((a, b) => b[1] - a[1]);
  t.diagnostic(`seed ${SEED}; bases ${bases.length}; mutants ${total}; same verdict ${agree} (${((100 * agree) / total).toFixed(2)}%); unsafe accepts ${unsafe.length}`);
  for (const [k, n] of sorted) t.diagnostic(`${n}\t${k}`);
  assert.equal(total, COUNT, 'not enough applicable mutations');
  assert.deepEqual(unsafe.slice(0, 3), [], 'bpfkit accepted mutants the kernel refuses');
  assert.ok(agree / total >= 0.97, `verdicts agree on ${agree}/${total} only`);
});
