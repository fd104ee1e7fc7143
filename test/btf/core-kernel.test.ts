/**
 * CO-RE against the running kernel: core_task.bpf.c reads the current
 * task_struct's tgid, pid, real_parent->tgid and comm through vmlinux.h;
 * src/kernel loads it (applying our CO-RE relocations against
 * /sys/kernel/btf/vmlinux) and BPF_PROG_TEST_RUN of the raw tracepoint
 * program runs it in this very process, so the values must be ours. The
 * same fields are also read through a local `task_struct___mine` with
 * another layout, which only relocation can make right.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { loadCollection } from '../../src/kernel/index.js';
import { fixture, readBytes } from '../helpers/fixtures.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';

checkFdLeaks();

function i32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(0, true);
}

kernelTest('CO-RE task_struct reads give this process its own pid, ppid and comm', async () => {
  const spec = loadCollectionSpec(readBytes(await fixture('core_task')));
  const prog = spec.programs.get('read_task')!;
  assert.ok(prog.coreRelocations.length >= 4, `expected CO-RE relocations, got ${prog.coreRelocations.length}`);
  using coll = loadCollection(spec);
  const r = coll.program('read_task').testRun();
  const status = readFileSync('/proc/thread-self/status', 'utf8');
  const tid = Number(/^Pid:\s+(\d+)/m.exec(status)![1]);
  assert.equal(r.retval, process.pid);
  assert.equal(i32(coll.variable('tgid')), process.pid);
  assert.equal(i32(coll.variable('pid')), tid);
  assert.equal(i32(coll.variable('ppid')), process.ppid);
  const comm = readFileSync('/proc/thread-self/comm', 'utf8').trim();
  const got = coll.variable('comm');
  assert.equal(new TextDecoder().decode(got.subarray(0, got.indexOf(0))), comm);
  assert.equal(i32(coll.variable('comm_size')), 16);
  // The same fields through a local struct laid out differently (pid at 0, tgid at 4).
  assert.equal(i32(coll.variable('flavour_tgid')), process.pid);
  assert.equal(i32(coll.variable('flavour_pid')), tid);
  assert.equal(i32(coll.variable('flavour_ppid')), process.ppid);
});
