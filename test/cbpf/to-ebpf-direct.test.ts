/**
 * cbpfToEbpfDirect and EbpfFilter: classic filters lowered to eBPF with
 * direct, bounds-checked packet loads, run on the VM's interpreter and
 * WebAssembly JIT, give what the cBPF interpreter gives with libpcap's
 * semantics: random programs (ancillary loads included) on random packets,
 * tcpdump filters on generated traffic of every link type, and the edge
 * cases (loads out of bounds, division by zero, big shifts, scratch memory,
 * wire length) one by one; what cannot run on the VM is refused with the
 * instruction's index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CbpfConvertError, cbpfToEbpfDirect, EbpfFilter, prepareCbpf, SKF_AD_OFF, sockFilter, type SkbMeta, type SockFilter,
} from '../../src/cbpf/index.js';
import type { Engine } from '../../src/vm/index.js';
import { GENERATOR_LINK_TYPES, generatePackets, LINKTYPE } from '../../src/pcap/index.js';
import { compileFilter, type LinkType } from '../../src/pcap/filter/index.js';
import { randomPacket, randomValidProgram, rng } from './random.js';

const ENGINES: readonly Engine[] = ['interp', 'jit'];

const META: SkbMeta = {
  protocol: 0x86dd, pkttype: 3, ifindex: 7, mark: 0xdeadbeef, queue: 5, hatype: 1, rxhash: 0x12345678, cpu: 1,
  vlanTci: 0x0123, vlanPresent: true, vlanTpid: 0x88a8, payOffset: 34,
};

interface Case {
  readonly packet: Uint8Array;
  readonly wirelen: number;
}

/** Every case through the interpreter (libpcap dialect) and through EbpfFilter on `engine`. */
function compare(prog: readonly SockFilter[], cases: readonly Case[], engine: Engine, label: string, skb: SkbMeta = {}): number {
  const want = prepareCbpf(prog, { compile: false, skb });
  const f = new EbpfFilter(prog, engine, { skb });
  assert.equal(f.engine, engine);
  let accepted = 0;
  cases.forEach((c, i) => {
    const expect = want.run(c.packet, 0, c.packet.length, c.wirelen);
    const got = f.run(c.packet, 0, c.packet.length, c.wirelen);
    if (got !== expect) assert.fail(`${label} on ${engine}, case ${i} (${c.packet.length} bytes): ${got}, want ${expect}`);
    if (got !== 0) accepted++;
  });
  return accepted;
}

test('random valid programs with ancillary loads, on random packets: the cBPF interpreter\'s verdicts on both engines', () => {
  const next = rng(0x5eed);
  const cases: Case[] = [];
  for (let i = 0; i < 60; i++) {
    const packet = randomPacket(next);
    cases.push({ packet, wirelen: packet.length + (next() % 3 === 0 ? next() % 1000 : 0) });
  }
  let accepted = 0;
  for (let p = 0; p < 150; p++) {
    const prog = randomValidProgram(next, 4 + (next() % 40), { ancillary: true });
    for (const engine of ENGINES) accepted += compare(prog, cases, engine, `program ${p}`, META);
  }
  assert.ok(accepted > 100, `only ${accepted} acceptances: the comparison saw too little`);
});

/** One cBPF instruction's worth of edge cases, each ending in `ret A`. */
const RET_A = sockFilter(0x16);
const EDGE: readonly { name: string; prog: SockFilter[] }[] = [
  { name: 'ld [k] past the end', prog: [sockFilter(0x20, 60), RET_A] },
  { name: 'ldh [k] straddling the end', prog: [sockFilter(0x28, 29), sockFilter(0x04, 1), RET_A] },
  { name: 'ldb [k] at k > 0x7fff', prog: [sockFilter(0x30, 0x9000), sockFilter(0x04, 1), RET_A] },
  { name: 'ld [0x7fffffff]', prog: [sockFilter(0x20, 0x7fffffff), sockFilter(0x04, 1), RET_A] },
  { name: 'ld [0x80000000]', prog: [sockFilter(0x20, 0x80000000), sockFilter(0x04, 1), RET_A] },
  { name: 'an unknown ancillary offset', prog: [sockFilter(0x20, SKF_AD_OFF + 100), sockFilter(0x04, 1), RET_A] },
  { name: 'ld [x + k] with X + k past 2^32', prog: [sockFilter(0x01, 0xfffffffe), sockFilter(0x40, 4), sockFilter(0x04, 1), RET_A] },
  { name: 'ldh [x + k] in bounds', prog: [sockFilter(0x01, 3), sockFilter(0x48, 9), sockFilter(0x04, 1), RET_A] },
  { name: 'ldb [x + k] from the packet length', prog: [sockFilter(0x81), sockFilter(0x50, 0xffffffff), sockFilter(0x04, 1), RET_A] },
  { name: 'ldxb 4*([k]&0xf) then ld [x + 0]', prog: [sockFilter(0xb1, 14), sockFilter(0x40, 0), sockFilter(0x04, 1), RET_A] },
  { name: 'ldxb 4*([k]&0xf) past the end', prog: [sockFilter(0xb1, 200), sockFilter(0x87), sockFilter(0x04, 1), RET_A] },
  { name: 'div by X = 0', prog: [sockFilter(0x00, 7), sockFilter(0x3c), sockFilter(0x04, 1), RET_A] },
  { name: 'mod by X = 0', prog: [sockFilter(0x00, 7), sockFilter(0x9c), sockFilter(0x04, 1), RET_A] },
  { name: 'div by k = 0', prog: [sockFilter(0x00, 7), sockFilter(0x34, 0), sockFilter(0x04, 1), RET_A] },
  { name: 'div and mod by X from the packet', prog: [sockFilter(0x30, 3), sockFilter(0x07), sockFilter(0x20, 4), sockFilter(0x3c), sockFilter(0x02, 0), sockFilter(0x20, 8), sockFilter(0x9c), sockFilter(0x61, 0), sockFilter(0x0c), RET_A] },
  { name: 'div by 0xffffffff', prog: [sockFilter(0x20, 0), sockFilter(0x34, 0xffffffff), sockFilter(0x04, 1), RET_A] },
  { name: 'lsh by k = 32', prog: [sockFilter(0x00, 5), sockFilter(0x64, 32), sockFilter(0x04, 1), RET_A] },
  { name: 'rsh by k = 40', prog: [sockFilter(0x00, 5), sockFilter(0x74, 40), sockFilter(0x04, 1), RET_A] },
  { name: 'lsh and rsh by X from the packet (often >= 32)', prog: [sockFilter(0x30, 5), sockFilter(0x54, 63), sockFilter(0x07), sockFilter(0x20, 0), sockFilter(0x6c), sockFilter(0x02, 1), sockFilter(0x20, 6), sockFilter(0x7c), sockFilter(0x61, 1), sockFilter(0xac), sockFilter(0x04, 1), RET_A] },
  { name: 'scratch memory read before any write is 0', prog: [sockFilter(0x60, 3), sockFilter(0x61, 15), sockFilter(0x0c), sockFilter(0x04, 1), RET_A] },
  { name: 'scratch memory round trip', prog: [sockFilter(0x20, 0), sockFilter(0x02, 15), sockFilter(0x01, 9), sockFilter(0x03, 0), sockFilter(0x00, 0), sockFilter(0x60, 15), sockFilter(0x61, 0), sockFilter(0x0c), RET_A] },
  { name: 'ld #len and ldx #len (wire length)', prog: [sockFilter(0x80), sockFilter(0x81), sockFilter(0x0c), sockFilter(0x04, 1), RET_A] },
  { name: 'jgt / jge / jeq / jset with k >= 2^31', prog: [sockFilter(0x20, 0), sockFilter(0x25, 0x80000000, 0, 3), sockFilter(0x35, 0xfffffffe, 0, 2), sockFilter(0x15, 0xffffffff, 1, 0), sockFilter(0x45, 0x80000001, 0, 1), sockFilter(0x06, 1), sockFilter(0x06, 2)] },
  { name: 'jumps on X', prog: [sockFilter(0x20, 0), sockFilter(0x07), sockFilter(0x20, 4), sockFilter(0x2d, 0, 0, 2), sockFilter(0x3d, 0, 1, 0), sockFilter(0x06, 3), sockFilter(0x1d, 0, 1, 0), sockFilter(0x06, 1), sockFilter(0x4d, 0, 0, 1), sockFilter(0x06, 4), sockFilter(0x06, 5)] },
  { name: 'neg, ja, txa and ret k', prog: [sockFilter(0x20, 2), sockFilter(0x84), sockFilter(0x05, 1), sockFilter(0x06, 0), sockFilter(0x07), sockFilter(0x87), sockFilter(0x15, 0, 0, 1), sockFilter(0x06, 9), RET_A] },
  { name: 'alu_xor_x', prog: [sockFilter(0x00, 0x0f0f), sockFilter(0x01, 0xff), sockFilter(0x20, SKF_AD_OFF + 40), RET_A] },
];

test('edge cases one by one: out-of-bounds loads, division by zero, big shifts, scratch memory, wire length', () => {
  const next = rng(42);
  const cases: Case[] = [{ packet: new Uint8Array(0), wirelen: 0 }, { packet: new Uint8Array(0), wirelen: 1500 }];
  for (const len of [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 29, 30, 31, 32, 33, 60, 64, 100]) {
    for (let r = 0; r < 4; r++) {
      const packet = new Uint8Array(len);
      for (let i = 0; i < len; i++) packet[i] = r === 0 ? 0 : r === 1 ? 0xff : next() & 0xff;
      cases.push({ packet, wirelen: len + (r === 3 ? 9000 : 0) });
    }
  }
  for (const { name, prog } of EDGE) for (const engine of ENGINES) compare(prog, cases, engine, name);
});

test('every supported ancillary load gives the metadata it was built with, on both engines', () => {
  const offsets = [0, 4, 8, 20, 24, 28, 32, 36, 44, 48, 52, 60];
  for (const engine of ENGINES) {
    for (const off of offsets) {
      const prog = [sockFilter(0x20, SKF_AD_OFF + off), sockFilter(0x04, 1), RET_A];
      const cases = [{ packet: new Uint8Array(20), wirelen: 20 }];
      compare(prog, cases, engine, `SKF_AD_OFF+${off}`, META);
      compare(prog, cases, engine, `SKF_AD_OFF+${off} without metadata`);
    }
  }
});

const LINK_NAMES: Partial<Record<number, LinkType>> = {
  [LINKTYPE.EN10MB]: 'EN10MB', [LINKTYPE.LINUX_SLL]: 'LINUX_SLL', [LINKTYPE.LINUX_SLL2]: 'LINUX_SLL2', [LINKTYPE.RAW]: 'RAW',
  [LINKTYPE.NULL]: 'NULL', [LINKTYPE.LOOP]: 'LOOP',
};
const CORPUS = [
  'ip and tcp port 80', 'udp', 'vlan and ip', 'net 10.0.0.0/8', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and udp port 53',
  'host 10.0.0.1 or arp', 'len > 100', 'greater 200 and ip', 'ip[2:2] > 60 and ip[8] < 64', 'icmp or icmp6',
  'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420', 'ip and (ip[6:2] & 0x1fff) = 0', 'udp[8:2] % 3 = 1 or ip[2:2] / 50 = 2',
  'ether broadcast or ether multicast', 'port 53 or portrange 8000-8080', 'ip6 and tcp', 'not ip and not ip6',
];

test('tcpdump filters on generated traffic of every link type: same verdicts as the cBPF interpreter on both engines', () => {
  let compared = 0;
  for (const linkType of GENERATOR_LINK_TYPES) {
    const name = LINK_NAMES[linkType];
    if (name === undefined) continue;
    const cases = [...generatePackets(linkType * 7 + 1, 300, linkType)].map((p) => ({ packet: p.data, wirelen: p.wirelen }));
    for (const expr of CORPUS) {
      for (const optimize of [true, false]) {
        let prog: SockFilter[];
        try {
          prog = compileFilter(expr, { linkType: name, optimize });
        } catch {
          continue; // not expressible on this link type
        }
        for (const engine of ENGINES) compare(prog, cases, engine, `'${expr}' on ${name}${optimize ? '' : ' (-O)'}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 150, `only ${compared} filters compared`);
});

test('a chunk loaded once and run in place (runAt), with the wire length before each packet in either byte order', () => {
  const prog = compileFilter('len > 100 and ip', { linkType: 'EN10MB' });
  const want = prepareCbpf(prog, { compile: false });
  for (const bigEndian of [false, true]) {
    for (const engine of ENGINES) {
      const f = new EbpfFilter(prog, engine, { wirelenBigEndian: bigEndian });
      const packets = [...generatePackets(9, 200)];
      // Records as a pcap file lays them out: 16-byte header ending with the wire length, then the bytes.
      const size = packets.reduce((n, p) => n + 16 + p.data.length, 0);
      const chunk = new Uint8Array(size + 3);
      const view = new DataView(chunk.buffer);
      const starts: number[] = [];
      let o = 3;
      for (const p of packets) {
        view.setUint32(o + 12, p.wirelen, !bigEndian);
        chunk.set(p.data, o + 16);
        starts.push(o + 16);
        o += 16 + p.data.length;
      }
      const base = f.load(chunk, 3, chunk.length) - 3;
      let accepted = 0;
      packets.forEach((p, i) => {
        const got = f.runAt(base + starts[i], p.data.length);
        assert.equal(got, want.run(p.data, 0, p.data.length, p.wirelen), `packet ${i}, ${bigEndian ? 'big' : 'little'}-endian, ${engine}`);
        if (got) accepted++;
        // run() copies a packet in (replacing the chunk): same verdict.
        assert.equal(f.run(p.data, 0, p.data.length, p.wirelen), got);
        f.load(chunk, 3, chunk.length);
      });
      assert.ok(accepted > 10 && accepted < packets.length, `${accepted} accepted`);
    }
  }
});

test('what the VM lowering cannot run is refused with the instruction index', () => {
  const refuse = (prog: SockFilter[], index: number, pattern: RegExp) => {
    assert.throws(() => cbpfToEbpfDirect(prog), (e: unknown) => e instanceof CbpfConvertError && e.index === index && pattern.test(e.message));
  };
  refuse([sockFilter(0x20, 0), sockFilter(0x05, 0xfffffffe)], 1, /backward/);
  refuse([sockFilter(0x20, SKF_AD_OFF + 56), RET_A], 0, /random/);
  refuse([sockFilter(0x20, SKF_AD_OFF + 12), RET_A], 0, /nlattr/);
  refuse([sockFilter(0x20, 0), sockFilter(0xff, 0), RET_A], 1, /opcode 0xff/);
  refuse([sockFilter(0x15, 0, 5, 0), RET_A], 0, /past the end/);
  refuse([sockFilter(0x20, 0)], 0, /past the last/);
  refuse([sockFilter(0x02, 16), RET_A], 0, /scratch memory index 16/);
  refuse([], 0, /empty/);
  // An instruction no path reaches is left out, as the cBPF interpreter never runs it.
  assert.ok(cbpfToEbpfDirect([RET_A, sockFilter(0xff, 0)]).length > 0);
  // The tcpdump command runs these on the cBPF interpreter; EbpfFilter refuses them the same way.
  assert.throws(() => new EbpfFilter([sockFilter(0x20, 0), sockFilter(0x05, 0xfffffffe)], 'jit'), CbpfConvertError);
});
