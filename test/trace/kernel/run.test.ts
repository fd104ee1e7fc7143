/** Scripts on the kernel that bpftrace 0.17 cannot run or that depend on the machine. */
import assert from 'node:assert/strict';
import { kernelTest } from '../../helpers/kernel.js';
import { runTrace } from '../cli-run.js';
import { FOR_OUTPUT, FOR_SCRIPT } from '../fixtures/for-loop.js';

kernelTest('for loops over maps on the kernel (bpf_for_each_map_elem with a callback)', async () => {
  const r = await runTrace(['-e', FOR_SCRIPT]);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, FOR_OUTPUT);
});

kernelTest('hardware events without a PMU say so (or run where there is one)', async () => {
  const r = await runTrace(['-e', 'hardware:cpu-cycles:1000000 { @ = count(); } interval:ms:100 { exit(); }']);
  if (r.code === 0) return;
  assert.match(r.stderr, /hardware:cpu-cycles:1000000 is not supported: this machine has no hardware performance counter/);
});
