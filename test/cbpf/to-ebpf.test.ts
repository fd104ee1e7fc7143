import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cbpfToEbpf, CbpfConvertError, parseListing, runCbpf, skBuffContext, SKF_AD_OFF, type SkbMeta, type SockFilter,
} from '../../src/cbpf/index.js';
import { Vm, type HelperTable } from '../../src/vm/index.js';
import { loadProgram } from '../../src/kernel/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { randomPacket, randomValidProgram, rng } from './random.js';
import { tcpdumpListing } from './tools.js';

checkFdLeaks();

/** Run the converted program on the VM: r1 = the __sk_buff, ldabs/ldind read the "packet" region. */
function runOnVm(prog: SockFilter[], packet: Uint8Array, skb: SkbMeta): number {
  const helpers: HelperTable = {
    7: () => Math.floor((skb.random ?? Math.random)() * 0x100000000),
    8: () => skb.cpu ?? 0,
  };
  const vm = new Vm(cbpfToEbpf(prog), { helpers });
  if (packet.length > 0) vm.space.map('packet', packet, { writable: false });
  const ctx = vm.space.map('ctx', skBuffContext(packet.length, skb), { writable: false });
  return Number(vm.call([ctx.start]).r0 & 0xffffffffn);
}

const SKB: SkbMeta = {
  protocol: 0x0800, pkttype: 2, ifindex: 3, mark: 0xabcd, queue: 1, rxhash: 0x5555, cpu: 1, vlanTci: 0x2005,
  vlanPresent: true, vlanTpid: 0x88a8, random: () => 0.75,
};

test('converted programs on the VM return what the cBPF interpreter returns (Linux dialect)', () => {
  const next = rng(555);
  let nonzero = 0;
  for (let i = 0; i < 3000; i++) {
    const prog = randomValidProgram(next, 4 + (next() % 50), { ancillary: true });
    const packet = randomPacket(next);
    const want = runCbpf(prog, packet, { dialect: 'linux', skb: SKB });
    const got = runOnVm(prog, packet, SKB);
    assert.equal(got, want, `case ${i}: ${JSON.stringify(prog)} on [${packet}]`);
    if (got) nonzero++;
  }
  assert.ok(nonzero > 300, `${nonzero} accepting runs`);
});

test('tcpdump filters convert and select the same packets on the VM', () => {
  const prog = parseListing(tcpdumpListing('ip and tcp port 80', 3));
  const ebpf = cbpfToEbpf(prog);
  assert.deepEqual(ebpf.slice(0, 3).map((i) => i.kind), ['alu', 'alu', 'alu']); // A = 0, X = 0, r6 = r1
  const pkt = new Uint8Array(54);
  pkt.set([0x08, 0x00], 12);
  pkt[14] = 0x45;
  pkt[23] = 6;
  pkt.set([0x00, 0x50], 36);
  assert.equal(runOnVm(prog, pkt, {}), 262144);
  pkt[37] = 0x51;
  assert.equal(runOnVm(prog, pkt, {}), 0);
});

test('the kernel rules: jump forms, division guard, scratch slots', () => {
  const r = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k });
  // jf = 0: one jump; jt = 0: inverted; both: jump + ja; negative k: via r2. The last ret is unreachable.
  const e = cbpfToEbpf([r(0x15, 5, 1, 0), r(0x15, 5, 0, 1), r(0x25, 5, 1, 1), r(0x15, 0x80000000, 0, 0), r(0x02, 3), r(0x3c), r(0x16), r(0x16)]);
  const kinds = e.slice(3).map((i) => (i.kind === 'jmp' ? `${i.cond}` : i.kind));
  assert.deepEqual(kinds, ['jeq', 'jne', 'jgt', 'ja', 'alu', 'jeq', 'stx', 'alu', 'jne', 'alu', 'exit', 'alu', 'exit']);
  const st = e.find((i) => i.kind === 'stx');
  assert.deepEqual(st, { kind: 'stx', size: 4, dst: 10, src: 0, off: -16 });
  assert.throws(() => cbpfToEbpf([r(0x20, (SKF_AD_OFF + 28) >>> 0), r(0x16)]), (err) => err instanceof CbpfConvertError && err.index === 0 && /hatype/.test(err.message));
});

kernelTest('converted programs load as socket filters and BPF_PROG_TEST_RUN agrees with our interpreter', () => {
  const next = rng(808);
  for (let i = 0; i < 300; i++) {
    const prog = randomValidProgram(next, 4 + (next() % 40), { ancillary: false });
    // Ancillary loads whose values the test run fixes: protocol (from the Ethernet header), pkttype, ifindex (lo),
    // mark (from the context), queue, rxhash, xor_x, vlan tag, presence and protocol (none).
    if (i % 2 === 0) {
      const off = [0, 4, 8, 20, 24, 32, 40, 44, 48, 60][(i / 2) % 10];
      prog.splice(prog.length - 2, 0, { code: [0x20, 0x28, 0x30][i % 3], jt: 0, jf: 0, k: (SKF_AD_OFF + off) >>> 0 }, { code: 0x16, jt: 0, jf: 0, k: 0 });
    }
    let l3 = randomPacket(next);
    // The test run wants a whole IPv4 or IPv6 header after the Ethernet one.
    if (l3.length < 40) l3 = Uint8Array.from([...l3, ...Array.from({ length: 40 - l3.length }, () => next() & 0xff)]);
    const ethertype = next() % 2 ? 0x0800 : 0x86dd;
    const frame = new Uint8Array(14 + l3.length);
    frame.set([ethertype >> 8, ethertype & 0xff], 12);
    frame.set(l3, 14);
    const mark = next();
    using p = loadProgram({ type: 'socket_filter', insns: cbpfToEbpf(prog) });
    const kctx = new Uint8Array(184);
    new DataView(kctx.buffer).setUint32(8, mark >>> 0, true); // __sk_buff.mark
    const { retval } = p.testRun({ data: frame, ctx: kctx });
    // The kernel pulls the Ethernet header: the filter sees the network header at offset 0.
    const want = runCbpf(prog, l3, { dialect: 'linux', skb: { protocol: ethertype, pkttype: 0, ifindex: 1, mark } });
    assert.equal(retval >>> 0, want, `case ${i}: ${JSON.stringify(prog)} on [${l3}]`);
  }
});
