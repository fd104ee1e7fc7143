/**
 * Relocation is right: every program of the corpus (test/fixtures/bpf,
 * test/fixtures/runtime, and /work/shared/bench/progs when present),
 * relocated by us and loaded through src/kernel's loadCollection, is
 * accepted exactly where libbpf (bpftool 7.1 / libbpf 1.1) accepts it, and
 * BPF_PROG_TEST_RUN gives the same return value and output packet for both.
 *
 * Reference verdicts, per program:
 * - `bpftool prog loadall OBJ DIR` loads all of an object's programs or
 *   none; where it succeeds, every program it pinned under DIR is accepted.
 * - where it fails, libbpf_load_one (test/fixtures/bpf/tools) loads the
 *   object with only that program's autoload on, for a verdict per program.
 * - objects libbpf 1.1 cannot open at all (legacy `maps` section, calls into
 *   custom .text.* sections, section names it does not know) have no
 *   reference verdict: counted and reported, not compared.
 * Ours: loadCollection(spec, { programs: [name] }) (all maps, one program).
 *
 * Test runs: for objects both load whole, ours (loadCollection of the whole
 * object, Program.testRun) and theirs (`bpftool prog run pinned DIR/PROG
 * data_in F data_out G data_size_out N`) each get the same packets in the
 * same order (each side has its own maps, so state evolves alike).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadCollectionSpec, type CollectionSpec } from '../../src/elf/index.js';
import { loadCollection, type Collection } from '../../src/kernel/index.js';
import { BpfkitError } from '../../src/errors/index.js';
import { allFixtures, libbpfLoadOne, readBytes, toolAvailable } from '../helpers/fixtures.js';
import { checkFdLeaks, kernelTest, requireKernel } from '../helpers/kernel.js';
import { runtimeFixtureNames, runtimeFixturePath } from '../runtime/fixtures.js';

checkFdLeaks();

const SHARED_PROGS = '/work/shared/bench/progs';
/** Disagreements we know of and accept, with the reason (none today). */
const KNOWN: readonly { match: RegExp; why: string }[] = [];

const RUNNABLE = new Set(['xdp', 'sched_cls', 'sched_act', 'socket_filter']);

/** A few frames: IPv4 UDP/TCP/ICMP, IPv6 UDP, ARP, and a runt. */
function packets(): Uint8Array[] {
  const eth = (type: number) => [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, type >> 8, type & 0xff];
  const ipv4 = (proto: number, payload: number[]) => {
    const len = 20 + payload.length;
    return [0x45, 0, len >> 8, len & 0xff, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...payload];
  };
  const udp = (sport: number, dport: number, body: number[]) => {
    const len = 8 + body.length;
    return [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, len >> 8, len & 0xff, 0, 0, ...body];
  };
  const tcp = [0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];
  const icmp = [8, 0, 0xf7, 0xfe, 0, 1, 0, 1, ...new Array(24).fill(0x61)];
  const body = [...new Array(32)].map((_, i) => i);
  const udp6 = udp(5353, 53, body);
  const ipv6 = [0x60, 0, 0, 0, 0, udp6.length, 17, 64, ...new Array(15).fill(0), 1, ...new Array(15).fill(0), 2, ...udp6];
  const arp = [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2];
  return [
    [...eth(0x0800), ...ipv4(17, udp(1234, 53, body))],
    [...eth(0x0800), ...ipv4(6, tcp)],
    [...eth(0x0800), ...ipv4(1, icmp)],
    [...eth(0x86dd), ...ipv6],
    [...eth(0x0806), ...arp],
    [...eth(0x0800), ...ipv4(17, udp(53, 9999, [1, 2, 3, 4]))],
    eth(0x0800),
  ].map((p) => new Uint8Array(p));
}

interface Corpus {
  readonly name: string;
  readonly path: string;
}

async function corpus(): Promise<{ objects: Corpus[]; note?: string }> {
  const objects: Corpus[] = [];
  for (const f of await allFixtures()) if (f.endian === 'el') objects.push({ name: f.name, path: f.path });
  for (const n of runtimeFixtureNames()) objects.push({ name: n, path: await runtimeFixturePath(n) });
  if (!existsSync(SHARED_PROGS)) return { objects, note: `${SHARED_PROGS} is absent: its objects were not compared` };
  for (const f of readdirSync(SHARED_PROGS).filter((x) => x.endsWith('.bpf.o')).sort()) objects.push({ name: `shared/${f}`, path: join(SHARED_PROGS, f) });
  return { objects };
}

function bpftool(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('bpftool', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

/** Whether our loader accepts the program; NotSupported and kernel refusals both count as "no". */
function oursAccepts(spec: CollectionSpec, name: string, pinPath: string): { ok: boolean; why?: string } {
  try {
    loadCollection(spec, { programs: [name], pinPath }).close();
    return { ok: true };
  } catch (e) {
    if (e instanceof BpfkitError) return { ok: false, why: e.message.split('\n')[0] };
    throw e;
  }
}

kernelTest('each corpus program loads where libbpf loads it, and test runs agree with bpftool prog run', { timeout: 120_000 }, async (t) => {
  for (const tool of ['bpftool']) {
    if (!toolAvailable(tool) && !bpftool(['version']).ok) {
      if (requireKernel) assert.fail(`${tool} is required`);
      t.skip(`${tool} not installed`);
      return;
    }
  }
  const loader = libbpfLoadOne();
  if ('error' in loader) {
    if (requireKernel) assert.fail(loader.error);
    t.skip(loader.error);
    return;
  }
  const { objects, note } = await corpus();
  if (note) t.diagnostic(note);
  const work = mkdtempSync(join(tmpdir(), 'bpfkit-kload-'));
  const pinRoot = `/sys/fs/bpf/bpfkit-kload-${process.pid}`;
  const counts = { objects: 0, programs: 0, bothAccept: 0, bothRefuse: 0, noReference: 0, runs: 0, runPrograms: 0, bothRefusedRuns: 0 };
  const disagreements: string[] = [];
  const noVerdict: string[] = [];
  const pkts = packets();
  pkts.forEach((p, i) => writeFileSync(join(work, `in${i}`), p));
  const mapPins = join(pinRoot, 'maps');
  mkdirSync(mapPins, { recursive: true });
  try {
    for (const obj of objects) {
      counts.objects++;
      const spec = loadCollectionSpec(readBytes(obj.path));
      const names = [...spec.programs.keys()];
      const dir = join(pinRoot, basename(obj.name).replace(/\W/g, '_'));
      rmSync(dir, { recursive: true, force: true });
      const all = bpftool(['prog', 'loadall', obj.path, dir]);
      const ref = new Map<string, boolean | undefined>();
      if (all.ok) {
        const pinned = new Set(readdirSync(dir));
        for (const n of names) ref.set(n, pinned.has(n));
      } else {
        rmSync(dir, { recursive: true, force: true });
        for (const n of names) {
          const pin = join(pinRoot, `one_${process.pid}`);
          rmSync(pin, { force: true });
          const r = spawnSync(loader.path, [obj.path, n, pin], { encoding: 'utf8' });
          rmSync(pin, { force: true });
          ref.set(n, r.status === 0 ? true : r.status === 1 ? false : undefined);
        }
      }
      for (const n of names) {
        counts.programs++;
        const theirs = ref.get(n);
        if (theirs === undefined) {
          counts.noReference++;
          noVerdict.push(`${obj.name}/${n}`);
          continue;
        }
        // Maps pinned by name go to a directory of ours, removed at the end.
        const ours = oursAccepts(spec, n, mapPins);
        if (ours.ok !== theirs) disagreements.push(`${obj.name}/${n}: libbpf ${theirs ? 'accepts' : 'refuses'}, we ${ours.ok ? 'accept' : `refuse (${ours.why})`}`);
        else if (ours.ok) counts.bothAccept++;
        else {
          counts.bothRefuse++;
          t.diagnostic(`both refuse ${obj.name}/${n}: ${ours.why}`);
        }
      }
      if (!all.ok) continue;

      const runnable = names.filter((n) => RUNNABLE.has(spec.programs.get(n)!.type) && ref.get(n));
      if (runnable.length > 0) {
        let coll: Collection;
        try {
          coll = loadCollection(spec, { pinPath: mapPins });
        } catch (e) {
          disagreements.push(`${obj.name}: bpftool loads the whole object, we do not: ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        try {
          for (const n of runnable) {
            counts.runPrograms++;
            pkts.forEach((p, i) => {
              const outSize = p.length + 256;
              let mine: { retval: number; data?: Uint8Array } | string;
              try {
                mine = coll.program(n).testRun({ data: p, dataOutSize: outSize });
              } catch (e) {
                if (!(e instanceof BpfkitError)) throw e;
                mine = e.message;
              }
              const outFile = join(work, 'out');
              rmSync(outFile, { force: true });
              const r = bpftool(['prog', 'run', 'pinned', join(dir, n), 'data_in', join(work, `in${i}`), 'data_out', outFile, 'data_size_out', String(outSize)]);
              counts.runs++;
              const where = `${obj.name}/${n} packet ${i} (${p.length} bytes)`;
              if (typeof mine === 'string' || !r.ok) {
                // Both refusing the run (e.g. a frame too short for the program type) is agreement.
                if (typeof mine !== 'string' || r.ok) disagreements.push(`${where}: ours ${typeof mine === 'string' ? mine : 'ran'}, bpftool ${r.ok ? 'ran' : r.err.trim()}`);
                else counts.bothRefusedRuns++;
                return;
              }
              const m = /Return value:\s*(\d+)/.exec(r.out);
              assert.ok(m, `bpftool prog run printed no return value: ${r.out}`);
              const theirsOut = existsSync(outFile) ? new Uint8Array(readFileSync(outFile)) : new Uint8Array(0);
              if (Number(m[1]) !== mine.retval) disagreements.push(`${where}: retval ${mine.retval}, bpftool ${m[1]}`);
              else if (Buffer.compare(Buffer.from(mine.data ?? []), Buffer.from(theirsOut)) !== 0) disagreements.push(`${where}: data_out differs (${mine.data?.length} vs ${theirsOut.length} bytes)`);
            });
          }
        } finally {
          coll.close();
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(pinRoot, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
  t.diagnostic(`objects ${counts.objects}, programs ${counts.programs}: both accept ${counts.bothAccept}, both refuse ${counts.bothRefuse}, no libbpf verdict ${counts.noReference}; test runs ${counts.runs} over ${counts.runPrograms} programs (${counts.bothRefusedRuns} refused by both)`);
  t.diagnostic(`no libbpf 1.1 verdict (cannot open the object, or unknown section type): ${noVerdict.join(', ')}`);
  const known = disagreements.filter((d) => KNOWN.some((k) => k.match.test(d)));
  for (const d of known) t.diagnostic(`known disagreement (${KNOWN.find((k) => k.match.test(d))!.why}): ${d}`);
  assert.deepEqual(disagreements.filter((d) => !known.includes(d)), []);
  assert.ok(counts.bothAccept >= 30, `only ${counts.bothAccept} programs compared as accepted`);
  assert.ok(counts.runs >= 120, `only ${counts.runs} test runs compared`);
});
