import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import tcpdump from '../../../src/cli/commands/tcpdump.js';
import type { CommandIo } from '../../../src/cli/io.js';
import { UsageError } from '../../../src/cli/io.js';
import { LINKTYPE, generatePackets, readCaptureSync, writePcap } from '../../../src/pcap/index.js';
import { FilterError } from '../../../src/pcap/filter/index.js';
import { requireTools, tcpdumpMissingReason } from './tcpdump.js';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CommandIo = { stdout: (t) => (out += t), stderr: () => undefined, readStdin: async () => new Uint8Array() };
  const code = await tcpdump(argv, io);
  return { code, out };
}

test('bpfkit tcpdump -d/-dd/-ddd print like tcpdump', async () => {
  const d = await run(['-d', 'ip']);
  assert.equal(d.out, '(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n');
  const ddd = await run(['-ddd', '-s', '96', 'ip']);
  assert.equal(ddd.out, '4\n40 0 0 12\n21 0 1 2048\n6 0 0 96\n6 0 0 0\n');
  const live = await run(['-i', 'eth0', '-d', 'inbound']);
  assert.equal(live.out, '(000) ldh      [type]\n(001) jeq      #0x4             jt 2\tjf 3\n(002) ret      #0\n(003) ret      #262144\n');
  const raw = await run(['-dd', '-y', 'RAW', 'ip']);
  assert.match(raw.out, /^\{ 0x30, 0, 0, 0x00000000 \},/);
});

test('bpfkit tcpdump reports bad options and bad filters', async () => {
  await assert.rejects(run(['-y', 'FDDI', 'ip']), UsageError);
  await assert.rejects(run(['-w', 'x.pcap', 'ip']), UsageError);
  await assert.rejects(run(['tcp', 'and', 'udp']), FilterError);
});

test('bpfkit tcpdump -r counts and -w writes the packets tcpdump matches', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-tcpdump-cli-'));
  const input = join(dir, 'in.pcap');
  const output = join(dir, 'out.pcap');
  writeFileSync(input, writePcap(generatePackets(3, 2000, LINKTYPE.EN10MB), { linkType: LINKTYPE.EN10MB }));
  const expr = 'tcp or (udp and port 53) or vlan';
  const r = await run(['-r', input, '-w', output, expr]);
  assert.equal(r.code, 0);
  const m = /^(\d+) of 2000 packets matched\n$/.exec(r.out);
  assert.ok(m, r.out);
  const written = readCaptureSync(new Uint8Array(readFileSync(output)));
  assert.equal(written.length, Number(m[1]));
  assert.ok(written.length > 0);
  const missing = tcpdumpMissingReason();
  if (missing) {
    if (requireTools) assert.fail(missing);
    t.skip(missing);
    return;
  }
  const refFile = join(dir, 'ref.pcap');
  const ref = spawnSync('tcpdump', ['-r', input, '-w', refFile, expr], { encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const expected = readCaptureSync(new Uint8Array(readFileSync(refFile)));
  assert.equal(written.length, expected.length);
  assert.deepEqual(written.map((p) => p.data), expected.map((p) => p.data));
});
