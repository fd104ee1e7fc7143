/**
 * The same random operation sequences on a VM map and a kernel map: every
 * result (errno or value) and the final contents must match.
 */
import assert from 'node:assert/strict';
import { createMap, SyscallError, errnoName, type BpfMap } from '../../src/kernel/index.js';
import { createVmMap, MapOperationError, MAP_FLAG, type MapDefinition, type VmMap } from '../../src/maps/index.js';
import { AddressSpace } from '../../src/vm/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';

checkFdLeaks();

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array | undefined) => (b === undefined ? 'none' : Buffer.from(b).toString('hex'));

function outcome(fn: () => unknown): string {
  try {
    const r = fn();
    return r instanceof Uint8Array || r === undefined ? hex(r as Uint8Array | undefined) : String(r);
  } catch (e) {
    if (e instanceof MapOperationError) return e.message.split(': ').pop()!.split(' ')[0];
    if (e instanceof SyscallError) return errnoName(e.errno);
    throw e;
  }
}

function run(d: MapDefinition, keyOf: (r: () => number) => Uint8Array, ops: number, seed: number): void {
  const vm: VmMap = createVmMap(d, { space: new AddressSpace(), cpus: 1, cpu: () => 0 });
  const k: BpfMap = createMap({ type: d.type, keySize: d.keySize, valueSize: d.valueSize, maxEntries: d.maxEntries, flags: d.flags });
  try {
    const r = rng(seed);
    for (let i = 0; i < ops; i++) {
      const key = keyOf(r);
      const value = new Uint8Array(d.valueSize).map(() => Math.floor(r() * 256));
      const op = Math.floor(r() * 4);
      const flag = (['any', 'noexist', 'exist'] as const)[Math.floor(r() * 3)];
      let a: string, b: string;
      if (op === 0 || op === 1) {
        a = outcome(() => vm.update(key, value, flag));
        b = outcome(() => k.update(key, value, flag));
      } else if (op === 2) {
        a = outcome(() => vm.delete(key));
        b = outcome(() => k.delete(key));
      } else {
        a = outcome(() => vm.lookup(key));
        b = outcome(() => k.lookup(key));
      }
      assert.equal(a, b, `${d.type} op ${i} (${['update', 'update', 'delete', 'lookup'][op]} ${hex(key)} ${flag})`);
    }
    const vmAll = [...vm].map(([kk, v]) => `${hex(kk)}=${hex(v)}`).sort();
    const kAll = [...k.keys()].map((kk) => `${hex(kk)}=${hex(k.lookup(kk))}`).sort();
    assert.deepEqual(vmAll, kAll);
  } finally {
    k.close();
  }
}

const smallKey = (n: number) => (r: () => number) => new Uint8Array(new Uint32Array([Math.floor(r() * n)]).buffer);

kernelTest('hash map host operations match the kernel', () => {
  run({ name: 'h', type: 'hash', keySize: 4, valueSize: 12, maxEntries: 16, flags: 0 }, smallKey(24), 3000, 1);
  run({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, flags: MAP_FLAG.NO_PREALLOC }, smallKey(24), 2000, 2);
  run({ name: 'h', type: 'hash', keySize: 6, valueSize: 8, maxEntries: 8, flags: 0 }, (r) => new Uint8Array(6).map(() => Math.floor(r() * 3)), 2000, 3);
});

kernelTest('array map host operations match the kernel', () => {
  run({ name: 'a', type: 'array', keySize: 4, valueSize: 12, maxEntries: 10, flags: 0 }, smallKey(14), 2000, 4);
});

kernelTest('lpm trie host operations match the kernel', () => {
  run({ name: 'l', type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 12, flags: MAP_FLAG.NO_PREALLOC },
    (r) => new Uint8Array([Math.floor(r() * 34), 0, 0, 0, 10, Math.floor(r() * 3), Math.floor(r() * 256), 0]), 2000, 5);
});
