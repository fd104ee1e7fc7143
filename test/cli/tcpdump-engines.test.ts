/**
 * `bpfkit tcpdump -r --engine interp|jit` (classic filters lowered to eBPF
 * with direct packet loads, a capture copied into the VM's memory a chunk at
 * a time) against the default engine: the same count and the same -w bytes
 * on little- and big-endian, micro- and nanosecond pcap files (the wire
 * length each filter reads sits in the record header in the file's byte
 * order), on pcapng, on other link types, and with filters that read the
 * wire length, index packets through X, or divide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tcpdumpCommand from '../../src/cli/commands/tcpdump.js';
import { runCommand, scratchDir, type CommandResult } from './command.js';
import { generatePackets, LINKTYPE, writePcap, writePcapng, type PacketToWrite } from '../../src/pcap/index.js';

const dir = scratchDir('bpfkit-tcpdump-engines-');

const ours = (argv: string[]): Promise<CommandResult> => runCommand(tcpdumpCommand, argv);

function packets(seed: number, count: number, linkType: number = LINKTYPE.EN10MB): PacketToWrite[] {
  let i = 0;
  return [...generatePackets(seed, count, linkType)].map((p) => ({
    data: p.data, wirelen: p.wirelen, timestamp: { seconds: 1_700_000_000 + i, fraction: 1000 * i++, unitsPerSecond: 1e9 },
  }));
}

const FILTERS = [
  'ip and tcp port 80', 'len > 120 and udp', 'greater 300 or less 70', 'tcp[tcpflags] & tcp-syn != 0',
  'ip[2:2] / (ip[8] - 64) > 2 or udp[8:2] % 3 = 1', 'vlan and ip', 'tcp[((tcp[12:1] & 0xf0) >> 2):2] = 0x4745',
];

/** Every engine gives the default engine's summary line and -w bytes. */
async function sameOnEveryEngine(input: string, exprs: readonly string[], label: string): Promise<void> {
  for (const expr of exprs) {
    const base = join(dir, 'base.pcap');
    const want = await ours(['-r', input, '-w', base, expr]);
    assert.equal(want.code, 0, `${label} '${expr}': ${want.stderr}`);
    const wantBytes = readFileSync(base);
    for (const engine of ['interp', 'jit']) {
      const out = join(dir, `out-${engine}.pcap`);
      const got = await ours(['--engine', engine, '-r', input, '-w', out, expr]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, want.stdout, `${label} '${expr}' on ${engine}`);
      assert.ok(readFileSync(out).equals(wantBytes), `${label} '${expr}' on ${engine}: -w output differs`);
    }
  }
  // The comparison saw both outcomes.
  const counts = await ours(['--engine', 'jit', '-r', input, FILTERS[1]!]);
  assert.match(counts.stdout, /^[1-9]\d* of [1-9]\d* packets matched\n$/);
}

test('little- and big-endian, micro- and nanosecond pcap: --engine interp and jit match the default engine', async () => {
  const pkts = packets(3, 3000);
  for (const bigEndian of [false, true]) {
    for (const precision of ['micro', 'nano'] as const) {
      const input = join(dir, `in-${bigEndian ? 'be' : 'le'}-${precision}.pcap`);
      writeFileSync(input, writePcap(pkts, { bigEndian, precision }));
      await sameOnEveryEngine(input, FILTERS, `${bigEndian ? 'big' : 'little'}-endian ${precision}`);
    }
  }
});

test('pcapng and other link types: --engine interp and jit match the default engine', async () => {
  const pcapng = join(dir, 'in.pcapng');
  writeFileSync(pcapng, writePcapng(packets(4, 1500), { interfaces: [{ linkType: LINKTYPE.EN10MB }] }));
  await sameOnEveryEngine(pcapng, FILTERS, 'pcapng');
  for (const linkType of [LINKTYPE.LINUX_SLL, LINKTYPE.RAW, LINKTYPE.NULL]) {
    const input = join(dir, `in-${linkType}.pcap`);
    writeFileSync(input, writePcap(packets(5, 1500, linkType), { linkType }));
    await sameOnEveryEngine(input, ['ip and tcp port 80', 'len > 120 and udp', 'ip6 or arp'], `link type ${linkType}`);
  }
});
