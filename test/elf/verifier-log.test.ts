/**
 * `--style kernel` equals the kernel's verifier log: each corpus program
 * that loads here is loaded through loadCollection with log_level 2, the
 * log's instruction lines (`N: (xx) text`, state comments after `;`
 * dropped, and Linux 6.15+'s "Live regs before insn" listing) are parsed, and each must equal formatInsn(insn, 'kernel') of
 * the instruction at slot N of the same program as we relocated it (our
 * CO-RE applied against the running kernel, maps and kfuncs resolved).
 *
 * Normalised, because they are run-specific: the 64-bit immediate of
 * `lddw` loads of maps, map values and ksyms. The verifier has already
 * replaced the fd (or BTF id) with a kernel address when it prints them
 * (resolve_pseudo_ldimm64 runs before do_check), so both sides print
 * `rN = <addr>` there. Nothing else is touched.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { formatInsn } from '../../src/asm/index.js';
import { applyCoreRelocations, loadCollectionSpec, type CollectionSpec, type ProgramSpec } from '../../src/elf/index.js';
import { BpfkitError } from '../../src/errors/index.js';
import { slotIndex, type Insn } from '../../src/isa/index.js';
import { kernelBtf, loadCollection } from '../../src/kernel/index.js';
import { allFixtures, readBytes } from '../helpers/fixtures.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { runtimeFixtureNames, runtimeFixturePath } from '../runtime/fixtures.js';

checkFdLeaks();

const LINE = /^(\d+): (\([0-9a-f]{2}\) [^;]*?)\s*(?:;.*)?$/;
/** Linux >= 6.15 also lists every instruction once with its live registers: `  12: .12....... (bf) r3 = r1`. */
const LIVE = /^\s+(\d+): [.0-9]{10} (\([0-9a-f]{2}\) .*?)\s*$/;
const ADDR = '<addr>';

/** Our instructions as loadCollection hands them to the kernel, with which slots carry a run-specific immediate. */
function relocated(spec: CollectionSpec, p: ProgramSpec): { insns: Insn[]; normalised: Set<number> } {
  const target = kernelBtf();
  const insns = p.coreRelocations.length > 0 ? applyCoreRelocations(p, spec.btf!, target).insns : p.insns.slice();
  const normalised = new Set<number>();
  for (const r of p.relocations) {
    const at = insns[r.insn];
    if (r.kind === 'map' || r.kind === 'map_value' || r.kind === 'ksym') {
      normalised.add(r.insn);
      if (at.kind === 'lddw') insns[r.insn] = { ...at, pseudo: r.kind === 'map' ? 'map_fd' : r.kind === 'ksym' ? 'btf_id' : 'map_value', imm: 0n };
    } else if (r.kind === 'kfunc') {
      const fn = target.findByName(r.name, 'func')[0];
      if (fn) insns[r.insn] = { kind: 'call_kfunc', btfId: fn.id, module: 0 };
    }
  }
  return { insns, normalised };
}

function expected(insn: Insn, normalise: boolean): string {
  const text = formatInsn(insn, 'kernel', { kfuncName: (id) => kernelBtf().type(id).name });
  return normalise ? text.replace(/= 0x[0-9a-f]+$/, `= ${ADDR}`) : text;
}

kernelTest('kernel-style formatting equals the verifier log, instruction for instruction', { timeout: 120_000 }, async (t) => {
  const objects: { name: string; path: string }[] = [];
  for (const f of await allFixtures()) if (f.endian === 'el') objects.push(f);
  for (const n of runtimeFixtureNames()) objects.push({ name: n, path: await runtimeFixturePath(n) });
  let programs = 0;
  let lines = 0;
  let slotsSeen = 0;
  let totalSlots = 0;
  let normalisedLines = 0;
  const refused: string[] = [];
  // Maps pinned by name go to a directory of ours, not /sys/fs/bpf.
  const mapPins = `/sys/fs/bpf/bpfkit-vlog-${process.pid}`;
  mkdirSync(mapPins, { recursive: true });
  const diffs: string[] = [];
  try {
    for (const obj of objects) {
      const spec = loadCollectionSpec(readBytes(obj.path));
      for (const p of spec.programs.values()) {
        let log: string | undefined;
        try {
          const coll = loadCollection(spec, { programs: [p.name], logLevel: 2, pinPath: mapPins });
          log = coll.program(p.name).log;
          coll.close();
        } catch (e) {
          if (!(e instanceof BpfkitError)) throw e;
          refused.push(`${obj.name}/${p.name} (${e.message.split('\n')[0].slice(0, 100)})`);
          continue;
        }
        assert.ok(log, `${obj.name}/${p.name}: no verifier log`);
        programs++;
        const { insns, normalised } = relocated(spec, p);
        const slots = slotIndex(insns);
        const bySlot = new Map<number, number>();
        slots.forEach((s, i) => bySlot.set(s, i));
        const seen = new Set<number>();
        for (const raw of log.split('\n')) {
          const m = LINE.exec(raw) ?? LIVE.exec(raw);
          if (!m) continue;
          const slot = Number(m[1]);
          const i = bySlot.get(slot);
          const where = `${obj.name}/${p.name} slot ${slot}`;
          if (i === undefined) {
            diffs.push(`${where}: the log prints an instruction at a slot we have none at: ${m[2]}`);
            continue;
          }
          lines++;
          seen.add(slot);
          const norm = normalised.has(i);
          if (norm) normalisedLines++;
          const theirs = norm ? m[2].replace(/= 0x[0-9a-f]+$/, `= ${ADDR}`) : m[2];
          const ours = expected(insns[i], norm);
          if (theirs !== ours) diffs.push(`${where}: kernel '${m[2]}', ours '${ours}'`);
        }
        slotsSeen += seen.size;
        totalSlots += slots.length;
      }
    }
  } finally {
    rmSync(mapPins, { recursive: true, force: true });
  }
  const unique = [...new Set(diffs)];
  t.diagnostic(`${programs} programs, ${lines} log instruction lines (${slotsSeen} of the ${totalSlots} instructions of those programs, ${normalisedLines} lines with a map/ksym address normalised); not loadable here: ${refused.join(', ')}`);
  assert.deepEqual(unique.slice(0, 20), []);
  assert.ok(programs >= 60 && slotsSeen >= 1000, `too little compared: ${programs} programs, ${slotsSeen} instructions`);
});
