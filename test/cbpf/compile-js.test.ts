/**
 * The two JavaScript forms of a classic filter: structured code (labelled
 * blocks, for programs that only jump forward) and the switch loop (for
 * backward jumps), and the statements embedded in a caller's own loop.
 * libpcap's bpf_filter (through the interpreter, checked against it in
 * run.test.ts) is the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCbpfToJs, prepareCbpf, runCbpf, type SockFilter } from '../../src/cbpf/index.js';
// Not (yet) re-exported by src/cbpf/index.ts.
import { cbpfToJsStatements } from '../../src/cbpf/compile-js.js';
import { generatePackets, LINKTYPE } from '../../src/pcap/index.js';
import { compileFilter } from '../../src/pcap/filter/index.js';
import { randomPacket, randomValidProgram, rng } from './random.js';
import { libpcapFilter } from './tools.js';

const ins = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });

/** The statements inside a function of the caller's making, as the pcap scan embeds them. */
function embed(filter: readonly SockFilter[]): ((buf: Uint8Array, start: number, caplen: number, wirelen: number) => number) | undefined {
  const body = cbpfToJsStatements(filter, (v) => `out = ${v}; break done;`);
  if (!body) return undefined;
  return new Function(`return function (buf, start, caplen, wirelen) {
    let out = -1;
    done: { ${body.locals} ${body.code} }
    return out;
  };`)() as (buf: Uint8Array, start: number, caplen: number, wirelen: number) => number;
}

test('structured statements embedded in a loop return what the interpreter returns (3000 random programs)', () => {
  const next = rng(777);
  let embedded = 0;
  for (let i = 0; i < 3000; i++) {
    const prog = randomValidProgram(next, 4 + (next() % 60));
    const packet = randomPacket(next);
    const wirelen = packet.length + (next() % 3 === 0 ? next() % 300 : 0);
    const want = runCbpf(prog, packet, { wirelen });
    const run = embed(prog);
    if (!run) continue;
    embedded++;
    const buf = new Uint8Array(packet.length + 40).fill(0xa5);
    buf.set(packet, 23);
    // Every path must end in the ret snippet: -1 would mean the code fell out of the block.
    assert.equal(run(buf, 23, packet.length, wirelen), want, `case ${i}: ${JSON.stringify(prog)}`);
  }
  assert.ok(embedded > 2800, `${embedded} embedded`);
});

test('structured code has no switch; backward jumps get the switch form, embedding refuses them', () => {
  const prog = compileFilter('ip and tcp port 80', { linkType: 'EN10MB' });
  const body = cbpfToJsStatements(prog, (v) => `return ${v};`)!;
  assert.doesNotMatch(body.code, /switch|pc =/);
  assert.match(body.code, /break L\d+;/);
  const loop = [ins(0x00, 0), ins(0x04, 1), ins(0x15, 5, 1, 0), ins(0x05, -3), ins(0x16)];
  assert.equal(cbpfToJsStatements(loop, (v) => `return ${v};`), undefined);
  const compiled = compileCbpfToJs(loop, 100)!;
  assert.equal(compiled(new Uint8Array(0), 0, 0, 0), 5);
  // What only the interpreter runs is refused by both.
  for (const bad of [[ins(0xff)], [ins(0x00, 1)], [ins(0x20, 0xfffff000), ins(0x16)], [ins(0x60, 16), ins(0x16)]]) {
    assert.equal(cbpfToJsStatements(bad, (v) => `return ${v};`), undefined, JSON.stringify(bad));
    assert.equal(compileCbpfToJs(bad, 10), undefined, JSON.stringify(bad));
  }
});

test('many jump targets: deep nesting compiles and agrees; past the nesting limit the switch form takes over', () => {
  for (const n of [300, 1600]) {
    // ldb [0]; then n times { jeq #(i mod 256) jt +1; add #1 }; ret A: every test skips to its own target.
    const prog: SockFilter[] = [ins(0x30, 0)];
    for (let i = 0; i < n; i++) prog.push(ins(0x15, i & 0xff, 1, 0), ins(0x04, 1));
    prog.push(ins(0x16));
    const body = cbpfToJsStatements(prog, (v) => `return ${v};`);
    assert.equal(body !== undefined, n === 300, `n=${n}: structured only under the limit`);
    const p = prepareCbpf(prog);
    assert.equal(p.compiled, true, `n=${n}`);
    for (const b of [0, 1, 77, 200, 255]) {
      const pkt = Uint8Array.of(b);
      assert.equal(p.run(pkt), prepareCbpf(prog, { compile: false }).run(pkt), `n=${n} byte ${b}`);
    }
  }
});

test('generated traffic: compiled filters (structured and protochain loops) agree with libpcap', () => {
  const exprs = ['ip and tcp port 80', 'udp', 'vlan and ip', 'net 10.0.0.0/8', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and udp port 53',
    'host 10.0.0.1 or arp', 'len > 200', 'greater 100 and less 1000', 'ip[2:2] / 4 > 10', 'tcp[13] & 0x12 = 0x12', 'ip6 protochain 17'];
  const packets = [...generatePackets(31, 300, LINKTYPE.EN10MB)];
  const cases: { prog: SockFilter[]; packet: Uint8Array; wirelen: number }[] = [];
  const ours: number[] = [];
  for (const expr of exprs) {
    const prog = compileFilter(expr, { linkType: 'EN10MB' });
    const run = compileCbpfToJs(prog, 1 << 16);
    assert.ok(run, expr);
    for (const p of packets) {
      cases.push({ prog, packet: p.data, wirelen: p.wirelen });
      const buf = new Uint8Array(p.data.length + 8);
      buf.set(p.data, 5);
      ours.push(run(buf, 5, p.data.length, p.wirelen));
    }
  }
  assert.deepEqual(ours, libpcapFilter(cases));
  assert.ok(ours.some((v) => v !== 0) && ours.some((v) => v === 0));
});
