/**
 * Output channels: the ring buffer and perf buffer readers against the
 * real kernel (events produced by BPF_PROG_TEST_RUN of emitters), and the
 * trace_pipe line parser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCollection, parseTraceLine, PerfBufferReader, RingBufferReader } from '../../src/kernel/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { hooksSpec, u64 } from './hooks.js';

checkFdLeaks();

kernelTest('ring buffer: every event arrives once, in order, as a zero-copy view', () => {
  using coll = loadCollection(hooksSpec(), { programs: ['emit_ring'] });
  const batch = coll.variable('batch');
  new DataView(batch.buffer, batch.byteOffset, 4).setUint32(0, 5000, true);
  using reader = new RingBufferReader(coll.map('rb'));
  let next = 0n;
  let bad = 0;
  for (let run = 0; run < 4; run++) {
    coll.program('emit_ring').testRun();
    reader.consume((r) => {
      if (r.length !== 64 || u64(r) !== next) bad++;
      next++;
    });
  }
  assert.equal(bad, 0);
  assert.equal(next, 20000n);
  assert.equal(u64(coll.variable('dropped')), 0n);
});

kernelTest('ring buffer: records arrive through the event loop and the async iterator', async () => {
  using coll = loadCollection(hooksSpec(), { programs: ['emit_ring'] });
  const reader = new RingBufferReader(coll.map('rb'));
  const seen: bigint[] = [];
  setTimeout(() => { for (let i = 0; i < 3; i++) coll.program('emit_ring').testRun(); }, 20);
  for await (const r of reader) {
    seen.push(u64(r));
    if (seen.length === 3) reader.close();
  }
  assert.deepEqual(seen, [0n, 1n, 2n]);
});

kernelTest('perf buffer: samples from bpf_perf_event_output arrive through one epoll fd', async () => {
  using coll = loadCollection(hooksSpec(), { programs: ['emit_perf'] });
  using reader = new PerfBufferReader(coll.map('perf'), { pages: 8 });
  const seen: bigint[] = [];
  const done = new Promise<void>((resolve) => {
    reader.start((s) => {
      seen.push(u64(s));
      if (seen.length === 50) resolve();
    });
  });
  // Half before the fd is watched, half after: both paths must deliver.
  for (let i = 0; i < 25; i++) coll.program('emit_perf').testRun();
  setTimeout(() => {
    for (let i = 0; i < 25; i++) coll.program('emit_perf').testRun();
  }, 30);
  await done;
  assert.deepEqual(seen.sort((a, b) => Number(a - b)), Array.from({ length: 50 }, (_, i) => BigInt(i)));
  assert.equal(reader.lost, 0);
});

test('trace_pipe lines parse into task, pid, cpu, time and message', () => {
  const l = parseTraceLine('           <...>-12345   [001] d..31  4521.123456: bpf_trace_printk: hello 42');
  assert.deepEqual(l && { task: l.task, pid: l.pid, cpu: l.cpu, timestamp: l.timestamp, message: l.message }, { task: '<...>', pid: 12345, cpu: 1, timestamp: 4521.123456, message: 'hello 42' });
  assert.equal(parseTraceLine('# tracer: nop'), undefined);
});

kernelTest('perf buffer: samples the kernel could not write are counted as lost', () => {
  using coll = loadCollection(hooksSpec(), { programs: ['emit_perf'] });
  // One page per CPU: room for a few dozen 64-byte samples.
  using reader = new PerfBufferReader(coll.map('perf'), { pages: 1 });
  const N = 300;
  for (let i = 0; i < N; i++) coll.program('emit_perf').testRun();
  let got = reader.consume(() => {});
  assert.ok(got > 0 && got < N, `${got} of ${N} fit`);
  // The kernel reports the loss in the next record it manages to write.
  coll.program('emit_perf').testRun();
  got += reader.consume(() => {});
  assert.equal(got + reader.lost, N + 1);
});
