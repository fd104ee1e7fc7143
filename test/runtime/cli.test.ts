import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runObjectCommand } from '../../src/cli/run-object.js';
import { generatePackets, readCaptureSync, writePcap, LINKTYPE } from '../../src/pcap/index.js';
import { loadObject } from '../../src/runtime/index.js';
import { BpfkitError } from '../../src/errors/index.js';
import { runtimeFixture, runtimeFixturePath } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bpfkit-run-'));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runObjectCommand(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), readStdin: async () => new Uint8Array() });
  return { code, out, err };
}

const packets = [...generatePackets(11, 400)];
const pcap = join(dir, 'in.pcap');
writeFileSync(pcap, writePcap(packets.map((p) => ({ data: p.data, wirelen: p.wirelen }))));

test('run --pcap counts the same verdicts as running each packet, and writes what passes', async () => {
  const obj = await loadObject(await runtimeFixture('xdp_ttl'));
  const want = new Map<string, number>();
  const passed: Uint8Array[] = [];
  for (const p of packets) {
    const r = obj.program('xdp_ttl').run({ packet: p.data });
    want.set(r.action!, (want.get(r.action!) ?? 0) + 1);
    if (r.action === 'XDP_PASS' || r.action === 'XDP_TX') passed.push(r.packet!);
  }
  const out = join(dir, 'out.pcap');
  const { code, out: text } = await cli([await runtimeFixturePath('xdp_ttl'), '--pcap', pcap, '--out', out, '--json']);
  assert.equal(code, 0);
  const j = JSON.parse(text) as { packets: number; verdicts: Record<string, number>; written: number; engine: string };
  assert.equal(j.packets, packets.length);
  assert.equal(j.engine, 'jit', 'the JIT is the default engine');
  assert.deepEqual(j.verdicts, Object.fromEntries([...want].sort()));
  const written = readCaptureSync(new Uint8Array(readFileSync(out)));
  assert.equal(written.length, passed.length);
  assert.deepEqual(written.map((p) => Buffer.from(p.data).toString('hex')), passed.map((p) => Buffer.from(p).toString('hex')));
  // tcpdump reads the output back
  const lines = execFileSync('tcpdump', ['-nr', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
  assert.equal(lines.filter((l) => /^\d\d:\d\d:\d\d\.\d{6} /.test(l)).length, passed.length);
});

test('run --pcap prints verdicts and maps formatted through BTF', async () => {
  const { code, out } = await cli([await runtimeFixturePath('xdp_count_proto'), '--program', 'xdp_count_proto', '--pcap', pcap]);
  assert.equal(code, 0);
  assert.match(out, /xdp_count_proto \(xdp\): 400 packets/);
  assert.match(out, /XDP_PASS\s+\d+/);
  assert.match(out, /map 'by_proto' \(hash\): \d+ entries/);
  assert.match(out, /2048: \{"packets":\d+,"bytes":\d+\}/); // key 0x0800 as a number, value as the struct
});

test('socket filters report accepted bytes; tc programs TC_ACT_ names', async () => {
  const s = await cli([await runtimeFixturePath('socket_filter_count'), '--pcap', pcap, '--json']);
  const j = JSON.parse(s.out) as { accepted_bytes: number; verdicts: Record<string, number> };
  assert.ok(j.accepted_bytes > 0 && j.verdicts.ACCEPT > 0);
  const t = await cli([await runtimeFixturePath('tc_classify'), '--pcap', pcap, '--json']);
  assert.ok(Object.keys((JSON.parse(t.out) as { verdicts: object }).verdicts).every((k) => k.startsWith('TC_ACT_')));
});

test('--mem-file runs with the conformance convention and prints r0 and maps', async () => {
  const mem = join(dir, 'mem.bin');
  writeFileSync(mem, packets[0].data);
  const r = await cli([await runtimeFixturePath('xdp_globals'), '--mem-file', mem, '--json']);
  const j = JSON.parse(r.out) as { r0: string; action: string; maps: { name: string }[] };
  assert.equal(j.action, packets[0].data.length < 120 ? 'XDP_PASS' : 'XDP_DROP');
  assert.ok(j.maps.some((m) => m.name.endsWith('.bss')));
});

test('bad input: truncated capture, snap length, non-Ethernet, wrong program, several programs', async () => {
  const whole = readFileSync(pcap);
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, whole.length - 5));
  const obj = await runtimeFixturePath('xdp_parse');
  await assert.rejects(cli([obj, '--pcap', cut]), (e: Error) => e instanceof BpfkitError && /cut\.pcap: .*packet 400/.test(e.message));
  const snap = join(dir, 'snap.pcap');
  const b = writePcap([{ data: packets[0].data.subarray(0, 60) }, { data: new Uint8Array(300) }], { snaplen: 1000 });
  new DataView(b.buffer, b.byteOffset).setUint32(16, 100, true); // a snap length the second packet exceeds
  writeFileSync(snap, b);
  await assert.rejects(cli([obj, '--pcap', snap]), (e: Error) => e instanceof BpfkitError && /snap\.pcap: .*packet 2.*snap length 100/.test(e.message));
  const raw = join(dir, 'raw.pcap');
  writeFileSync(raw, writePcap([...generatePackets(1, 3, LINKTYPE.RAW)].map((p) => ({ data: p.data })), { linkType: LINKTYPE.RAW }));
  await assert.rejects(cli([obj, '--pcap', raw]), (e: Error) => /packet 1: link type 101/.test(e.message));
  await assert.rejects(cli([await runtimeFixturePath('unit/unit'), '--program', 'trace_openat', '--pcap', pcap]), /tracepoint program/);
  await assert.rejects(cli([await runtimeFixturePath('xdp_tail_call'), '--pcap', pcap]), /4 programs.*--program/);
});
