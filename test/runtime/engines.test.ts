/**
 * The two engines under the runtime: every runtime fixture runs over the
 * same generated packets on the interpreter and on the JIT (the default),
 * with tail calls through prog arrays; verdicts, packets after the run,
 * tail-call chains and map contents must be identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { generatePackets } from '../../src/pcap/index.js';
import { loadCollection, type VmCollection } from '../../src/runtime/index.js';
import { ProgArrayMap, QueueMap } from '../../src/maps/index.js';
import type { Engine } from '../../src/vm/index.js';
import { runtimeFixture, runtimeFixtureNames } from './fixtures.js';

const PACKET_TYPES = new Set(['xdp', 'sched_cls', 'sched_act', 'socket_filter', 'cgroup_skb']);

const hex = (b: Uint8Array | undefined): string => (b === undefined ? '-' : Buffer.from(b).toString('hex'));

/** Prog arrays filled the same way on both engines (as test/runtime/kernel-diff does for the kernel). */
function setUp(name: string, c: VmCollection): string | undefined {
  if (name === 'xdp_tail_call') {
    const jmp = c.map('jmp') as ProgArrayMap;
    for (const [i, p] of [[0, 'xdp_tcp'], [1, 'xdp_udp'], [5, 'xdp_icmp']] as const) jmp.setProgram(i, c.program(p));
    return 'xdp_dispatch';
  }
  if (name === 'xdp_tail_loop') (c.map('self') as ProgArrayMap).setProgram(0, c.program('xdp_tail_loop'));
  return undefined;
}

function mapContents(c: VmCollection): string[] {
  const out: string[] = [];
  for (const [name, m] of c.maps) {
    if (m.type === 'prog_array' || m.type === 'ringbuf' || m.type === 'perf_event_array') continue;
    if (m instanceof QueueMap) {
      for (let v = m.pop(); v !== undefined; v = m.pop()) out.push(`${name}: ${hex(v)}`);
      continue;
    }
    for (const [k, v] of m) out.push(`${name}: ${hex(k)}=${hex(v)}`);
  }
  return out;
}

async function runAll(name: string, engine: Engine): Promise<{ runs: string[]; maps: string[]; engines: Set<string> }> {
  const spec = loadCollectionSpec(await runtimeFixture(name));
  const c = loadCollection(spec, { engine });
  const entry = setUp(name, c) ?? [...spec.programs.keys()][0];
  const prog = c.program(entry);
  const engines = new Set([...c.programs.values()].map((p) => p.prepared.engine + (p.prepared.fallback ? ` (${p.prepared.fallback})` : '')));
  const runs: string[] = [];
  if (!PACKET_TYPES.has(prog.type)) return { runs, maps: mapContents(c), engines };
  for (const pkt of generatePackets(0x0e11 + name.length, 150)) {
    const r = prog.run({ packet: pkt.data });
    runs.push(`${r.r0} ${r.action} ${r.chain.join('>')} ${hex(r.packet)} ${r.trace.join('|')}`);
  }
  return { runs, maps: mapContents(c), engines };
}

for (const name of runtimeFixtureNames()) {
  test(`interp and jit agree: ${name}`, async () => {
    const i = await runAll(name, 'interp');
    const j = await runAll(name, 'jit');
    assert.deepEqual([...i.engines], ['interp']);
    assert.deepEqual([...j.engines], ['jit'], 'every program runs on the JIT, none fell back');
    assert.equal(j.runs.length, i.runs.length);
    for (let n = 0; n < i.runs.length; n++) assert.equal(j.runs[n], i.runs[n], `${name}: packet ${n + 1}`);
    assert.deepEqual(j.maps, i.maps);
  });
}

test('tail calls on both engines: dispatch through the prog array, and the limit of 33', async () => {
  for (const engine of ['interp', 'jit'] as const) {
    const c = loadCollection(loadCollectionSpec(await runtimeFixture('xdp_tail_loop')), { engine });
    (c.map('self') as ProgArrayMap).setProgram(0, c.program('xdp_tail_loop'));
    const r = c.program('xdp_tail_loop').run({ packet: new Uint8Array(60) });
    assert.equal(c.program('xdp_tail_loop').prepared.engine, engine);
    assert.equal(r.chain.length, 34, engine);
    assert.equal(r.action, 'XDP_PASS', engine);
    assert.equal(new DataView(c.map('depth').lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true), 34n, engine);
    // An empty slot: the tail call fails and the program goes on.
    const d = loadCollection(loadCollectionSpec(await runtimeFixture('xdp_tail_call')), { engine });
    const udp = new Uint8Array(60);
    udp.set([0x08, 0x00], 12); udp[14] = 0x45; udp[23] = 17;
    const res = d.program('xdp_dispatch').run({ packet: udp });
    assert.deepEqual(res.chain, ['xdp_dispatch'], engine);
  }
});
