/**
 * bpfkit's verifier against the kernel's, on the verifier corpus
 * (test/verifier/corpus.ts and the clang-compiled fixtures), in one run.
 *
 *   node --import tsx bench/verifier.ts [--runs N] [--json]
 *
 * The kernel's figure is its own "verification time N usec" (log level
 * BPF_LOG_STATS, so no per-instruction log is written), the median of N
 * loads per program; ours is the median of N `verify()` calls at log level
 * 0 after a warm-up. Both exclude map creation. Prints totals, the ratio,
 * and the same per class of program (hand-written, context-offset family,
 * scalar-arithmetic family, compiled), plus processed instructions and our
 * cost per processed instruction.
 */
import { compilePrograms, MAPS } from '../test/verifier/compiled.js';
import { CORPUS } from '../test/verifier/corpus.js';
import { kernelUnusableReason, kernelVerify, possibleCpus } from '../test/verifier/kernel-oracle.js';
import type { Insn } from '../src/isa/index.js';
import { verify, type MapInfo, type ProgType } from '../src/verifier/index.js';

interface Item { readonly name: string; readonly cls: string; readonly insns: readonly Insn[]; readonly type: ProgType; readonly maps: readonly MapInfo[] }

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 7;
const JSON_OUT = args.includes('--json');

const classOf = (name: string): string =>
  name.startsWith('ctx ') ? 'ctx-family' : name.startsWith('alu ') || name.startsWith('branch ') ? 'alu-family' : 'hand-written';

const items: Item[] = [
  ...CORPUS.map((c) => ({ name: c.name, cls: classOf(c.name), insns: c.insns, type: c.type, maps: c.maps ?? [] })),
  ...compilePrograms().map((p) => ({ name: p.section, cls: 'compiled', insns: p.insns, type: p.type, maps: MAPS })),
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const why = kernelUnusableReason();
if (why) {
  console.error(`bench/verifier: the kernel is not usable here (${why})`);
  process.exit(1);
}
const nrCpus = possibleCpus();

interface Row { cls: string; kernelUs: number; oursUs: number; processed: number; n: number }
const rows = new Map<string, Row>();
const total: Row = { cls: 'total', kernelUs: 0, oursUs: 0, processed: 0, n: 0 };

// Warm-up: let V8 optimise the verifier before anything is timed.
for (let w = 0; w < 3; w++) for (const it of items) verify(it.insns, { progType: it.type, maps: it.maps, nrCpus });

for (const it of items) {
  const k: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const v = kernelVerify(it.insns, it.type, it.maps, 4);
    if (v.verifyUsec !== undefined) k.push(v.verifyUsec);
  }
  const o: number[] = [];
  let processed = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const res = verify(it.insns, { progType: it.type, maps: it.maps, nrCpus });
    o.push((performance.now() - t0) * 1000);
    processed = res.stats.processed;
  }
  // Refused before the verifier ran (no time reported): count neither side.
  if (k.length === 0) continue;
  const row = rows.get(it.cls) ?? { cls: it.cls, kernelUs: 0, oursUs: 0, processed: 0, n: 0 };
  rows.set(it.cls, row);
  for (const r of [row, total]) {
    r.kernelUs += median(k);
    r.oursUs += median(o);
    r.processed += processed;
    r.n++;
  }
}

const all = [...rows.values(), total];
if (JSON_OUT) {
  console.log(JSON.stringify(all.map((r) => ({ ...r, ratio: r.oursUs / r.kernelUs })), null, 2));
} else {
  console.log(`verifier corpus, median of ${RUNS} runs per program (kernel: its "verification time"; ours: verify() at log level 0)`);
  console.log(`${'class'.padEnd(14)}${'programs'.padStart(9)}${'processed'.padStart(11)}${'kernel µs'.padStart(12)}${'ours µs'.padStart(12)}${'ratio'.padStart(8)}${'ours ns/insn'.padStart(14)}`);
  for (const r of all) {
    console.log(`${r.cls.padEnd(14)}${String(r.n).padStart(9)}${String(r.processed).padStart(11)}${r.kernelUs.toFixed(0).padStart(12)}${r.oursUs.toFixed(0).padStart(12)}${(r.oursUs / r.kernelUs).toFixed(2).padStart(8)}${((1000 * r.oursUs) / Math.max(1, r.processed)).toFixed(0).padStart(14)}`);
  }
}
