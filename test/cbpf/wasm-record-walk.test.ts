/**
 * compileWasmRecordWalk (a classic filter and the walk over pcap records
 * compiled together to WebAssembly) against the JavaScript walk
 * (compilePcapRecordFilter / compilePcapRecordCompactor) and the cBPF
 * interpreter (filterPcapRecords, libpcap semantics): the same accepted
 * offsets, counts, stopping points and compacted bytes, over tcpdump
 * filters for several link types (optimised and -O), hand-written programs
 * for every load, ALU op and edge (division by zero, shifts of 32 and more,
 * loads past the captured bytes, X + k overflowing), random programs, both
 * byte orders, records cut at chunk ends, a full `matches` array, a record
 * above the snap length, and the programs it must refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareCbpf, SKF_AD_OFF, sockFilter, type SockFilter } from '../../src/cbpf/index.js';
import { compileWasmRecordWalk, type WasmRecordWalk } from '../../src/cbpf/wasm-record-walk.js';
import {
  filterPcapRecords, generatePackets, LINKTYPE, PcapError, pcapFileHeader, writePcap, type PacketToWrite, type PcapFileHeader,
} from '../../src/pcap/index.js';
import { compileFilter, type LinkType } from '../../src/pcap/filter/index.js';
import {
  compilePcapRecordCompactor, compilePcapRecordFilter, recordSnaplen, vmPcapRecordCompactor, vmPcapRecordFilter,
} from '../../src/pcap/filter-scan.js';
import { randomPacket, randomValidProgram, rng } from './random.js';

const EN10MB = [
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'vlan', 'vlan and ip', 'vlan 100', 'mpls',
  'ip and tcp port 80', 'tcp port 443 or udp port 53', 'ip6 and udp port 53', 'portrange 1000-2000', 'tcp src port 22',
  'host 10.0.0.1', 'host 10.0.0.1 or arp', 'net 10.0.0.0/8', 'src net 192.168.0.0/16 and not dst net 10.0.0.0/8',
  'ip6 net fe80::/10', 'ip6 host ::1', 'ether host 01:02:03:04:05:06', 'ether broadcast', 'ether multicast', 'ether[0] & 1 = 1',
  'ether proto 0x88cc', 'len > 300', 'len <= 64', 'greater 100 and less 1000', 'ip[8] < 64', 'ip[2:2] > 500',
  'ip[6:2] & 0x1fff != 0', 'ip[0] & 0xf != 5', 'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn',
  'tcp[13] = 18', 'tcp[((tcp[12:1] & 0xf0) >> 2):2] = 0x4745', 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420',
  'udp[8:2] % 3 = 1', 'ip[2:2] / (ip[8] - 64) > 2', 'ip[2:2] * 3 - 7 > 900', 'ip[2:2] - ip[0] & 0xf > 40',
  'ip[1] | 0x3 = 3', 'ip[1] ^ 0xff > 200', 'ip[2:2] << 3 > 4000', 'ip[2:2] >> 2 < 30', 'ip[2:2] >> (ip[9] + 20) = 0', 'ip[2:2] >> ip[0] = 0',
  'len - 14 = ip[2:2]', '-len < 0', 'ip[2:2] % (ip[8] - ip[8]) = 0', 'ip[2:2] / (ip[8] - ip[8]) = 0',
  'icmp[icmptype] = icmp-echo', 'ip proto 47', 'ip6 proto 17', 'ip multicast', 'ip broadcast', 'udp and (ip[9] = 17 or ip6[6] = 17)',
  'not ip and not ip6', 'ip and not tcp and not udp', 'tcp or udp or icmp or arp',
];
const OTHERS: readonly [LinkType, number, readonly string[]][] = [
  ['RAW', LINKTYPE.RAW, ['ip', 'ip6', 'tcp port 80', 'udp', 'host 10.0.0.1', 'ip[8] < 64', 'len > 100']],
  ['LINUX_SLL', LINKTYPE.LINUX_SLL, ['ip', 'arp', 'tcp', 'udp port 53', 'net 10.0.0.0/8']],
  ['LINUX_SLL2', LINKTYPE.LINUX_SLL2, ['ip', 'ip6', 'tcp port 443', 'icmp']],
  ['NULL', LINKTYPE.NULL, ['ip', 'ip6', 'udp', 'tcp[13] = 2']],
  ['LOOP', LINKTYPE.LOOP, ['ip', 'ip6 and tcp']],
];

function packets(seed: number, count: number, linkType: number = LINKTYPE.EN10MB): PacketToWrite[] {
  let i = 0;
  return [...generatePackets(seed, count, linkType)].map((p) => ({
    data: p.data, wirelen: p.wirelen, timestamp: { seconds: 1_700_000_000 + i, fraction: 17 * i++, unitsPerSecond: 1e6 },
  }));
}

const headerOf = (buf: Uint8Array): PcapFileHeader => pcapFileHeader(buf)!;

function walkFor(filter: readonly SockFilter[], header: PcapFileHeader): WasmRecordWalk {
  const w = compileWasmRecordWalk(filter, { littleEndian: header.littleEndian, snaplen: recordSnaplen(header) });
  assert.ok(w, 'the wasm walk exists');
  return w;
}

interface Walked {
  offsets: number[];
  total: number;
  end: number;
  calls: { next: number; count: number; matched: number }[];
}

/** Every accepted offset of buf[24..end), in calls of `room` matches. */
function scanAll(scan: (pos: number, matches: Int32Array) => { next: number; count: number; matched: number }, room: number): Walked {
  const matches = new Int32Array(room);
  const out: Walked = { offsets: [], total: 0, end: 24, calls: [] };
  let pos = 24;
  for (;;) {
    const r = scan(pos, matches);
    out.calls.push({ next: r.next, count: r.count, matched: r.matched });
    out.total += r.count;
    out.offsets.push(...matches.subarray(0, r.matched));
    const done = r.next === pos || r.matched < room;
    pos = r.next;
    if (done) {
      out.end = pos;
      return out;
    }
  }
}

/**
 * The wasm walk (on a copy in its memory, and on the caller's buffer)
 * against the JS walk and the interpreter; then the compacting walks,
 * cut once mid-file. Returns how many records were accepted.
 */
function compareAll(filter: readonly SockFilter[], file: Uint8Array, label: string, end = file.length, rooms: readonly number[] = [7, 4096]): number {
  const header = headerOf(file);
  const wasm = walkFor(filter, header);
  const js = compilePcapRecordFilter(filter, header);
  const run = prepareCbpf(filter, { compile: false }).asFunction();
  // A buffer that is not a view of the memory is copied into it, over what buffer() handed out: fill it afresh each time.
  const inMemory = (): Uint8Array => {
    const mem = wasm.buffer(end);
    mem.set(file.subarray(0, end));
    return mem;
  };
  let accepted = 0;
  for (const room of rooms) {
    const want = scanAll((pos, m) => filterPcapRecords(file, pos, end, header, run, m), room);
    if (js) assert.deepEqual(scanAll((pos, m) => js(file, pos, end, m), room), want, `${label}: JS walk, room ${room}`);
    const mem = inMemory();
    assert.deepEqual(scanAll((pos, m) => wasm.walk(mem, pos, end, m), room), want, `${label}: wasm walk in place, room ${room}`);
    assert.deepEqual(scanAll((pos, m) => wasm.walk(file, pos, end, m), room), want, `${label}: wasm walk on a copy, room ${room}`);
    accepted = want.offsets.length;
  }
  // Compaction, in two calls as chunks come (the second from where the first stopped, its records joining the first's).
  const cut = 24 + Math.floor((end - 24) * 0.4);
  const jsc = compilePcapRecordCompactor(filter, header);
  const compact = (c: (buf: Uint8Array, pos: number, end: number, dest: number) => { next: number; count: number; matched: number; kept: number }, buf: Uint8Array) => {
    const strip = (r: { next: number; count: number; matched: number; kept: number }) => ({ next: r.next, count: r.count, matched: r.matched, kept: r.kept });
    const a = strip(c(buf, 24, cut, 24));
    const b = strip(c(buf, a.next, end, a.kept));
    return { a, b, kept: [...buf.subarray(24, b.kept)] };
  };
  const viaWasm = compact((b, p, e, d) => wasm.compact(b, p, e, d), inMemory());
  const viaCopy = compact((b, p, e, d) => wasm.compact(b, p, e, d), file.slice(0, end));
  if (jsc) assert.deepEqual(viaWasm, compact((b, p, e, d) => jsc(b, p, e, 0, 0, d), file.slice(0, end)), `${label}: compaction against the JS walk's`);
  // The accepted records, whole and in order, as the interpreter picks them.
  const picked: number[] = [];
  const dv = new DataView(file.buffer, file.byteOffset);
  for (const off of scanAll((pos, m) => filterPcapRecords(file, pos, end, header, run, m), 4096).offsets) {
    picked.push(...file.subarray(off, off + 16 + dv.getUint32(off + 8, header.littleEndian)));
  }
  assert.deepEqual(viaWasm.kept, picked, `${label}: compacted bytes`);
  assert.deepEqual(viaCopy, viaWasm, `${label}: compaction of a copy`);
  assert.equal(viaWasm.a.matched + viaWasm.b.matched, accepted, `${label}: compaction keeps what the scan accepts`);
  return accepted;
}

/** A big-endian pcap file made by hand from a little-endian one: every header field byte-swapped. */
function swapToBigEndian(le: Uint8Array): Uint8Array {
  const be = le.slice();
  const src = new DataView(le.buffer, le.byteOffset, le.byteLength);
  const dst = new DataView(be.buffer);
  for (let o = 0; o < 24; o += 4) if (o !== 4) dst.setUint32(o, src.getUint32(o, true), false);
  dst.setUint16(4, src.getUint16(4, true), false);
  dst.setUint16(6, src.getUint16(6, true), false);
  for (let pos = 24; pos + 16 <= le.length;) {
    for (let f = 0; f < 16; f += 4) dst.setUint32(pos + f, src.getUint32(pos + f, true), false);
    pos += 16 + src.getUint32(pos + 8, true);
  }
  return be;
}

test('tcpdump filters on Ethernet, optimised and -O, both byte orders: the interpreter\'s and the JS walk\'s records', () => {
  const le = writePcap(packets(3, 1200));
  const be = swapToBigEndian(le);
  assert.equal(headerOf(be).littleEndian, false);
  assert.ok(be.subarray(24).some((b, i) => b !== le[24 + i]));
  assert.ok(EN10MB.length >= 60);
  let some = 0;
  for (const expr of EN10MB) {
    for (const optimize of [true, false]) {
      const filter = compileFilter(expr, { linkType: 'EN10MB', optimize });
      for (const [name, file] of [['LE', le], ['BE', be]] as const) {
        if (compareAll(filter, file, `'${expr}'${optimize ? '' : ' -O'} ${name}`, file.length, name === 'LE' ? [7, 4096] : [4096]) > 0) some++;
      }
    }
  }
  assert.ok(some > EN10MB.length * 2, `${some} filter runs accepted something`);
});

test('other link types, and a big-endian file from the writer', () => {
  for (const [name, linkType, exprs] of OTHERS) {
    const pk = packets(9, 600, linkType);
    for (const bigEndian of [false, true]) {
      const file = writePcap(pk, { linkType, bigEndian });
      for (const expr of exprs) {
        for (const optimize of [true, false]) {
          compareAll(compileFilter(expr, { linkType: name, optimize }), file, `${name} '${expr}' ${bigEndian ? 'BE' : 'LE'}`, file.length, [4096]);
        }
      }
    }
  }
});

const I = (code: number, k = 0, jt = 0, jf = 0): SockFilter => sockFilter(code, k, jt, jf);
const RET_A = I(0x16);
/** Programs for each load, ALU op and edge, ending `ret A` (A + 1 so a zero result still differs from a rejection). */
const HAND: readonly (readonly SockFilter[])[] = [
  // Loads of every size, absolute, at the very end of the packet and past it.
  [I(0x20, 0), I(0x04, 1), RET_A], [I(0x28, 12), I(0x04, 1), RET_A], [I(0x30, 23), I(0x04, 1), RET_A],
  [I(0x20, 60), I(0x04, 1), RET_A], [I(0x28, 62), I(0x04, 1), RET_A], [I(0x30, 63), I(0x04, 1), RET_A], [I(0x30, 0x7fffffff), RET_A],
  // Indexed loads, X from the packet (msh), from a constant, and X + k overflowing 32 bits.
  [I(0xb1, 14), I(0x40, 14), I(0x04, 1), RET_A], [I(0xb1, 14), I(0x48, 16), I(0x04, 1), RET_A], [I(0xb1, 14), I(0x50, 23), I(0x04, 1), RET_A],
  [I(0x01, 0xffffffff), I(0x50, 1), I(0x04, 1), RET_A], [I(0x01, 0xfffffffe), I(0x48, 3), I(0x04, 1), RET_A], [I(0x01, 2), I(0x40, 0xffffffff), RET_A],
  [I(0xb1, 1000), I(0x87), I(0x04, 1), RET_A], [I(0xb1, 0x7fffffff), RET_A],
  // Wire length, scratch memory, tax/txa, neg.
  [I(0x80), RET_A], [I(0x81), I(0x87), I(0x14, 60), RET_A], [I(0x28, 12), I(0x02, 3), I(0x00, 9), I(0x60, 3), I(0x07), I(0x03, 15), I(0x61, 15), I(0x87), RET_A],
  [I(0x30, 14), I(0x84), RET_A],
  // Division and modulo by zero (constant and X) reject; by non-zero divide unsigned.
  [I(0x00, 7), I(0x34, 0), RET_A], [I(0x00, 7), I(0x94, 0), RET_A], [I(0x30, 15), I(0x07), I(0x00, 100), I(0x3c), I(0x04, 1), RET_A],
  [I(0x30, 15), I(0x07), I(0x00, 100), I(0x9c), I(0x04, 1), RET_A], [I(0x20, 0), I(0x34, 7), I(0x04, 1), RET_A], [I(0x20, 0), I(0x94, 0x80000001), I(0x04, 1), RET_A],
  // Shifts: by constants and by X, below and above 32.
  [I(0x20, 0), I(0x64, 31), RET_A], [I(0x20, 0), I(0x64, 32), I(0x04, 1), RET_A], [I(0x20, 0), I(0x74, 40), I(0x04, 1), RET_A],
  [I(0x30, 16), I(0x07), I(0x20, 0), I(0x6c), I(0x04, 1), RET_A], [I(0x30, 16), I(0x07), I(0x20, 0), I(0x7c), I(0x04, 1), RET_A],
  [I(0x01, 32), I(0x00, 5), I(0x6c), I(0x04, 1), RET_A], [I(0x01, 33), I(0x00, 5), I(0x7c), I(0x04, 1), RET_A],
  // The other ALU ops, K and X.
  [I(0x20, 0), I(0x24, 0x9e3779b9), I(0x54, 0xfff0fff0), I(0x44, 3), I(0xa4, 0x80000000), RET_A],
  [I(0x20, 0), I(0x07), I(0x20, 4), I(0x0c), I(0x07), I(0x20, 8), I(0x1c), I(0x2c), I(0x5c), I(0x4c), I(0xac), RET_A],
  // Jumps: every condition with K and X, jset, a jump to the same place either way, ja forward.
  [I(0x30, 23), I(0x15, 6, 0, 1), I(0x06, 1), I(0x25, 10, 0, 1), I(0x06, 2), I(0x35, 17, 1, 0), I(0x06, 0), I(0x45, 1, 0, 1), I(0x06, 3), I(0x06, 4)],
  [I(0x30, 23), I(0x07), I(0x30, 14), I(0x1d, 0, 0, 1), I(0x06, 5), I(0x2d, 0, 1, 0), I(0x3d, 0, 2, 2), I(0x4d, 0, 0, 1), I(0x06, 6), I(0x06, 7), I(0x05, 0), I(0x06, 8)],
  [I(0x28, 12), I(0x15, 0x800, 0, 0), I(0x05, 1), I(0x06, 0), I(0x06, 9)],
  [I(0x06, 0)], [I(0x06, 0xffffffff)], [I(0x00, 0), RET_A],
];

test('hand-written programs: every load, ALU op and jump, division by zero, shifts past 31, X + k overflowing', () => {
  const next = rng(5);
  const pk: PacketToWrite[] = packets(4, 250);
  for (let i = 0; i < 150; i++) {
    const data = randomPacket(next);
    pk.push({ data, wirelen: data.length + (i % 3 === 0 ? next() % 2000 : 0) });
  }
  // Exactly 64 bytes: the loads at 60..63 just fit.
  pk.push({ data: new Uint8Array(64).fill(0x5a), wirelen: 64 });
  for (const bigEndian of [false, true]) {
    const file = writePcap(pk, { bigEndian });
    for (const [i, prog] of HAND.entries()) compareAll(prog, file, `hand-written program ${i} ${bigEndian ? 'BE' : 'LE'}`, file.length, [5, 4096]);
  }
});

test('random programs over random packets, a partial record at the end', () => {
  const next = rng(2024);
  const pk: PacketToWrite[] = [];
  for (let i = 0; i < 300; i++) {
    const data = randomPacket(next);
    pk.push({ data, wirelen: data.length + (next() % 4 === 0 ? next() % 500 : 0) });
  }
  const file = writePcap(pk);
  for (let p = 0; p < 120; p++) {
    const prog = randomValidProgram(next, 4 + (next() % 40));
    compareAll(prog, file, `random program ${p}`, file.length - 1 - (next() % 40), [4096]);
  }
});

test('chunk ends anywhere: the walk stops before a partial record, at the same place as the JS walk', () => {
  const file = writePcap(packets(12, 40));
  const header = headerOf(file);
  const filter = compileFilter('ip or arp', { linkType: 'EN10MB' });
  const wasm = walkFor(filter, header);
  const js = compilePcapRecordFilter(filter, header)!;
  const mem = wasm.buffer(file.length);
  mem.set(file);
  const m = new Int32Array(64);
  const m2 = new Int32Array(64);
  for (let end = 24; end <= file.length; end++) {
    const want = js(file, 24, end, m2);
    assert.deepEqual(wasm.walk(mem, 24, end, m), { ...want, tooLarge: false }, `end ${end}`);
    assert.deepEqual([...m.subarray(0, want.matched)], [...m2.subarray(0, want.matched)]);
  }
});

test('a full matches array stops the scan; more than 4096 matches in one call arrive in order', () => {
  const pk = Array.from({ length: 10_000 }, (_, i) => ({ data: new Uint8Array([i & 0xff, i >> 8, 1, 2]), wirelen: 4 }));
  const file = writePcap(pk);
  const filter = [I(0x06, 1)];
  const wasm = walkFor(filter, headerOf(file));
  const mem = wasm.buffer(file.length);
  mem.set(file);
  const big = new Int32Array(9000);
  const r = wasm.walk(mem, 24, file.length, big);
  assert.deepEqual({ count: r.count, matched: r.matched }, { count: 9000, matched: 9000 });
  for (let i = 0; i < 9000; i++) assert.equal(big[i], 24 + 20 * i);
  assert.equal(r.next, 24 + 20 * 9000);
  const rest = wasm.walk(mem, r.next, file.length, big);
  assert.deepEqual({ count: rest.count, matched: rest.matched, next: rest.next }, { count: 1000, matched: 1000, next: file.length });
  const none = wasm.walk(mem, 24, file.length, new Int32Array(0));
  assert.deepEqual(none, { next: 24, count: 0, matched: 0, tooLarge: false });
});

test('a caplen above the snap length stops the walk; the wrappers raise the PcapError naming the packet and offset', () => {
  for (const bigEndian of [false, true]) {
    const pk = packets(8, 30).filter((p) => p.data.length <= 100);
    const file = writePcap(pk, { snaplen: 100, bigEndian });
    const view = new DataView(file.buffer, file.byteOffset);
    let offset = 24;
    for (let i = 0; i < 5; i++) offset += 16 + view.getUint32(offset + 8, !bigEndian);
    view.setUint32(offset + 8, 101, !bigEndian);
    const header = headerOf(file);
    const filter = compileFilter('ip', { linkType: 'EN10MB' });
    const wasm = walkFor(filter, header);
    const mem = wasm.buffer(file.length);
    mem.set(file);
    const r = wasm.walk(mem, 24, file.length, new Int32Array(100));
    assert.deepEqual({ next: r.next, count: r.count, tooLarge: r.tooLarge }, { next: offset, count: 5, tooLarge: true });
    const c = wasm.compact(file.slice(), 24, file.length);
    assert.deepEqual({ next: c.next, count: c.count, tooLarge: c.tooLarge }, { next: offset, count: 5, tooLarge: true });
    // Through the wrappers, as tcpdump -r uses them, with the chunk placed in the file.
    wasm.buffer(file.length).set(file); // the copy compacted above went where buffer() points
    const scan = vmPcapRecordFilter(wasm, header);
    const compact = vmPcapRecordCompactor(wasm, header);
    const fromJs = (() => { try { compilePcapRecordFilter(filter, header)!(file, 24, file.length, new Int32Array(100), 1000, 40); } catch (e) { return e; } })();
    for (const call of [() => scan(mem, 24, file.length, new Int32Array(100), 1000, 40), () => compact(mem, 24, file.length, 1000, 40)]) {
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof PcapError);
        assert.match(e.message, /captured length 101 is larger than the snap length 100/);
        assert.deepEqual(e, fromJs);
        assert.match(e.message, new RegExp(`packet 46, offset ${1000 + offset + 8}`));
        return true;
      });
    }
  }
});

test('buffer(): grows the memory, keeps what it is asked to keep, and records read there are walked in place', () => {
  const filter = compileFilter('udp', { linkType: 'EN10MB' });
  const file = writePcap(packets(21, 3000));
  const wasm = walkFor(filter, headerOf(file));
  const a = wasm.buffer(1000);
  a.set(file.subarray(0, 1000));
  // Growing past the first memory: the kept bytes are there in the new view (the old one may be detached).
  const b = wasm.buffer(file.length + (8 << 20), a, 1000);
  assert.ok(b.length >= file.length + (8 << 20));
  assert.deepEqual([...b.subarray(0, 1000)], [...file.subarray(0, 1000)]);
  // From a foreign buffer.
  const c = wasm.buffer(file.length, file, 500);
  assert.deepEqual([...c.subarray(0, 500)], [...file.subarray(0, 500)]);
  c.set(file);
  const header = headerOf(file);
  const run = prepareCbpf(filter, { compile: false }).asFunction();
  assert.deepEqual(scanAll((pos, m) => wasm.walk(c, pos, file.length, m), 4096), scanAll((pos, m) => filterPcapRecords(file, pos, file.length, header, run, m), 4096));
});

test('programs the JS walk refuses are refused too (the caller falls back)', () => {
  const refused: SockFilter[][] = [
    [],
    [I(0x05, 0xffffffff), I(0x06, 1)], // ja backwards (loops)
    [I(0x28, 12), I(0x15, 0x800, 0, 1), I(0x05, 0xfffffffd), I(0x06, 0)], // backward ja after a branch
    [I(0x20, (SKF_AD_OFF + 4) >>> 0), RET_A], // ancillary load
    [I(0x30, 0xfffff000), RET_A], // negative offset
    [I(0xb1, 0x80000000), RET_A],
    [I(0x60, 16), RET_A], [I(0x02, 99), RET_A], // scratch index out of range
    [I(0x15, 1, 5, 0), RET_A], // jump past the end
    [I(0x05, 7), RET_A],
    [I(0x00, 1)], // runs off the end
    [I(0xff), RET_A], [I(0x0e), RET_A], // invalid opcodes
  ];
  const header = headerOf(writePcap([]));
  for (const [i, prog] of refused.entries()) {
    assert.equal(compilePcapRecordFilter(prog, header), undefined, `program ${i}: the JS walk refuses it`);
    assert.equal(compileWasmRecordWalk(prog, { littleEndian: true, snaplen: 262144 }), undefined, `program ${i}`);
  }
  // protochain jumps backwards: the filter the CLI runs on the interpreter.
  const protochain = compileFilter('ip proto \\tcp or ip6 protochain 17', { linkType: 'EN10MB' });
  assert.equal(compileWasmRecordWalk(protochain, { littleEndian: true, snaplen: 262144 }) === undefined, compilePcapRecordFilter(protochain, header) === undefined);
});
