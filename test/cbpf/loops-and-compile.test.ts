import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CbpfError, CbpfLoopError, compileCbpfToJs, prepareCbpf, runCbpf, type SockFilter } from '../../src/cbpf/index.js';
import { generatePackets, LINKTYPE } from '../../src/pcap/index.js';
import { compileFilter } from '../../src/pcap/filter/index.js';
import { randomPacket, randomValidProgram, rng } from './random.js';
import { libpcapFilter } from './tools.js';

const ins = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });

test('filters compiled to JavaScript return what the interpreter returns (5000 random programs, in place)', () => {
  const next = rng(4321);
  let compiled = 0;
  let nonzero = 0;
  for (let i = 0; i < 5000; i++) {
    const prog = randomValidProgram(next, 4 + (next() % 40));
    const packet = randomPacket(next);
    const wirelen = packet.length + (next() % 4 === 0 ? next() % 500 : 0);
    const want = runCbpf(prog, packet, { wirelen });
    const p = prepareCbpf(prog);
    if (p.compiled) compiled++;
    // The packet in the middle of a larger buffer, as the capture fast path runs it.
    const buf = new Uint8Array(packet.length + 37);
    buf.fill(0xee);
    buf.set(packet, 19);
    assert.equal(p.run(buf, 19, packet.length, wirelen), want, `case ${i}: ${JSON.stringify(prog)} on [${packet}]`);
    if (want) nonzero++;
  }
  assert.ok(compiled > 4500, `${compiled} compiled`);
  assert.ok(nonzero > 500, `${nonzero} accepting runs`);
});

test('what the compiler leaves to the interpreter: errors keep their messages', () => {
  assert.equal(compileCbpfToJs([ins(0xff)], 10), undefined);
  assert.equal(compileCbpfToJs([ins(0x00, 1)], 10), undefined); // runs past the end
  assert.equal(compileCbpfToJs([ins(0x20, 0xfffff000), ins(0x16)], 10), undefined); // ancillary
  // ld len; jeq #1 jt +5 (past the end); ret #7: only a 1-byte packet runs off the program.
  const p = prepareCbpf([ins(0x80), ins(0x15, 1, 5, 0), ins(0x06, 7)]);
  assert.equal(p.compiled, false);
  assert.throws(() => p.run(Uint8Array.of(9)), (e) => e instanceof CbpfError && e.index === 3 && /ran past the last instruction/.test(e.message));
  assert.equal(p.run(Uint8Array.of(9, 9)), 7);
});

test('libpcap dialect: backward ja runs (signed offset) within a loop budget; Linux refuses it', () => {
  // A counts up to 5 with a backward jump: ld #0; add #1; jeq #5 -> ret A; ja -3.
  const loop = [ins(0x00, 0), ins(0x04, 1), ins(0x15, 5, 1, 0), ins(0x05, -3), ins(0x16)];
  assert.equal(runCbpf(loop, Uint8Array.of()), 5);
  assert.equal(prepareCbpf(loop).run(Uint8Array.of()), 5);
  assert.equal(prepareCbpf(loop).compiled, true);
  assert.throws(() => runCbpf(loop, Uint8Array.of(), { loopBudget: 3 }), (e) => e instanceof CbpfLoopError && e.index === 3);
  assert.equal(runCbpf(loop, Uint8Array.of(), { loopBudget: 4 }), 5);
  assert.throws(() => runCbpf(loop, Uint8Array.of(), { dialect: 'linux' }), (e) => e instanceof CbpfError && !(e instanceof CbpfLoopError) && e.index === 3);
  const forever = [ins(0x05, -1)];
  for (const run of [() => runCbpf(forever, Uint8Array.of()), () => prepareCbpf(forever).run(Uint8Array.of())]) {
    assert.throws(run, (e) => e instanceof CbpfLoopError && e.code === 'CBPF_LOOP' && e.index === 0);
  }
  assert.throws(() => runCbpf([ins(0x05, -2), ins(0x16)], Uint8Array.of()), /jump by -2 goes past/);
});

test('protochain: interpreter, compiled filter and libpcap bpf_filter agree on generated packets', () => {
  const exprs = ['protochain 6', 'ip protochain 6', 'ip6 protochain 17', 'protochain 58', 'ip6 protochain 44 or tcp'];
  const cases: { prog: SockFilter[]; packet: Uint8Array; wirelen: number }[] = [];
  let looping = 0;
  for (const expr of exprs) {
    const prog = compileFilter(expr, { linkType: 'EN10MB' });
    assert.ok(prog.some((f) => f.code === 0x05 && f.k >= 0x80000000), `${expr} jumps backwards`);
    for (const p of generatePackets(909, 1500, LINKTYPE.EN10MB)) {
      try {
        runCbpf(prog, p.data, { wirelen: p.wirelen });
      } catch (e) {
        // libpcap would spin forever on these (IPv4 AH whose length points back at itself).
        if (!(e instanceof CbpfLoopError)) throw e;
        looping++;
        continue;
      }
      cases.push({ prog, packet: p.data, wirelen: p.wirelen });
    }
  }
  const want = libpcapFilter(cases);
  let accepted = 0;
  cases.forEach((c, i) => {
    const interp = runCbpf(c.prog, c.packet, { wirelen: c.wirelen });
    const compiled = prepareCbpf(c.prog).run(c.packet, 0, c.packet.length, c.wirelen);
    assert.equal(interp, want[i], `case ${i}`);
    assert.equal(compiled, want[i], `case ${i} (compiled)`);
    if (want[i]) accepted++;
  });
  assert.ok(accepted > 300, `${accepted} of ${cases.length} accepted`);
  assert.ok(looping < cases.length / 50, `${looping} looping packets`);
});

test('sock_filter bytes from a big-endian host decode with bigEndian, and round-trip', async () => {
  const { decodeSockFilter, encodeSockFilter } = await import('../../src/cbpf/index.js');
  const prog = compileFilter('ip and tcp port 80', { linkType: 'EN10MB' });
  const be = encodeSockFilter(prog, { bigEndian: true });
  // ldh [12] on s390x: code 0x0028 big-endian, jt, jf, k = 12 big-endian.
  assert.deepEqual([...be.subarray(0, 8)], [0x00, 0x28, 0, 0, 0, 0, 0, 12]);
  assert.deepEqual(decodeSockFilter(be, { bigEndian: true }), prog);
  assert.notDeepEqual(decodeSockFilter(be), prog);
  assert.deepEqual(decodeSockFilter(encodeSockFilter(prog)), prog);
});
