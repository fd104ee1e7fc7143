import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatTimestamp, generatePackets, LINKTYPE, PcapError, readCaptureSync, writePcap, writePcapng, type CapturedPacket,
  type PacketToWrite,
} from '../../src/pcap/index.js';
import { captureUnavailable, tcpdumpRead } from './tools.js';

const requireKernel = process.env.BPFKIT_REQUIRE_KERNEL === '1';
const dir = mkdtempSync(join(tmpdir(), 'bpfkit-pcap-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function sameAsTcpdump(file: string, ours: readonly CapturedPacket[], nano: boolean): void {
  const theirs = tcpdumpRead(file, nano);
  assert.equal(ours.length, theirs.length, `${file}: packet count`);
  ours.forEach((p, i) => {
    assert.equal(formatTimestamp(p.timestamp, nano ? 9 : 6), theirs[i].ts, `${file}: packet ${i + 1} timestamp`);
    assert.deepEqual(p.data, theirs[i].data, `${file}: packet ${i + 1} bytes`);
  });
}

/** Capture `count` packets on lo with tcpdump while sending UDP datagrams to 127.0.0.1. */
async function captureLo(file: string, count: number, extra: string[]): Promise<void> {
  const td = spawn('tcpdump', ['-i', 'lo', '-c', String(count), '-w', file, '-U', ...extra, 'udp port 39999'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  td.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise((r) => setTimeout(r, 300)); // let tcpdump open the socket
  const sock = createSocket('udp4');
  const done = new Promise<number | null>((resolve) => td.on('exit', resolve));
  for (let i = 0; i < count * 3; i++) {
    if (td.exitCode !== null) break;
    sock.send(Buffer.alloc(i % 50, i), 39999, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 10));
  }
  sock.close();
  const timer = setTimeout(() => td.kill(), 5000);
  const code = await done;
  clearTimeout(timer);
  assert.equal(code, 0, `tcpdump failed: ${err}`);
}

test('files written by tcpdump -w (micro and nano) read as tcpdump -r reads them', async (t) => {
  const why = captureUnavailable();
  if (why) return requireKernel ? assert.fail(why) : t.skip(why);
  for (const nano of [false, true]) {
    const file = join(dir, `lo-${nano}.pcap`);
    await captureLo(file, 20, nano ? ['--time-stamp-precision', 'nano'] : []);
    const ours = readCaptureSync(new Uint8Array(readFileSync(file)));
    assert.equal(ours.length, 20);
    assert.equal(ours[0].timestamp.unitsPerSecond, nano ? 1e9 : 1e6);
    assert.equal(ours[0].linkType, LINKTYPE.EN10MB);
    sameAsTcpdump(file, ours, nano);
  }
});

const stamp = (i: number, units: number) => ({ seconds: 1_700_000_000 + i * 17, fraction: (i * 7919 * 1013) % units, unitsPerSecond: units });

test('pcap we write, in every magic variant, is read back identically by tcpdump and by us', () => {
  const packets: PacketToWrite[] = [...generatePackets(3, 300, LINKTYPE.EN10MB)].map((p, i) => ({ ...p, timestamp: stamp(i, 1e9) }));
  for (const precision of ['micro', 'nano'] as const) {
    for (const bigEndian of [false, true]) {
      const file = join(dir, `w-${precision}-${bigEndian}.pcap`);
      const bytes = writePcap(packets, { precision, bigEndian, linkType: LINKTYPE.EN10MB });
      writeFileSync(file, bytes);
      const ours = readCaptureSync(bytes);
      assert.equal(ours.length, packets.length);
      ours.forEach((p, i) => {
        assert.deepEqual(p.data, packets[i].data);
        assert.equal(p.wirelen, packets[i].wirelen);
        assert.equal(p.number, i + 1);
      });
      sameAsTcpdump(file, ours, precision === 'nano');
    }
  }
});

test('pcapng we write (EPB, SPB, PB; several interfaces and resolutions; both byte orders) reads back in tcpdump', () => {
  const gen = [...generatePackets(4, 200, LINKTYPE.EN10MB)];
  const interfaces = [
    { linkType: LINKTYPE.EN10MB },
    { linkType: LINKTYPE.EN10MB, unitsPerSecond: 1e9, name: 'eth1' },
    { linkType: LINKTYPE.EN10MB, unitsPerSecond: 2 ** 20 },
  ];
  for (const bigEndian of [false, true]) {
    for (const packetBlock of ['epb', 'pb'] as const) {
      const packets = gen.map((p, i) => ({ ...p, interfaceId: i % 3, timestamp: stamp(i, 1e9) }));
      const bytes = writePcapng(packets, { interfaces, bigEndian, packetBlock });
      const file = join(dir, `w-${packetBlock}-${bigEndian}.pcapng`);
      writeFileSync(file, bytes);
      const ours = readCaptureSync(bytes);
      assert.equal(ours.length, packets.length);
      ours.forEach((p, i) => {
        assert.equal(p.interfaceId, i % 3);
        assert.deepEqual(p.data, packets[i].data);
        assert.equal(p.wirelen, packets[i].wirelen);
        assert.equal(p.timestamp.unitsPerSecond, [1e6, 1e9, 2 ** 20][i % 3]);
      });
      sameAsTcpdump(file, ours, true);
    }
  }
  // Simple packet blocks carry no timestamps and no truncation beyond the snap length.
  const whole = gen.filter((p) => p.data.length === p.wirelen);
  const spb = writePcapng(whole, { packetBlock: 'spb' });
  writeFileSync(join(dir, 'spb.pcapng'), spb);
  const ours = readCaptureSync(spb);
  assert.deepEqual(ours.map((p) => p.data), whole.map((p) => p.data));
  sameAsTcpdump(join(dir, 'spb.pcapng'), ours, false);
});

test('pcapng: interfaces of different link types, unknown blocks skipped, a second section', () => {
  const a = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00, 0x45]);
  const b = new Uint8Array([0x45, 0, 0, 20]);
  const first = writePcapng([{ data: a, interfaceId: 0 }, { data: b, interfaceId: 1, timestamp: { seconds: 9, fraction: 5, unitsPerSecond: 1e9 } }], {
    interfaces: [{ linkType: LINKTYPE.EN10MB }, { linkType: LINKTYPE.RAW, unitsPerSecond: 1e9 }],
  });
  // A custom block (0x00000BAD) and a name resolution block between sections.
  const custom = new Uint8Array([0xad, 0x0b, 0, 0, 16, 0, 0, 0, 1, 2, 3, 4, 16, 0, 0, 0]);
  const nrb = new Uint8Array([4, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0]);
  const second = writePcapng([{ data: b }], { interfaces: [{ linkType: LINKTYPE.IPV4 }], bigEndian: true });
  const file = new Uint8Array([...first, ...custom, ...nrb, ...second]);
  const ps = readCaptureSync(file);
  assert.deepEqual(ps.map((p) => [p.number, p.linkType, p.interfaceId]), [[1, 1, 0], [2, 101, 1], [3, 228, 0]]);
  assert.deepEqual(ps[1].timestamp, { seconds: 9, fraction: 5, unitsPerSecond: 1e9 });
  assert.equal(ps[2].offset, first.length + 32 + 28 + 24); // after the second SHB (28) and IDB (24)
});

test('generated packets on every link type are read by tcpdump without complaint', () => {
  for (const lt of [LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.RAW, LINKTYPE.NULL, LINKTYPE.LOOP, LINKTYPE.IPV4, LINKTYPE.IPV6]) {
    const packets = [...generatePackets(5, 100, lt)].map((p, i) => ({ ...p, timestamp: stamp(i, 1e6) }));
    const file = join(dir, `gen-${lt}.pcap`);
    const bytes = writePcap(packets, { linkType: lt });
    writeFileSync(file, bytes);
    sameAsTcpdump(file, readCaptureSync(bytes), false);
  }
});

test('corrupt and truncated files give PcapError with packet number and offset', () => {
  const good = writePcap([{ data: new Uint8Array(40) }, { data: new Uint8Array(30) }], { snaplen: 64 });
  const expectError = (bytes: Uint8Array, re: RegExp, packet?: number, offset?: number) =>
    assert.throws(() => readCaptureSync(bytes), (e: unknown) =>
      e instanceof PcapError && re.test(e.message) && (packet === undefined || e.packet === packet) && (offset === undefined || e.offset === offset));
  expectError(good.subarray(0, good.length - 5), /truncated record/, 2, 24 + 16 + 40);
  expectError(good.subarray(0, 24 + 10), /truncated record: 10 bytes left/, 1, 24);
  expectError(good.subarray(0, 3), /too short/, undefined, 0);
  expectError(new Uint8Array(0), /empty/);
  expectError(new Uint8Array(24).fill(7), /not a pcap or pcapng file/, undefined, 0);
  const big = good.slice();
  new DataView(big.buffer).setUint32(24 + 8, 65, true); // caplen 65 > snaplen 64
  expectError(big, /larger than the snap length 64/, 1, 32);
  const lt = good.slice();
  new DataView(lt.buffer).setUint32(20, 60000, true);
  expectError(lt, /unknown link type 60000/, undefined, 20);
  assert.equal(readCaptureSync(lt, { strictLinkTypes: false })[0].linkType, 60000);
  const ng = writePcapng([{ data: new Uint8Array(10) }]);
  const badTrailer = ng.slice();
  badTrailer[badTrailer.length - 4] ^= 4;
  expectError(badTrailer, /does not match the trailing length/, undefined);
  const badIf = ng.slice();
  new DataView(badIf.buffer).setUint32(28 + 24 + 8, 3, true);
  expectError(badIf, /interface 3, but the section describes 1/, 1);
  expectError(ng.subarray(0, ng.length - 1), /truncated block/, 1);
  assert.throws(() => writePcap([{ data: new Uint8Array(100) }], { snaplen: 64 }), (e: unknown) => e instanceof PcapError && e.packet === 1);
});
