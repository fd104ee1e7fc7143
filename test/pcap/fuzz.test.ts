import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePackets, LINKTYPE, PcapError, readCapture, readCaptureSync, writePcap, writePcapng } from '../../src/pcap/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

function onlyTypedErrors(bytes: Uint8Array, what: string): void {
  try {
    readCaptureSync(bytes, { maxRecordSize: 1 << 20 });
  } catch (e) {
    if (!(e instanceof PcapError)) assert.fail(`${what}: ${String(e)}\n${(e as Error).stack}`);
    assert.ok(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= bytes.length, `${what}: offset ${e.offset}`);
  }
}

test('mutated pcap and pcapng files give packets or PcapError, nothing else', () => {
  const next = rng(2024);
  const packets = [...generatePackets(8, 30, LINKTYPE.EN10MB)];
  const seeds = [
    writePcap(packets),
    writePcap(packets, { precision: 'nano', bigEndian: true }),
    writePcapng(packets.map((p, i) => ({ ...p, interfaceId: i % 2 })), { interfaces: [{ linkType: 1 }, { linkType: 1, unitsPerSecond: 1e9, name: 'x' }] }),
    writePcapng(packets.filter((p) => p.data.length === p.wirelen), { bigEndian: true, packetBlock: 'spb', interfaces: [{ linkType: 1, snaplen: 0 }] }),
    writePcapng(packets, { packetBlock: 'pb' }),
  ];
  for (let i = 0; i < 4000; i++) {
    const seed = seeds[i % seeds.length];
    const b = seed.slice(0, next() % 4 === 0 ? next() % seed.length : seed.length);
    const flips = 1 + (next() % 8);
    for (let f = 0; f < flips && b.length; f++) {
      const at = next() % Math.min(b.length, next() % 2 ? 64 : b.length);
      b[at] = next() % 3 === 0 ? 0xff : next() & 0xff;
    }
    onlyTypedErrors(b, `case ${i}`);
  }
});

test('random bytes give PcapError', () => {
  const next = rng(77);
  for (let i = 0; i < 2000; i++) {
    const b = new Uint8Array(next() % 200);
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
    if (i % 3 === 0 && b.length >= 4) b.set([0xd4, 0xc3, 0xb2, 0xa1]);
    if (i % 3 === 1 && b.length >= 12) b.set([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]);
    onlyTypedErrors(b, `case ${i}`);
  }
});

test('the streaming reader fails the same way on truncated input', async () => {
  const file = writePcap([...generatePackets(1, 5, LINKTYPE.EN10MB)]);
  const cut = file.subarray(0, file.length - 3);
  await assert.rejects(async () => {
    for await (const _ of readCapture([cut.subarray(0, 30), cut.subarray(30)])) void _;
  }, (e: unknown) => e instanceof PcapError && e.packet === 5);
});
