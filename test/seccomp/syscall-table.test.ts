import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSyscallTable, encodeSyscallTable } from '../../src/seccomp/syscalls/table.js';
import { ARCHES } from '../../src/seccomp/arch.js';
import { syscallName } from '../../src/seccomp/index.js';

test('syscall table text: runs, gaps and aliases read back in order', () => {
  const rows: [string, number][] = [['read', 0], ['write', 1], ['close', 3], ['fstat', 3], ['x32_read', 0x40000000], ['y', 0x40000001], ['o32', 4000]];
  rows.sort((a, b) => a[1] - b[1]);
  const text = encodeSyscallTable(rows);
  assert.equal(text, 'read write 3: close =fstat 4000: o32 1073741824: x32_read y');
  assert.deepEqual(Object.entries(decodeSyscallTable(text)), rows);
});

test('random tables survive a round trip, key order included', () => {
  let seed = 12345;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  for (let t = 0; t < 200; t++) {
    const rows: [string, number][] = [];
    let nr = rand(3) === 0 ? rand(5000) : 0;
    for (let i = 0, n = rand(60); i < n; i++) {
      rows.push([`s${t}_${i}`, nr]);
      const step = rand(10);
      nr += step === 0 ? 0 : step < 8 ? 1 : 1 + rand(1000);
    }
    assert.deepEqual(Object.entries(decodeSyscallTable(encodeSyscallTable(rows))), rows);
  }
});

test('generated tables: known numbers, and the last alias of a number names it', () => {
  assert.equal(ARCHES.x86_64.syscalls.openat, 257);
  assert.equal(ARCHES.aarch64.syscalls.openat, 56);
  assert.equal(ARCHES.x32.syscalls.read, 0x40000000);
  assert.equal(ARCHES.mips.syscalls.read, 4003);
  assert.equal(syscallName('x86_64', 59), 'execve');
  assert.ok(Object.isFrozen(ARCHES.x86_64.syscalls));
});
