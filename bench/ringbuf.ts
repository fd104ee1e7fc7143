/**
 * Ring buffer throughput: 1,000,000 records of 64 bytes produced by
 * examples/ringbench (BPF_PROG_TEST_RUN, `batch` records per run) and
 * consumed after each run, by bpfkit's RingBufferReader and by the same
 * consumer written in C with libbpf's ring_buffer (examples/ringbench/
 * consumer.c, compiled here with gcc -lbpf; no binary is committed).
 * Reports events/s and consumer CPU time side by side, and checks that no
 * record was lost or out of order.
 *
 *   node --import tsx bench/ringbuf.ts [--events N] [--batch B] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleObject } from '../examples/build.js';
import { loadCollectionSpec } from '../src/elf/index.js';
import { loadCollection, RingBufferReader } from '../src/kernel/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const events = opt('--events', 1_000_000);
const batch = opt('--batch', 10_000);
const runs = Math.ceil(events / batch);
const json = args.includes('--json');

interface Result { events: number; bad: number; consume_s: number; consume_cpu_s: number; wall_s: number }

function bpfkit(obj: string): Result {
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(obj)));
  new DataView(spec.maps.get('.data')!.data!.buffer, spec.maps.get('.data')!.data!.byteOffset).setUint32(0, batch, true);
  using coll = loadCollection(spec);
  using reader = new RingBufferReader(coll.map('rb'));
  const prog = coll.program('emit');
  let expected = 0;
  let got = 0;
  let bad = 0;
  // Decoded in place (consumeAt): no allocation per record. seq < 2^32 here, read as two u32 halves.
  const onRecord = (v: DataView, off: number, size: number): void => {
    if (size !== 64 || v.getUint32(off, true) !== expected || v.getUint32(off + 4, true) !== 0) bad++;
    expected++;
    got++;
  };
  let consume = 0;
  let cpu = 0;
  const wall0 = performance.now();
  for (let i = 0; i < runs; i++) {
    prog.testRun();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    reader.consumeAt(onRecord);
    consume += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1e6;
  }
  const dropped = new DataView(coll.variable('dropped').slice().buffer).getBigUint64(0, true);
  return { events: got, bad: bad + Number(dropped), consume_s: consume / 1000, consume_cpu_s: cpu, wall_s: (performance.now() - wall0) / 1000 };
}

function libbpf(obj: string): Result | string {
  const out = join(ROOT, 'build/bench');
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'ringbuf-consumer');
  try {
    execFileSync('gcc', ['-O2', '-o', bin, join(ROOT, 'examples/ringbench/consumer.c'), '-lbpf'], { stdio: 'pipe' });
  } catch (e) {
    return `cannot build the libbpf consumer: ${(e as Error).message.split('\n')[0]}`;
  }
  return JSON.parse(execFileSync(bin, [obj, String(runs), String(batch)], { encoding: 'utf8' })) as Result;
}

const obj = exampleObject('ringbench');
const ours = bpfkit(obj);
const theirs = libbpf(obj);
const rate = (r: Result) => r.events / r.consume_s;
if (json) {
  console.log(JSON.stringify({ events: runs * batch, batch, bpfkit: ours, libbpf: theirs }));
} else {
  const row = (name: string, r: Result) =>
    `${name.padEnd(8)} ${String(r.events).padStart(9)} events  lost/out-of-order ${r.bad}  consume ${(r.consume_s * 1000).toFixed(1)} ms (${(rate(r) / 1e6).toFixed(2)} M events/s)  consumer CPU ${(r.consume_cpu_s * 1000).toFixed(1)} ms  wall incl. producing ${(r.wall_s * 1000).toFixed(0)} ms`;
  console.log(row('bpfkit', ours));
  console.log(typeof theirs === 'string' ? `libbpf   ${theirs}` : row('libbpf', theirs));
  if (typeof theirs !== 'string') console.log(`bpfkit/libbpf consume time: ${(ours.consume_s / theirs.consume_s).toFixed(2)}x`);
}
if (ours.bad !== 0 || ours.events !== runs * batch) process.exitCode = 1;
