import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidClassic, parseListing, runCbpf, SKF_AD_OFF, SKF_NET_OFF, type SockFilter, CbpfError } from '../../src/cbpf/index.js';
import { kernelUdpFilter, libpcapFilter, tcpdumpListing } from './tools.js';
import { randomPacket, randomValidProgram, rng } from './random.js';

test('our interpreter returns what libpcap bpf_filter returns (5000 random programs and packets)', () => {
  const next = rng(99);
  const cases = [];
  for (let i = 0; i < 5000; i++) {
    const prog = randomValidProgram(next, 4 + (next() % 40));
    const packet = randomPacket(next);
    cases.push({ prog, packet, wirelen: packet.length + (next() % 3 === 0 ? next() % 1000 : 0) });
  }
  // Shifts by X of 32 or more, where C leaves the result open.
  for (const x of [31, 32, 33, 0xffffffff]) cases.push({ prog: [{ code: 0x00, jt: 0, jf: 0, k: 0xf0f0f0f0 }, { code: 0x01, jt: 0, jf: 0, k: x }, { code: 0x6c, jt: 0, jf: 0, k: 0 }, { code: 0x16, jt: 0, jf: 0, k: 0 }], packet: new Uint8Array(0), wirelen: 0 });
  const expected = libpcapFilter(cases);
  let nonzero = 0;
  cases.forEach((c, i) => {
    const got = runCbpf(c.prog, c.packet, { wirelen: c.wirelen });
    assert.equal(got, expected[i], `case ${i}: ${JSON.stringify(c.prog)} on [${c.packet}] wirelen ${c.wirelen}`);
    if (got !== 0) nonzero++;
  });
  assert.ok(nonzero > 500, `a useful mix: ${nonzero} accepting runs`);
});

test('tcpdump filters select the packets they should', () => {
  const prog = parseListing(tcpdumpListing('ip and tcp port 80', 3));
  const pkt = new Uint8Array(54);
  pkt.set([0x08, 0x00], 12);
  pkt[14] = 0x45;
  pkt[23] = 6;
  pkt.set([0x00, 0x50], 36); // dst port 80
  assert.equal(runCbpf(prog, pkt), 262144);
  pkt[37] = 0x51;
  assert.equal(runCbpf(prog, pkt), 0);
  assert.equal(runCbpf(prog, pkt.subarray(0, 20)), 0); // truncated: out-of-bounds load rejects
});

test('ancillary loads read the skb metadata; Linux negative offsets', () => {
  const ld = (off: number): SockFilter[] => [{ code: 0x20, jt: 0, jf: 0, k: (SKF_AD_OFF + off) >>> 0 }, { code: 0x16, jt: 0, jf: 0, k: 0 }];
  const skb = { protocol: 0x86dd, pkttype: 1, ifindex: 7, mark: 0xdead, queue: 3, hatype: 772, rxhash: 0x1234, cpu: 2, vlanTci: 0x0123, vlanPresent: true, vlanTpid: 0x8100 };
  const want: [number, number][] = [[0, 0x86dd], [4, 1], [8, 7], [20, 0xdead], [24, 3], [28, 772], [32, 0x1234], [36, 2], [44, 0x0123], [48, 1], [60, 0x8100]];
  for (const [off, v] of want) assert.equal(runCbpf(ld(off), new Uint8Array(0), { skb }), v, `SKF_AD_OFF+${off}`);
  assert.equal(runCbpf(ld(56), new Uint8Array(0), { skb: { random: () => 0.5 } }), 0x80000000);
  // A ^ X
  assert.equal(runCbpf([{ code: 0, jt: 0, jf: 0, k: 6 }, { code: 1, jt: 0, jf: 0, k: 3 }, ...ld(40)], new Uint8Array(0)), 5);
  // SKF_NET_OFF + 9 with the network header at 14: the IPv4 protocol byte.
  const pkt = new Uint8Array(40);
  pkt[23] = 17;
  const net: SockFilter[] = [{ code: 0x30, jt: 0, jf: 0, k: (SKF_NET_OFF + 9) >>> 0 }, { code: 0x16, jt: 0, jf: 0, k: 0 }];
  assert.equal(runCbpf(net, pkt, { dialect: 'linux', skb: { networkOffset: 14 } }), 17);
  assert.equal(runCbpf(net, pkt), 0); // libpcap has no negative offsets
  // Netlink attribute search: attributes of type 1 (len 8) then type 5 (len 6, padded) at offset 0.
  const nl = new Uint8Array([8, 0, 1, 0, 0, 0, 0, 0, 6, 0, 5, 0, 9, 9, 0, 0]);
  const find: SockFilter[] = [{ code: 1, jt: 0, jf: 0, k: 5 }, { code: 0, jt: 0, jf: 0, k: 0 }, ...ld(12)];
  assert.equal(runCbpf(find, nl), 8);
});

test('shifts of 32 or more: libpcap gives 0, Linux shifts modulo 32', () => {
  const prog: SockFilter[] = [{ code: 0, jt: 0, jf: 0, k: 1 }, { code: 1, jt: 0, jf: 0, k: 33 }, { code: 0x6c, jt: 0, jf: 0, k: 0 }, { code: 0x16, jt: 0, jf: 0, k: 0 }];
  assert.equal(runCbpf(prog, new Uint8Array(0)), 0);
  assert.equal(runCbpf(prog, new Uint8Array(0), { dialect: 'linux' }), 2);
});

test('malformed programs give typed errors, not crashes', () => {
  assert.throws(() => runCbpf([{ code: 0xff, jt: 0, jf: 0, k: 0 }], new Uint8Array(0)), (e) => e instanceof CbpfError && e.index === 0);
  assert.throws(() => runCbpf([{ code: 0x00, jt: 0, jf: 0, k: 0 }], new Uint8Array(0)), /ran past the last instruction/);
  assert.throws(() => runCbpf([{ code: 0x05, jt: 0, jf: 0, k: 5 }, { code: 0x16, jt: 0, jf: 0, k: 0 }], new Uint8Array(0)), CbpfError);
  assert.throws(() => runCbpf([{ code: 0x60, jt: 0, jf: 0, k: 99 }, { code: 0x16, jt: 0, jf: 0, k: 0 }], new Uint8Array(0)), /scratch memory index 99/);
});

test('the kernel running the filter on a UDP socket (SO_ATTACH_FILTER) agrees with our Linux dialect', () => {
  const next = rng(2718);
  const anc = [0, 4, 8, 12, 16, 20, 28, 40, 44, 48].map((o) => (SKF_AD_OFF + o) >>> 0);
  const cases = [];
  for (let i = 0; i < 1500; i++) {
    const prog = randomValidProgram(next, 4 + (next() % 40));
    if (i % 2 === 0) {
      // Ancillary loads whose values are known on a loopback UDP socket.
      for (let j = 0; j < 1 + (next() % 3); j++) {
        prog.splice(next() % (prog.length - 1), 0, { code: [0x20, 0x28, 0x30][next() % 3], jt: 0, jf: 0, k: anc[next() % anc.length] });
      }
      if (!isValidClassic(prog)) continue; // a splice may have put a load after a jump's reach
    }
    const payload = randomPacket(next);
    cases.push({ prog, payload });
  }
  const results = kernelUdpFilter(cases);
  let delivered = 0;
  cases.forEach(({ prog, payload }, i) => {
    const { sport, dport, received } = results[i];
    // What the filter sees: the UDP header (checksum off), then the payload.
    const pkt = new Uint8Array(8 + payload.length);
    const udpLen = 8 + payload.length;
    pkt.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, udpLen >> 8, udpLen & 0xff, 0, 0]);
    pkt.set(payload, 8);
    const ret = runCbpf(prog, pkt, { dialect: 'linux', skb: { protocol: 0x0800, pkttype: 0, ifindex: 1, hatype: 772 } });
    const want = ret === 0 ? -1 : Math.min(Math.max(ret, 8), pkt.length) - 8;
    assert.equal(received, want, `case ${i}: ${JSON.stringify(prog)} on [${pkt}]: ours ${ret}`);
    if (received >= 0) delivered++;
  });
  assert.ok(delivered > 200 && delivered < cases.length - 200, `${delivered} of ${cases.length} delivered`);
});
