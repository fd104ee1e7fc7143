import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePackets } from '../../src/pcap/index.js';
import { loadObject, RuntimeInputError, RuntimeLoadError } from '../../src/runtime/index.js';
import { HelperNotAllowedError } from '../../src/helpers/index.js';
import { MapDefinitionError, PerfEventArrayMap, ProgArrayMap, RingBufMap } from '../../src/maps/index.js';
import { runtimeFixture } from './fixtures.js';

const frame = (len: number, proto = 0x0800): Uint8Array => {
  const f = new Uint8Array(Math.max(len, 14));
  f.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, proto >> 8, proto & 255]);
  return f.subarray(0, len);
};

test('xdp programs: verdict names and the packet after the run', async () => {
  const obj = await loadObject(await runtimeFixture('xdp_swap_mac'));
  const res = obj.program('xdp_swap_mac').run({ packet: frame(60) });
  assert.equal(res.action, 'XDP_TX');
  assert.deepEqual([...res.packet!.subarray(0, 12)], [6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5]);
  assert.equal(res.retval, 3);
  assert.equal(obj.program('xdp_swap_mac').run({ packet: frame(10) }).action, 'XDP_DROP');
});

test('xdp_adjust_head and adjust_tail change the packet the run returns', async () => {
  const head = await loadObject(await runtimeFixture('xdp_adjust_head'));
  const r = head.program('xdp_adjust_head').run({ packet: frame(64) });
  assert.equal(r.action, 'XDP_TX');
  assert.equal(r.packet!.length, 68);
  assert.deepEqual([...r.packet!.subarray(12, 18)], [0x88, 0xb5, 0xab, 0xcd, 0x08, 0x00]);
  const tail = await loadObject(await runtimeFixture('xdp_adjust_tail'));
  const t = tail.program('xdp_adjust_tail').run({ packet: frame(40) });
  assert.equal(t.action, 'XDP_PASS');
  assert.equal(t.packet!.length, 46);
  assert.equal(t.packet![45], 0x5a);
  assert.equal(tail.program('xdp_adjust_tail').run({ packet: frame(300) }).packet!.length, 100);
});

test('tail calls follow the prog array and stop after 33', async () => {
  const obj = await loadObject(await runtimeFixture('xdp_tail_loop'));
  (obj.map('self') as ProgArrayMap).setProgram(0, obj.program('xdp_tail_loop'));
  const r = obj.program('xdp_tail_loop').run({ packet: frame(60) });
  assert.equal(r.chain.length, 34);
  assert.equal(r.action, 'XDP_PASS');
  const depth = obj.map('depth');
  assert.equal(new DataView(depth.lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true), 34n);
});

test('global data is readable after a run, .rodata as compiled', async () => {
  const obj = await loadObject(await runtimeFixture('xdp_globals'));
  const p = obj.program('xdp_globals');
  for (const len of [60, 200, 90]) p.run({ packet: frame(len) });
  const bss = [...obj.maps.values()].find((m) => m.name.endsWith('.bss'))!;
  const data = [...obj.maps.values()].find((m) => m.name.endsWith('.data'))!;
  const dump = obj.dumpMaps();
  assert.ok(dump.some((m) => m.name === data.name && m.entries.length === 1));
  const b = new DataView(bss.lookup(new Uint8Array(4))!.buffer);
  assert.equal(b.getBigUint64(0, true), 2n); // small_packets: threshold is 120
  assert.equal(b.getUint32(8, true), 90); // last_len
  assert.equal(new DataView(data.lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true), 8n); // big_packets starts at 7
});

test('trace_printk output, ring buffer, perf events and the fixed environment', async () => {
  const obj = await loadObject(await runtimeFixture('unit/unit'), { env: { startNs: 5000n, seed: 7 } });
  const r = obj.program('xdp_printk').run({ packet: frame(42) });
  assert.deepEqual(r.trace, ['len 42 proto 800', 'neg -5 u 4294967291 ld -5']);
  const rb = obj.map('events') as RingBufMap;
  const [ev] = rb.consume();
  const v = new DataView(ev.buffer, ev.byteOffset);
  assert.equal(v.getBigUint64(0, true), 5000n);
  assert.equal(v.getUint32(8, true), 42);
  const again = await loadObject(await runtimeFixture('unit/unit'), { env: { startNs: 5000n, seed: 7 } });
  again.program('xdp_printk').run({ packet: frame(42) });
  assert.deepEqual((again.map('events') as RingBufMap).consume(), [ev]); // same seed, same random
  const perf = (obj.map('perf') as PerfEventArrayMap).drain();
  assert.equal(perf.length, 1);
  assert.equal(perf[0].data.length, 4 + 14); // the sample plus 14 bytes of packet
  assert.deepEqual([...perf[0].data.subarray(4, 8)], [0, 1, 2, 3]);
});

test('tracing programs run on a raw context with the environment\'s task', async () => {
  const obj = await loadObject(await runtimeFixture('unit/unit'), { env: { pid: 42, tgid: 40, comm: 'curl' } });
  const ctx = new Uint8Array(64);
  new DataView(ctx.buffer).setBigInt64(8, 257n, true);
  const r = obj.program('trace_openat').run({ context: ctx });
  assert.equal(r.r0, 257n);
  assert.deepEqual(r.trace, ['curl pid 42 tgid 40']);
  assert.throws(() => obj.program('trace_openat').run({ packet: frame(20) }), RuntimeInputError);
  const tp = obj.program('trace_openat').run({ tracepoint: { format: 'syscalls/sys_enter_openat', values: { __syscall_nr: 257, filename: 0x1000n } } });
  assert.equal(tp.r0, 257n);
  assert.throws(() => obj.program('trace_openat').run({ tracepoint: { format: 'nope/nope', values: {} } }), /no shipped format/);
});

test('socket filters see skb->len from skb->data: l2 or, as BPF_PROG_TEST_RUN, l3', async () => {
  const obj = await loadObject(await runtimeFixture('unit/unit'));
  assert.equal(obj.program('socket_len').run({ packet: frame(80) }).retval, 80);
  assert.equal(obj.program('socket_len').run({ packet: frame(80), skbStart: 'l3' }).retval, 66);
});

test('load errors name the helper, the map or the program', async () => {
  await assert.rejects(loadObject(await runtimeFixture('unit/bad_helper')), (e: Error) =>
    e instanceof HelperNotAllowedError && /xdp_bad.*xdp programs may not call bpf_skb_store_bytes/.test(e.message));
  await assert.rejects(loadObject(await runtimeFixture('unit/bad_map')), (e: Error) => e instanceof MapDefinitionError && /'socks'.*sockmap/.test(e.message));
  const obj = await loadObject(await runtimeFixture('xdp_parse'));
  assert.throws(() => obj.program('nope'), (e: Error) => e instanceof RuntimeLoadError && /nope.*xdp_parse/.test(e.message));
  assert.throws(() => obj.program('xdp_parse').run({}), RuntimeInputError);
});

test('runPacket (the streaming path) agrees with run', async () => {
  const obj = await loadObject(await runtimeFixture('xdp_parse'));
  const p = obj.program('xdp_parse');
  for (const pkt of generatePackets(3, 200)) assert.equal(p.runPacket(pkt.data), p.run({ packet: pkt.data }).retval);
});

test('typed maps: keys and values through BTF', async () => {
  const obj = await loadObject(await runtimeFixture('xdp_count_proto'));
  for (const pkt of generatePackets(5, 50)) obj.program('xdp_count_proto').run({ packet: pkt.data });
  const m = obj.typedMap('by_proto');
  const ip = m.get(0x0800) as { packets: number; bytes: number };
  assert.ok(ip.packets > 0 && ip.bytes > ip.packets * 14);
  m.set(0x1234, { packets: 5, bytes: 6n });
  assert.deepEqual(m.get(0x1234), { packets: 5, bytes: 6 });
  assert.ok([...m].some(([k]) => k === 0x1234));
  assert.equal(m.delete(0x1234), true);
  assert.throws(() => m.set(1, { nope: 1 }), /no member nope/);
  const lpm = await loadObject(await runtimeFixture('xdp_lpm'));
  lpm.typedMap('routes').set({ prefixlen: 24, addr: 0x0a01020a }, 3);
  assert.equal(lpm.typedMap('routes').get({ prefixlen: 32, addr: 0x0a01020a }), 3);
});

test('map-in-map: a lookup gives the inner map, which the map helpers take', async () => {
  const obj = await loadObject(await runtimeFixture('unit/map_in_map'));
  const p = obj.program('xdp_mim');
  for (const len of [60, 61, 62]) assert.equal(p.run({ packet: frame(len) }).action, 'XDP_PASS');
  const sum = (name: string) => new DataView(obj.map(name).lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true);
  assert.deepEqual([sum('inner0'), sum('inner1')], [122n, 61n]);
});

test('kprobes: pt_regs context and stack ids from the environment\'s stacks', async () => {
  const obj = await loadObject(await runtimeFixture('unit/unit'));
  obj.env.kernelStack = [0xffffffff81000010n, 0xffffffff81000020n];
  const r = obj.program('kprobe_stack').run({ regs: { args: [1, 2] } });
  assert.equal(r.retval & 0xff, 0xf2); // the user stack is empty: -EFAULT (-14) in the low byte
  const id = r.retval >> 8;
  const v = new DataView(obj.map('stacks').lookup(new Uint8Array(new Uint32Array([id]).buffer))!.buffer);
  assert.deepEqual([v.getBigUint64(0, true), v.getBigUint64(8, true), v.getBigUint64(16, true)], [0xffffffff81000010n, 0xffffffff81000020n, 0n]);
  assert.equal(obj.program('kprobe_stack').run({ regs: {} }).retval >> 8, id); // same stack, same id
});
