/**
 * EbpfRecordWalk: a classic filter and the walk over pcap records as one
 * eBPF program, on the VM's interpreter and JIT, against filterPcapRecords
 * running the cBPF interpreter (libpcap semantics) on the same buffer:
 * accepted offsets, counts and where it stops, with a small `matches`
 * array, more records than one run walks, a partial record at the end, a
 * record above the snap length, both byte orders, and filters that read the
 * wire length, scratch memory and divide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EbpfRecordWalk, prepareCbpf, sockFilter, type RecordWalkResult, type SockFilter } from '../../src/cbpf/index.js';
import { filterPcapRecords, generatePackets, pcapFileHeader, writePcap, type PacketToWrite } from '../../src/pcap/index.js';
import { compileFilter } from '../../src/pcap/filter/index.js';
import type { Engine } from '../../src/vm/index.js';
import { randomPacket, randomValidProgram, rng } from './random.js';

const ENGINES: readonly Engine[] = ['interp', 'jit'];

function capture(pkts: readonly PacketToWrite[], bigEndian: boolean, snaplen = 262144): Uint8Array {
  return writePcap(pkts, { bigEndian, snaplen });
}

/** Walk buf[24..end) in calls of `room` matches with both, comparing each call's result. */
function compareWalks(prog: readonly SockFilter[], buf: Uint8Array, engine: Engine, room: number, label: string, end = buf.length): number {
  const header = pcapFileHeader(buf)!;
  const snap = header.snaplen === 0 ? 256 << 20 : Math.min(header.snaplen, 256 << 20);
  const walk = new EbpfRecordWalk(prog, engine, { bigEndian: !header.littleEndian, snaplen: snap });
  assert.equal(walk.engine, engine);
  const ref = prepareCbpf(prog, { compile: false }).asFunction();
  const got = new Int32Array(room);
  const want = new Int32Array(room);
  let pos = 24;
  let total = 0;
  for (let calls = 0; ; calls++) {
    const w = filterPcapRecords(buf, pos, end, header, ref, want);
    const g = walk.walk(buf, pos, end, got);
    assert.deepEqual({ next: g.next, count: g.count, matched: g.matched }, w, `${label} on ${engine}, call ${calls}`);
    assert.deepEqual([...got.subarray(0, g.matched)], [...want.subarray(0, w.matched)], `${label} on ${engine}, call ${calls}: offsets`);
    assert.equal(g.tooLarge, false);
    total += g.matched;
    if (g.next === pos || g.matched < room) return total;
    pos = g.next;
  }
}

test('tcpdump filters over a capture, both byte orders, small and large match arrays: filterPcapRecords\' results on both engines', () => {
  const pkts = [...generatePackets(11, 4000)].map((p) => ({ data: p.data, wirelen: p.wirelen }));
  const exprs = ['ip and tcp port 80', 'len > 120 and udp', 'ip[2:2] / (ip[8] - 64) > 2 or udp[8:2] % 3 = 1', 'vlan and ip', 'greater 300'];
  for (const bigEndian of [false, true]) {
    const buf = capture(pkts, bigEndian);
    for (const expr of exprs) {
      const prog = compileFilter(expr, { linkType: 'EN10MB' });
      for (const engine of ENGINES) {
        for (const room of [7, 4096]) {
          const matched = compareWalks(prog, buf, engine, room, `'${expr}' ${bigEndian ? 'BE' : 'LE'} room ${room}`);
          assert.ok(matched > 0, `'${expr}' matched nothing`);
        }
      }
    }
  }
});

test('random programs over random packets, a partial record at the end', () => {
  const next = rng(77);
  const pkts: PacketToWrite[] = [];
  for (let i = 0; i < 300; i++) {
    const data = randomPacket(next);
    pkts.push({ data, wirelen: data.length + (next() % 4 === 0 ? next() % 500 : 0) });
  }
  const buf = capture(pkts, false);
  for (let p = 0; p < 40; p++) {
    const prog = randomValidProgram(next, 4 + (next() % 30));
    for (const engine of ENGINES) compareWalks(prog, buf, engine, 4096, `program ${p}`, buf.length - 5);
  }
});

test('more records than one run walks, more matches than one run collects: the same counts and offsets', () => {
  const pkts = Array.from({ length: 40_000 }, (_, i) => ({ data: new Uint8Array([i & 0xff, i >> 8]), wirelen: 2 + (i % 3) }));
  const buf = capture(pkts, false);
  // Accepts when the first byte is odd or the wire length is 4: many matches.
  const many = [sockFilter(0x30, 0), sockFilter(0x45, 1, 2, 0), sockFilter(0x80), sockFilter(0x15, 4, 0, 1), sockFilter(0x06, 1), sockFilter(0x06, 0)];
  // Accepts when the first byte is 7: few matches, so runs end on the record limit.
  const few = [sockFilter(0x30, 0), sockFilter(0x15, 7, 0, 1), sockFilter(0x06, 1), sockFilter(0x06, 0)];
  for (const engine of ENGINES) {
    assert.ok(compareWalks(many, buf, engine, 4096, 'many, room 4096') > 20_000);
    assert.ok(compareWalks(many, buf, engine, 30_000, 'many, room 30000') > 20_000);
    assert.equal(compareWalks(few, buf, engine, 4096, 'few'), 157);
  }
});

test('a record above the snap length stops the walk there', () => {
  const pkts = [...generatePackets(5, 50)].map((p) => ({ data: p.data, wirelen: p.wirelen }));
  const buf = capture(pkts, true);
  // The writer keeps records within its snap length: lower the header's afterwards.
  new DataView(buf.buffer, buf.byteOffset).setUint32(16, 100, false);
  const header = pcapFileHeader(buf)!;
  assert.equal(header.snaplen, 100);
  const prog = compileFilter('ip', { linkType: 'EN10MB' });
  // The first record longer than 100 bytes, found by walking the headers.
  let pos = 24;
  let index = 0;
  const view = new DataView(buf.buffer, buf.byteOffset);
  while (view.getUint32(pos + 8, false) <= 100) {
    pos += 16 + view.getUint32(pos + 8, false);
    index++;
  }
  for (const engine of ENGINES) {
    const walker: EbpfRecordWalk = new EbpfRecordWalk(prog, engine, { bigEndian: true, snaplen: header.snaplen });
    const r: RecordWalkResult = walker.walk(buf, 24, buf.length, new Int32Array(4096));
    assert.equal(r.tooLarge, true);
    assert.equal(r.next, pos);
    assert.equal(r.count, index);
  }
});

test('records read into buffer() are walked where they lie; a bigger buffer keeps what it is asked to', () => {
  const pkts = [...generatePackets(21, 3000)].map((p) => ({ data: p.data, wirelen: p.wirelen }));
  const file = capture(pkts, false);
  const prog = compileFilter('len > 120 and udp', { linkType: 'EN10MB' });
  const header = pcapFileHeader(file)!;
  for (const engine of ENGINES) {
    const walker = new EbpfRecordWalk(prog, engine, { snaplen: header.snaplen });
    const want = walker.walk(file, 24, file.length, new Int32Array(4096));
    const wantMatches = new Int32Array(4096);
    walker.walk(file, 24, file.length, wantMatches);
    // A small buffer first, holding the first 1000 bytes; then grown to hold the whole file.
    let buf = walker.buffer(1000);
    buf.set(file.subarray(0, 1000));
    buf = walker.buffer(file.length + 10, buf, 1000);
    assert.deepEqual([...buf.subarray(0, 1000)], [...file.subarray(0, 1000)]);
    buf.set(file.subarray(1000), 1000);
    // Walked in place (from byte 24 of the data area): the same offsets as a copied walk.
    const got = new Int32Array(4096);
    const r = walker.walk(buf, 24, file.length, got);
    assert.deepEqual(r, want);
    assert.deepEqual([...got.subarray(0, r.matched)], [...wantMatches.subarray(0, want.matched)]);
    assert.ok(r.matched > 0);
  }
});
