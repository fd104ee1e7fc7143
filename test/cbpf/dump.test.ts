import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytecodeString, dumpFilter, parseListing, type SockFilter, SKF_AD_OFF, SKF_NET_OFF, SKF_LL_OFF,
} from '../../src/cbpf/index.js';
import { libpcapDump, tcpdumpListing } from './tools.js';
import { randomValidProgram, rng } from './random.js';

const EXPRESSIONS = [
  'ip and tcp port 80', 'ip', 'arp', 'ip6 and udp', 'icmp or icmp6', 'tcp[tcpflags] & (tcp-syn|tcp-ack) != 0',
  'vlan and ip', 'host 10.1.2.3 and not port 22', 'ip[2:2] > 576', 'net 192.168.0.0/16', 'len > 100',
  'ether broadcast', 'ip multicast', 'ip6 protochain 6', 'portrange 1000-2000', 'greater 64 and less 1500',
  'ip[0] & 0xf != 5', 'tcp[13] = 18', 'ip[6:2] & 0x1fff = 0', 'ether proto 0x88cc', 'mpls and ip', 'pppoes and ip',
];

test('our -d, -dd and -ddd listings of every 8-bit opcode equal libpcap bpf_dump', () => {
  const prog: SockFilter[] = [];
  for (let code = 0; code < 256; code++) for (const k of [3, 0xffffffff, 0x80000000]) prog.push({ code, jt: code % 7, jf: (code * 3) % 11, k });
  prog.push({ code: 0x115, jt: 1, jf: 2, k: 3 }, { code: 0xffff, jt: 0, jf: 0, k: 0 });
  for (const level of [1, 2, 3] as const) assert.equal(dumpFilter(prog, level), libpcapDump(prog, level), `level ${level}`);
});

test('ancillary and negative offsets print as libpcap prints them', () => {
  const prog: SockFilter[] = [];
  for (let off = 0; off <= 68; off++) for (const code of [0x20, 0x28, 0x30, 0x40]) prog.push({ code, jt: 0, jf: 0, k: (SKF_AD_OFF + off) >>> 0 });
  for (const k of [SKF_NET_OFF, SKF_LL_OFF, SKF_NET_OFF + 9, 0x7fffffff]) prog.push({ code: 0x30, jt: 0, jf: 0, k });
  prog.push({ code: 0x05, jt: 0, jf: 0, k: 0xfffffff0 });
  assert.equal(dumpFilter(prog, 1), libpcapDump(prog, 1));
});

test('random programs print as libpcap prints them, and every listing parses back', () => {
  const next = rng(7);
  for (let i = 0; i < 50; i++) {
    const prog = randomValidProgram(next, 10 + (next() % 60), { ancillary: true });
    for (const level of [1, 2, 3] as const) {
      const text = dumpFilter(prog, level);
      assert.equal(text, libpcapDump(prog, level));
      const back = parseListing(text);
      if (level === 1) assert.equal(dumpFilter(back, 1), text); // -d drops k where it is not printed
      else assert.deepEqual(back, prog);
    }
  }
});

test('tcpdump -d/-dd/-ddd listings parse to the same program, which we print identically', () => {
  for (const expr of EXPRESSIONS) {
    const ddd = tcpdumpListing(expr, 3);
    const prog = parseListing(ddd);
    assert.equal(dumpFilter(prog, 3), ddd, expr);
    assert.equal(dumpFilter(prog, 2), tcpdumpListing(expr, 2), expr);
    assert.equal(dumpFilter(prog, 1), tcpdumpListing(expr, 1), expr);
    assert.deepEqual(parseListing(tcpdumpListing(expr, 2)), prog, expr);
    assert.deepEqual(parseListing(tcpdumpListing(expr, 1)), prog, expr);
  }
});

test('the one-line bytecode form of iptables and tc', () => {
  const prog = parseListing('4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0');
  assert.deepEqual(prog, [
    { code: 48, jt: 0, jf: 0, k: 9 }, { code: 21, jt: 0, jf: 1, k: 6 }, { code: 6, jt: 0, jf: 0, k: 1 }, { code: 6, jt: 0, jf: 0, k: 0 },
  ]);
  assert.equal(bytecodeString(prog), '4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0');
});

test('parse errors name line and column', () => {
  const cases: [string, RegExp][] = [
    ['(000) ldh      [12]\n(001) jeq      #0x800  jt 2\tjf 1\n', /^2:.*jf target 1/],
    ['(000) ldh [12]\n(001) frob #1\n', /^2:7: unknown instruction 'frob'/],
    ['(000) ldh [12]\n(002) ret #0\n', /^2:2: instruction number 2, expected 1/],
    ['3\n6 0 0 0\n', /^1:1: count says 3 instructions but 1 follow/],
    ['2\n6 0 0 0\n6 0 x 0\n', /^3:5: expected jf/],
    ['{ 0x6, 0, 0, 0x0 },\n{ 0x6, 0, 300, 0x0 },\n', /^2:11: jf 300 out of range/],
    ['(000) ld [frob]\n', /^1:11: unknown ancillary load 'frob'/],
    ['1,6 0 0 99999999999', /^1:9: k 99999999999 does not fit/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseListing(text), (e: Error) => e.name === 'CbpfParseError' && re.test(e.message), text);
  }
});

test('the -d parser takes ancillary names, #len and hand-written listings without indices', () => {
  const prog = parseListing('ldb [vlanp]\njeq #1 jt 2 jf 3\nldx #len\nret #-1\n');
  assert.deepEqual(prog, [
    { code: 0x30, jt: 0, jf: 0, k: (SKF_AD_OFF + 48) >>> 0 },
    { code: 0x15, jt: 0, jf: 1, k: 1 },
    { code: 0x81, jt: 0, jf: 0, k: 0 },
    { code: 0x06, jt: 0, jf: 0, k: 0xffffffff },
  ]);
});

test('bpf_asm spellings: ld #proto, ldx 4*([14]&0xf), ld #vlan_avail', () => {
  const prog = parseListing('ld #proto\nldx 4*([14]&0xf)\nldb #vlan_avail\nld #rand\nret a\n');
  assert.deepEqual(prog.map((f) => [f.code, f.k]), [
    [0x20, SKF_AD_OFF], [0xb1, 14], [0x30, (SKF_AD_OFF + 48) >>> 0], [0x20, (SKF_AD_OFF + 56) >>> 0], [0x16, 0],
  ]);
  assert.equal(dumpFilter(prog, 1), '(000) ld       [proto]\n(001) ldxb     4*([14]&0xf)\n(002) ldb      [vlanp]\n(003) ld       [random]\n(004) ret      \n');
});
