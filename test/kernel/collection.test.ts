/**
 * loadCollection and the map API against the real kernel: global data,
 * element/batch/per-CPU operations, freeze, pinning, all-or-nothing
 * loading with the verifier's whole log.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import {
  BPFFS, CollectionLoadError, createMap, ensureBpffs, loadCollection, objectIds, openFds, openPinnedMap,
  openPinnedProgram, SyscallError, VerifierError,
} from '../../src/kernel/index.js';
import type { CollectionSpec, ProgramSpec } from '../../src/elf/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { hooksSpec, u32, u64 } from './hooks.js';

checkFdLeaks();

const u64b = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};

kernelTest('collection: maps, programs and BTF load; .data is memory-mapped both ways', () => {
  const spec = hooksSpec();
  using coll = loadCollection(spec, { programs: ['emit_ring'] });
  assert.equal(coll.btfError, undefined, 'the object BTF loads');
  assert.deepEqual([...coll.maps.keys()].sort(), ['.bss', '.data', 'by_pid', 'hits', 'perf', 'rb', 'jumps', 'inner_a', 'outer'].sort());
  // batch = 1 initially (from the ELF), then set from user space and seen by the program.
  const batch = coll.variable('batch');
  assert.equal(new DataView(batch.buffer, batch.byteOffset, 4).getUint32(0, true), 1);
  new DataView(batch.buffer, batch.byteOffset, 4).setUint32(0, 7, true);
  coll.program('emit_ring').testRun();
  assert.equal(u64(coll.variable('seq')), 7n, 'the program read our write and wrote seq back');
  // The kernel's view of the same value, through a syscall.
  assert.equal(new DataView(coll.map('.data').lookup(u32(0))!.buffer).getUint32(0, true), 7);
  const info = coll.program('emit_ring').info();
  assert.equal(info.name, 'emit_ring');
  assert.ok(info.btfId > 0, 'program carries BTF (func info)');
});

kernelTest('maps: update/lookup/delete, iteration, batch operations, lookup-and-delete', () => {
  using m = createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64, name: 'bk_hash' });
  for (let i = 0; i < 10; i++) m.update(u32(i), u64b(BigInt(i * i)));
  assert.equal(u64(m.lookup(u32(3))!), 9n);
  assert.equal(m.lookup(u32(99)), undefined);
  assert.throws(() => m.update(u32(3), u64b(0n), 'noexist'), (e: unknown) => e instanceof SyscallError && e.errnoName === 'EEXIST');
  assert.equal(m.delete(u32(3)), true);
  assert.equal(m.delete(u32(3)), false);
  const keys = [...m.keys()].map((k) => new DataView(k.buffer).getUint32(0, true)).sort((a, b) => a - b);
  assert.deepEqual(keys, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
  const batch = m.lookupBatch({ chunk: 4 });
  assert.equal(batch.length, 9);
  for (const [k, v] of batch) {
    const i = new DataView(k.buffer).getUint32(0, true);
    assert.equal(u64(v), BigInt(i * i));
  }
  m.updateBatch([u32(20), u32(21)], [u64b(1n), u64b(2n)]);
  assert.equal(u64(m.lookup(u32(21))!), 2n);
  assert.equal(m.deleteBatch([u32(20), u32(21)]), 2);
  assert.equal([...m.entries()].length, 9);
  using q = createMap({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 4 });
  q.update(new Uint8Array(0), u32(5));
  q.update(new Uint8Array(0), u32(6));
  assert.deepEqual([...q.lookupAndDelete()!], [5, 0, 0, 0]);
  assert.deepEqual([...q.lookupAndDelete()!], [6, 0, 0, 0]);
  assert.equal(q.lookupAndDelete(), undefined);
});

kernelTest('maps: per-CPU values, one per possible CPU', () => {
  using m = createMap({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 2 });
  const n = m.lookupPerCpu(u32(0))!.length;
  assert.ok(n >= 1);
  m.updatePerCpu(u32(1), Array.from({ length: n }, (_, i) => u32(100 + i)));
  assert.deepEqual(m.lookupPerCpu(u32(1))!.map((v) => new DataView(v.buffer).getUint32(0, true)), Array.from({ length: n }, (_, i) => 100 + i));
});

kernelTest('maps: freeze refuses later writes; .rodata is frozen after load', () => {
  using m = createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
  m.update(u32(0), u32(1));
  m.freeze();
  assert.throws(() => m.update(u32(0), u32(2)), (e: unknown) => e instanceof SyscallError && e.errnoName === 'EPERM');
  assert.deepEqual([...m.lookup(u32(0))!], [1, 0, 0, 0]);
});

kernelTest('pinning: maps and programs pinned under bpffs reopen as the same objects', () => {
  ensureBpffs();
  const dir = `${BPFFS}/bpfkit-test-${process.pid}`;
  execFileSync('mkdir', ['-p', dir]);
  try {
    const spec = hooksSpec();
    using coll = loadCollection(spec, { programs: ['on_raw_tp'] });
    coll.map('hits').pin(`${dir}/hits`);
    coll.program('on_raw_tp').pin(`${dir}/prog`);
    coll.map('hits').update(u32(2), u64b(42n));
    using again = openPinnedMap(`${dir}/hits`);
    assert.equal(again.info().id, coll.map('hits').info().id);
    assert.equal(u64(again.lookup(u32(2))!), 42n);
    using p = openPinnedProgram(`${dir}/prog`);
    assert.equal(p.info().id, coll.program('on_raw_tp').info().id);
    assert.equal(p.type, 'raw_tracepoint');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!existsSync(dir));
});

kernelTest('all or nothing: a program the verifier refuses closes the maps already created, and keeps the whole log', async () => {
  const spec = hooksSpec();
  const bad: ProgramSpec = {
    ...spec.programs.get('on_raw_tp')!,
    name: 'broken',
    // r0 = *(u64 *)(r1 + 0) on a raw tracepoint context is fine; returning from an uninitialised r2 read is not.
    insns: [{ kind: 'alu', width: 64, op: 'mov', dst: 0, src: 2 }, { kind: 'exit' }],
    relocations: [], funcInfo: [], lineInfo: [], coreRelocations: [],
  };
  const broken: CollectionSpec = { ...spec, programs: new Map([...spec.programs, ['broken', bad]]) };
  const fdsBefore = openFds().length;
  const mapsBefore = new Set(objectIds('map'));
  assert.throws(() => loadCollection(broken, { programs: ['on_raw_tp', 'broken'] }), (e: unknown) => {
    assert.ok(e instanceof CollectionLoadError);
    assert.equal(e.object, "program 'broken'");
    assert.ok(e.cause instanceof VerifierError);
    assert.match(e.cause.log, /R2 !read_ok/);
    assert.match(e.message, /R2 !read_ok/);
    return true;
  });
  assert.equal(openFds().length, fdsBefore, 'no fd left open');
  // Maps are freed (after an RCU grace period) once their last fd closes; none of ours may survive.
  const names = new Set(['hits', 'by_pid', '.data', '.bss', 'rb', 'perf']);
  let ours: number[] = [];
  for (let tries = 0; tries < 40; tries++) {
    ours = objectIds('map').filter((id) => !mapsBefore.has(id)).filter((id) => {
      try {
        return names.has(JSON.parse(execFileSync('bpftool', ['map', 'show', 'id', String(id), '--json'], { encoding: 'utf8' })).name);
      } catch {
        return false; // gone meanwhile
      }
    });
    if (ours.length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(ours, []);
});

kernelTest('prog arrays and map-in-map slots are filled at load from the object\'s .values', () => {
  const spec = hooksSpec();
  assert.deepEqual(spec.maps.get('jumps')!.values, [{ index: 1, name: 'tail_target' }]);
  using coll = loadCollection(spec, { programs: ['tail_entry', 'tail_target', 'via_outer'] });
  const pkt = new Uint8Array(64);
  assert.equal(coll.program('tail_entry').testRun({ data: pkt }).retval, 3, 'XDP_TX from the tail-called program');
  coll.map('inner_a').update(u32(0), u32(42));
  assert.equal(coll.program('via_outer').testRun({ data: pkt }).retval, 42, 'read through outer[0] = inner_a');
});

kernelTest('maps with pinning by_name are pinned on first load and reused by the next', () => {
  ensureBpffs();
  const dir = `${BPFFS}/bpfkit-pin-${process.pid}`;
  execFileSync('mkdir', ['-p', dir]);
  try {
    const spec = hooksSpec();
    const pinnedSpec: CollectionSpec = { ...spec, maps: new Map([...spec.maps].map(([n, m]) => [n, n === 'hits' ? { ...m, pinning: 'by_name' as const } : m])) };
    using a = loadCollection(pinnedSpec, { programs: ['on_raw_tp'], pinPath: dir });
    assert.ok(existsSync(`${dir}/hits`));
    a.map('hits').update(u32(5), u64b(77n));
    using b = loadCollection(pinnedSpec, { programs: ['on_raw_tp'], pinPath: dir });
    assert.equal(b.map('hits').info().id, a.map('hits').info().id, 'the same map');
    assert.equal(u64(b.map('hits').lookup(u32(5))!), 77n);
    assert.notEqual(b.map('by_pid').info().id, a.map('by_pid').info().id, 'unpinned maps are fresh');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
