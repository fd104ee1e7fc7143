/**
 * `bpfkit tcpdump -r X -w Y EXPR` writes exactly the file `tcpdump -r X -w Z
 * EXPR` writes, byte for byte, on generated captures (classic pcap in both
 * byte orders and precisions, and pcapng), including protochain, which runs
 * with backward jumps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CbpfLoopError, runCbpf } from '../../../src/cbpf/index.js';
import tcpdumpCommand from '../../../src/cli/commands/tcpdump.js';
import { runCommand } from '../../cli/command.js';
import { generatePackets, writePcap, writePcapng, type PacketToWrite } from '../../../src/pcap/index.js';
import { compileFilter } from '../../../src/pcap/filter/index.js';
import { requireTools, tcpdumpMissingReason } from './tcpdump.js';

const FILTERS = [
  'ip and tcp port 80', 'udp', 'vlan and ip', 'net 10.0.0.0/8', 'tcp[tcpflags] & tcp-syn != 0', 'ip6', 'arp or icmp',
  'host 10.0.0.1 or host 10.0.0.2', 'greater 200', 'ether broadcast', 'mpls', 'not ip',
  'protochain 6', 'ip6 protochain 17', 'protochain 58',
];

const dir = mkdtempSync(join(tmpdir(), 'bpfkit-tcpdump-w-'));

function packets(): PacketToWrite[] {
  // libpcap's protochain loops forever on some malformed IPv4 AH headers: leave those packets out, tcpdump would hang.
  const loops = compileFilter('protochain 6', { linkType: 'EN10MB' });
  const out: PacketToWrite[] = [];
  let i = 0;
  for (const p of generatePackets(4242, 4000)) {
    i++;
    try {
      runCbpf(loops, p.data, { wirelen: p.wirelen });
    } catch (e) {
      if (e instanceof CbpfLoopError) continue;
      throw e;
    }
    out.push({ data: p.data, wirelen: p.wirelen, timestamp: { seconds: 1_700_000_000 + i, fraction: i * 1237, unitsPerSecond: 1e9 } });
  }
  return out;
}

async function ours(argv: string[]): Promise<string> {
  let stdout = '';
  const code = await tcpdumpCommand(argv, { stdout: (s) => (stdout += s), stderr: () => {}, readStdin: async () => new Uint8Array() });
  assert.equal(code, 0);
  return stdout;
}

test('bpfkit tcpdump -r -w writes the file tcpdump -r -w writes (15 filters, 4 capture formats)', async (t) => {
  const missing = tcpdumpMissingReason();
  if (missing) {
    if (requireTools) assert.fail(missing);
    t.skip(missing);
    return;
  }
  const pkts = packets();
  const inputs = {
    'pcap-le-micro': writePcap(pkts),
    'pcap-be-micro': writePcap(pkts, { bigEndian: true }),
    'pcap-le-nano': writePcap(pkts, { precision: 'nano' }),
    pcapng: writePcapng(pkts),
  };
  let compared = 0;
  let nonEmpty = 0;
  for (const [name, bytes] of Object.entries(inputs)) {
    const input = join(dir, `${name}.in`);
    writeFileSync(input, bytes);
    const filters = name === 'pcap-le-micro' ? FILTERS : FILTERS.slice(0, 3).concat('protochain 6');
    for (const expr of filters) {
      const theirs = join(dir, 'theirs.pcap');
      const mine = join(dir, 'ours.pcap');
      const r = spawnSync('tcpdump', ['-r', input, '-w', theirs, expr], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `tcpdump ${expr}: ${r.stderr}`);
      const summary = await ours(['-r', input, '-w', mine, expr]);
      const want = readFileSync(theirs);
      const got = readFileSync(mine);
      assert.ok(got.equals(want), `${name} '${expr}': ${got.length} bytes, tcpdump wrote ${want.length} (${summary.trim()})`);
      compared++;
      if (want.length > 24) nonEmpty++;
    }
  }
  // Records larger than the reader's head room (64 KiB), one straddling its first 1 MiB read by 90 KB, among small ones.
  const sized = (p: PacketToWrite, size: number): PacketToWrite => {
    const data = new Uint8Array(size);
    data.set(p.data.subarray(0, Math.min(p.data.length, size)));
    return { ...p, data, wirelen: size };
  };
  const big: PacketToWrite[] = [];
  let offset = 24;
  for (let i = 0; offset < (1 << 20) - 90_000; i++) {
    big.push(pkts[i % pkts.length]!);
    offset += 16 + pkts[i % pkts.length]!.data.length;
  }
  big.push(sized(pkts[0]!, 200_000));
  for (let i = 1; i < 400; i++) big.push(i % 50 === 7 ? sized(pkts[i]!, [70_000, 262_144, 65_536, 130_000][(i / 50) % 4 | 0]!) : pkts[i]!);
  const input = join(dir, 'big.in');
  writeFileSync(input, writePcap(big));
  for (const expr of ['ip', 'greater 60000', 'not tcp']) {
    const theirs = join(dir, 'theirs.pcap');
    const mine = join(dir, 'ours.pcap');
    assert.equal(spawnSync('tcpdump', ['-r', input, '-w', theirs, expr]).status, 0);
    const summary = await ours(['-r', input, '-w', mine, expr]);
    assert.ok(readFileSync(mine).equals(readFileSync(theirs)), `big records '${expr}': ${summary}`);
    compared++;
  }
  assert.equal(compared, 30);
  assert.ok(nonEmpty >= 24, `${nonEmpty} non-empty outputs`);
});

test('every engine selects the same packets; a looping filter rejects the packet and says so', async () => {
  const input = join(dir, 'engines.pcap');
  writeFileSync(input, writePcap(packets().slice(0, 600)));
  for (const expr of ['ip and tcp port 80', 'vlan and ip', 'tcp[tcpflags] & tcp-syn != 0']) {
    const results = [];
    for (const engine of ['cbpf', 'interp', 'jit']) results.push(await ours(['--engine', engine, '-r', input, expr]));
    assert.equal(new Set(results).size, 1, `${expr}: ${results.join(' / ')}`);
  }
  await assert.rejects(ours(['--engine', 'fast', '-r', input, 'ip']), /unknown engine 'fast'/);
  // IPv4 AH whose length brings the header offset back to itself: libpcap's protochain loops forever.
  const frame = new Uint8Array(14 + 20 + 12);
  frame.set([0x08, 0x00], 12);
  frame.set([0x45, 0, 0, 32, 0, 0, 0, 0, 64, 51], 14); // IPv4, protocol 51 (AH)
  frame.set([51, 3], 34); // AH: next header AH, payload length 3 -> (3 + 2) * 4 = 20, the same offset again
  const looping = join(dir, 'loop.pcap');
  writeFileSync(looping, writePcap([{ data: frame }, { data: frame }]));
  const { stdout, stderr } = await runCommand(tcpdumpCommand, ['-r', looping, 'protochain 6']);
  assert.match(stdout, /^0 of 2 packets matched/);
  assert.match(stderr, /packet 1: the filter loops/);
  assert.match(stderr, /packet 2: the filter loops/);
});
