/**
 * `bpfkit tcpdump -r IN -w OUT EXPR` on the default engine (the filter and
 * the record walk compiled to WebAssembly, the file read into its memory,
 * accepted records gathered at the front of the buffer and written a MiB at
 * a time) against the real tcpdump: the same -w bytes and the same count,
 * on little- and big-endian, micro- and nanosecond files, more output than
 * one write holds, a truncated last record, and a record above the snap
 * length (the packets before it written, the error naming it).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tcpdumpCommand from '../../src/cli/commands/tcpdump.js';
import { runCommand, scratchDir, type CommandResult } from './command.js';
import { generatePackets, writePcap, type PacketToWrite } from '../../src/pcap/index.js';
import { requireTools, tcpdumpMissingReason } from '../pcap/filter/tcpdump.js';

const dir = scratchDir('bpfkit-tcpdump-wasm-');

const ours = (argv: string[]): Promise<CommandResult> => runCommand(tcpdumpCommand, argv);

function theirs(argv: string[]): { code: number; stderr: string } {
  const r = spawnSync('tcpdump', argv, { encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: r.stderr };
}

/** True when tcpdump runs here; otherwise skips (fails under BPFKIT_REQUIRE_TOOLS). */
function haveTcpdump(t: TestContext): boolean {
  const why = tcpdumpMissingReason();
  if (why === undefined) return true;
  if (requireTools) assert.fail(why);
  t.skip(why);
  return false;
}

function packets(seed: number, count: number, unitsPerSecond = 1e6): PacketToWrite[] {
  let i = 0;
  return [...generatePackets(seed, count)].map((p) => ({
    data: p.data, wirelen: p.wirelen, timestamp: { seconds: 1_700_000_000 + (i >> 4), fraction: (i++ * 7919) % unitsPerSecond, unitsPerSecond },
  }));
}

const FILTERS = ['udp', 'ip and tcp port 80', 'vlan and ip', 'tcp[tcpflags] & tcp-syn != 0', 'len > 200', 'not arp'];

/** Our -w output and count against tcpdump's, for each filter. */
async function sameAsTcpdump(input: string, exprs: readonly string[], label: string): Promise<void> {
  for (const expr of exprs) {
    const mine = join(dir, 'ours.pcap');
    const want = join(dir, 'theirs.pcap');
    const o = await ours(['-r', input, '-w', mine, expr]);
    const t = theirs(['-r', input, '-w', want, expr]);
    assert.equal(o.code, t.code, `${label} '${expr}': ${o.stderr} / ${t.stderr}`);
    const bytes = readFileSync(want);
    assert.ok(readFileSync(mine).equals(bytes), `${label} '${expr}': -w output differs from tcpdump's`);
    // tcpdump -r -w prints no count: count its records.
    let n = 0;
    for (let pos = 24; pos + 16 <= bytes.length; pos += 16 + bytes.readUInt32LE(pos + 8)) n++;
    assert.match(o.stdout, new RegExp(`^${n} of \\d+ packets matched\\n$`), `${label} '${expr}'`);
  }
}

test('-w output byte for byte tcpdump\'s: little- and big-endian, micro- and nanosecond files', async (t) => {
  if (!haveTcpdump(t)) return;
  const micro = packets(31, 3000);
  const nano = packets(32, 3000, 1e9);
  for (const [name, bytes] of [
    ['LE micro', writePcap(micro)], ['BE micro', writePcap(micro, { bigEndian: true })],
    ['LE nano', writePcap(nano, { precision: 'nano' })], ['BE nano', writePcap(nano, { precision: 'nano', bigEndian: true })],
  ] as const) {
    const input = join(dir, 'in.pcap');
    writeFileSync(input, bytes);
    await sameAsTcpdump(input, name === 'LE micro' ? FILTERS : FILTERS.slice(0, 3), name);
  }
});

test('more accepted bytes than one write holds (several MiB), and a truncated last record', async (t) => {
  if (!haveTcpdump(t)) return;
  const bytes = writePcap(packets(33, 40_000));
  assert.ok(bytes.length > 4 << 20);
  const input = join(dir, 'big.pcap');
  writeFileSync(input, bytes);
  await sameAsTcpdump(input, ['not arp', 'udp'], 'big');
  // Cut in the middle of a record: tcpdump writes the packets before it and fails; so do we.
  writeFileSync(input, bytes.subarray(0, bytes.length - 30));
  const o = await ours(['-r', input, '-w', join(dir, 'ours.pcap'), 'not arp']);
  const th = theirs(['-r', input, '-w', join(dir, 'theirs.pcap'), 'not arp']);
  assert.equal(o.code, 1);
  assert.notEqual(th.code, 0);
  assert.match(o.stderr, /truncated record/);
  assert.ok(readFileSync(join(dir, 'ours.pcap')).equals(readFileSync(join(dir, 'theirs.pcap'))), 'the packets before the cut');
});

test('a record above the snap length: the error names it, after the accepted records before it are written', async () => {
  const pk = packets(34, 20_000).filter((p) => p.data.length <= 1000);
  const bytes = writePcap(pk, { snaplen: 1000 });
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  // A record well past the first chunk (and past the first MiB of accepted records).
  let offset = 24;
  let index = 0;
  for (; offset < (2 << 20) + 12_345; index++) offset += 16 + view.getUint32(offset + 8, true);
  view.setUint32(offset + 8, 1500, true);
  const input = join(dir, 'snap.pcap');
  writeFileSync(input, bytes);
  const out = join(dir, 'snap-out.pcap');
  const r = await ours(['-r', input, '-w', out, 'not arp']).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  assert.match(r.stderr, new RegExp(`packet ${index + 1}, offset ${offset + 8}: captured length 1500 is larger than the snap length 1000`));
  // The output is what the file cut just before that record gives, up to a record boundary: all of it but
  // the accepted records of the chunk that holds the bad one (those after the last MiB written).
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, bytes.subarray(0, offset));
  const ref = join(dir, 'cut-out.pcap');
  assert.equal((await ours(['-r', cut, '-w', ref, 'not arp'])).code, 0);
  const written = readFileSync(out);
  const want = readFileSync(ref);
  assert.ok(written.length > 1 << 20, `${written.length} bytes written`);
  assert.ok(want.subarray(0, written.length).equals(written), 'a prefix of the accepted records');
  let pos = 24;
  while (pos < written.length) pos += 16 + written.readUInt32LE(pos + 8);
  assert.equal(pos, written.length, 'whole records');
});

test('without WebAssembly (a host that refuses it) the JavaScript walk gives the same output', async () => {
  const input = join(dir, 'fallback.pcap');
  writeFileSync(input, writePcap(packets(35, 20_000)));
  const host = globalThis as { WebAssembly?: unknown };
  for (const expr of ['udp', 'ip and tcp port 80', 'len > 200']) {
    const wasmOut = join(dir, 'wasm.pcap');
    const jsOut = join(dir, 'js.pcap');
    const a = await ours(['-r', input, '-w', wasmOut, expr]);
    const saved = host.WebAssembly;
    delete host.WebAssembly;
    try {
      const b = await ours(['-r', input, '-w', jsOut, expr]);
      assert.equal(b.stdout, a.stdout, expr);
    } finally {
      host.WebAssembly = saved;
    }
    assert.match(a.stdout, /^[1-9]\d* of 20000 packets matched\n$/);
    assert.ok(readFileSync(jsOut).equals(readFileSync(wasmOut)), `'${expr}': -w output`);
  }
});
