/**
 * compilePcapRecordFilter (the record walk with the filter compiled in)
 * against filterPcapRecords running the same filter through a call per
 * packet: same records accepted, same stopping points, same errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareCbpf, type SockFilter } from '../../src/cbpf/index.js';
import { filterPcapRecords, generatePackets, LINKTYPE, PcapError, pcapFileHeader, writePcap, type PcapFileHeader } from '../../src/pcap/index.js';
import { compileFilter } from '../../src/pcap/filter/index.js';
import { compilePcapRecordCompactor, compilePcapRecordFilter } from '../../src/pcap/index.js';

const EXPRS = ['ip and tcp port 80', 'udp', 'vlan and ip', 'net 10.0.0.0/8', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and udp port 53',
  'host 10.0.0.1 or arp', 'len > 300', 'greater 100 and less 1000', 'ether[0] & 1 = 1', 'ip[8] < 64'];

function capture(opts: { bigEndian?: boolean; nano?: boolean; snaplen?: number; count?: number }): Uint8Array {
  const packets = [...generatePackets(1234, opts.count ?? 1500, LINKTYPE.EN10MB)].map((p, i) => ({
    data: p.data, wirelen: p.wirelen, timestamp: { seconds: 1_700_000_000 + i, fraction: i * 7, unitsPerSecond: opts.nano ? 1e9 : 1e6 },
  }));
  return writePcap(packets, { bigEndian: opts.bigEndian, precision: opts.nano ? 'nano' : 'micro', snaplen: opts.snaplen });
}

/** Every accepted record offset over the whole buffer, with a small `matches` so scans resume often. */
function walk(buf: Uint8Array, scan: (pos: number, matches: Int32Array) => { next: number; count: number; matched: number }): { offsets: number[]; total: number; end: number } {
  const matches = new Int32Array(7);
  const offsets: number[] = [];
  let pos = 24;
  let total = 0;
  for (;;) {
    const r = scan(pos, matches);
    total += r.count;
    offsets.push(...matches.subarray(0, r.matched));
    const done = r.next === pos || r.matched < matches.length;
    pos = r.next;
    if (done) return { offsets, total, end: pos };
  }
}

function reference(buf: Uint8Array, header: PcapFileHeader, filter: SockFilter[], end = buf.length) {
  const run = prepareCbpf(filter, { compile: false }).asFunction();
  return walk(buf, (pos, m) => filterPcapRecords(buf, pos, end, header, run, m));
}

test('same records as the per-packet walk, on both byte orders and resolutions', () => {
  for (const opts of [{}, { bigEndian: true }, { nano: true }, { bigEndian: true, nano: true }]) {
    const buf = capture(opts);
    const header = pcapFileHeader(buf)!;
    let accepted = 0;
    for (const expr of EXPRS) {
      const filter = compileFilter(expr, { linkType: 'EN10MB' });
      const scan = compilePcapRecordFilter(filter, header);
      assert.ok(scan, expr);
      const got = walk(buf, (pos, m) => scan(buf, pos, buf.length, m));
      assert.deepEqual(got, reference(buf, header, filter), `${expr} ${JSON.stringify(opts)}`);
      assert.equal(got.total, 1500);
      accepted += got.offsets.length;
    }
    assert.ok(accepted > 1000, `${accepted} accepted`);
  }
});

test('the compacting walk leaves exactly the accepted records, in order, at the front', () => {
  for (const opts of [{}, { bigEndian: true }]) {
    const original = capture({ ...opts, count: 800 });
    const header = pcapFileHeader(original)!;
    const le = !opts.bigEndian;
    for (const expr of ['udp', 'ip and tcp port 80', 'not arp', 'len > 300', 'ip6']) {
      const filter = compileFilter(expr, { linkType: 'EN10MB' });
      const want = reference(original, header, filter);
      const expected: number[] = [];
      for (const off of want.offsets) {
        const len = 16 + new DataView(original.buffer, original.byteOffset).getUint32(off + 8, le);
        expected.push(...original.subarray(off, off + len));
      }
      const buf = original.slice();
      const compact = compilePcapRecordCompactor(filter, header)!;
      // Two calls, the second starting where the first stopped (a cut mid-record), as chunks come.
      const cut = 24 + Math.floor((buf.length - 24) / 2);
      const a = compact(buf, 24, cut);
      const b = compact(buf, a.next, buf.length);
      assert.equal(a.count + b.count, 800, expr);
      assert.equal(a.matched + b.matched, want.offsets.length, expr);
      assert.equal(b.next, buf.length);
      const got = [...buf.subarray(24, a.kept), ...buf.subarray(a.next, b.kept)];
      assert.deepEqual(Buffer.from(got), Buffer.from(expected), `${expr} ${JSON.stringify(opts)}`);
    }
  }
});

test('a buffer cut mid-record stops at that record, as the per-packet walk does', () => {
  const buf = capture({ count: 200 });
  const header = pcapFileHeader(buf)!;
  const filter = compileFilter('tcp or udp', { linkType: 'EN10MB' });
  const scan = compilePcapRecordFilter(filter, header)!;
  for (const cut of [24, 30, 40, 41, 500, 1234, buf.length - 1, buf.length - 17]) {
    const got = walk(buf, (pos, m) => scan(buf, pos, cut, m));
    assert.deepEqual(got, reference(buf, header, filter, cut), `cut at ${cut}`);
    assert.ok(got.end <= cut);
  }
});

test('a record above the snap length is a PcapError with the packet number and offset, as filterPcapRecords says', () => {
  const buf = capture({ count: 50, snaplen: 65535 });
  const header = pcapFileHeader(buf)!;
  // Record 11's caplen goes past the snap length.
  let pos = 24;
  for (let i = 0; i < 10; i++) pos += 16 + new DataView(buf.buffer).getUint32(pos + 8, true);
  new DataView(buf.buffer).setUint32(pos + 8, 70000, true);
  const filter = compileFilter('ip', { linkType: 'EN10MB' });
  const scan = compilePcapRecordFilter(filter, header)!;
  const run = prepareCbpf(filter).asFunction();
  const err = (f: () => unknown): PcapError => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof PcapError);
      return e;
    }
    assert.fail('no error');
  };
  const theirs = err(() => filterPcapRecords(buf, 24, buf.length, header, run, new Int32Array(100), 1000, 5));
  const ours = err(() => scan(buf, 24, buf.length, new Int32Array(100), 1000, 5));
  const compacting = err(() => compilePcapRecordCompactor(filter, header)!(buf.slice(), 24, buf.length, 1000, 5));
  assert.equal(ours.message, theirs.message);
  assert.equal(compacting.message, theirs.message);
  assert.match(ours.message, /captured length 70000 is larger than the snap length 65535/);
  assert.match(ours.message, /packet 16\b/);
  assert.match(ours.message, new RegExp(`${1000 + pos + 8}`));
});

test('filters only the interpreter runs, and protochain loops, are not compiled into the walk', () => {
  const header = pcapFileHeader(capture({ count: 1 }))!;
  assert.equal(compilePcapRecordFilter(compileFilter('ip6 protochain 17', { linkType: 'EN10MB' }), header), undefined);
  assert.equal(compilePcapRecordCompactor(compileFilter('ip6 protochain 17', { linkType: 'EN10MB' }), header), undefined);
  assert.equal(compilePcapRecordFilter([{ code: 0x20, jt: 0, jf: 0, k: 0xfffff000 }, { code: 0x16, jt: 0, jf: 0, k: 0 }], header), undefined);
});
