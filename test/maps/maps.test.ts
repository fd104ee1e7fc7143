import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace } from '../../src/vm/index.js';
import {
  ArrayMap, BloomFilterMap, createVmMap, HashMap, LpmTrieMap, MapDefinitionError, MapOperationError, MAP_FLAG, QueueMap,
  RingBufMap, type MapContext, type MapDefinition,
} from '../../src/maps/index.js';

function ctx(cpus = 1): MapContext & { current: number } {
  const c = { space: new AddressSpace(), cpus, current: 0, cpu: () => c.current };
  return c;
}

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);
const def = (d: Partial<MapDefinition> & Pick<MapDefinition, 'type'>): MapDefinition => ({
  name: 'm', keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, ...d,
});

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MapOperationError) return e.message.replace(/^.*: /, '').split(' ')[0];
    throw e;
  }
  return 'ok';
}

test('hash: update flags, full map and delete give the kernel errnos', () => {
  const m = new HashMap(def({ type: 'hash' }), ctx());
  m.update(u32(1), u64(10n));
  assert.equal(errno(() => m.update(u32(1), u64(11n), 'noexist')), 'EEXIST');
  assert.equal(errno(() => m.update(u32(2), u64(11n), 'exist')), 'ENOENT');
  assert.equal(errno(() => m.update(u32(2), u64(11n), 9)), 'EINVAL');
  for (let i = 2; i <= 4; i++) m.update(u32(i), u64(BigInt(i)));
  assert.equal(errno(() => m.update(u32(5), u64(5n))), 'E2BIG');
  m.update(u32(4), u64(44n), 'exist'); // existing keys still update when full
  assert.deepEqual(m.lookup(u32(4)), u64(44n));
  assert.equal(m.delete(u32(3)), true);
  assert.equal(m.delete(u32(3)), false);
  m.update(u32(5), u64(5n));
  assert.equal(m.size, 4);
  assert.deepEqual([...m.keys()].map((k) => k[0]).sort(), [1, 2, 4, 5]);
});

test('hash: lookups give addresses of live values the program can change', () => {
  const c = ctx();
  const m = new HashMap(def({ type: 'hash' }), c);
  m.update(u32(7), u64(1n));
  const key = c.space.map('key', u32(7));
  const a = m.lookupAddr(key.start);
  assert.ok(a > 0);
  c.space.view.setBigUint64(a, 99n, true);
  assert.deepEqual(m.get(u32(7)), u64(99n));
  c.space.bytes.set(u32(8), key.start);
  assert.equal(m.lookupAddr(key.start), 0);
});

test('array: every index exists, out of range is E2BIG, delete is EINVAL', () => {
  const m = new ArrayMap(def({ type: 'array', maxEntries: 3 }), ctx());
  assert.deepEqual(m.lookup(u32(2)), u64(0n));
  assert.equal(m.lookup(u32(3)), undefined);
  assert.equal(errno(() => m.update(u32(3), u64(1n))), 'E2BIG');
  assert.equal(errno(() => m.update(u32(1), u64(1n), 'noexist')), 'EEXIST');
  assert.equal(errno(() => m.delete(u32(1))), 'EINVAL');
  m.update(u32(1), u64(5n), 'exist');
  assert.deepEqual([...m].map(([k, v]) => [k[0], v[0]]), [[0, 0], [1, 5], [2, 0]]);
});

test('per-CPU maps keep one value per CPU; programs see their CPU\'s', () => {
  const c = ctx(3);
  const a = new ArrayMap(def({ type: 'percpu_array', valueSize: 4 }), c);
  const key = c.space.map('key', u32(1));
  for (const cpu of [0, 2]) {
    c.current = cpu;
    c.space.view.setUint32(a.lookupAddr(key.start), 100 + cpu, true);
  }
  const all = a.lookup(u32(1))!;
  assert.equal(all.length, 24); // 3 CPUs x round_up(4, 8)
  assert.deepEqual([0, 8, 16].map((o) => new DataView(all.buffer).getUint32(o, true)), [100, 0, 102]);
  const h = new HashMap(def({ type: 'percpu_hash' }), c);
  const val = c.space.map('val', u64(5n));
  c.current = 1;
  assert.equal(h.updateAddr(key.start, val.start, 0), 0);
  const v = new DataView(h.lookup(u32(1))!.buffer);
  assert.deepEqual([v.getBigUint64(0, true), v.getBigUint64(8, true), v.getBigUint64(16, true)], [0n, 5n, 0n]);
});

test('lru_hash evicts the least recently used key when full', () => {
  const c = ctx();
  const m = new HashMap(def({ type: 'lru_hash', maxEntries: 3 }), c);
  for (let i = 1; i <= 3; i++) m.update(u32(i), u64(BigInt(i)));
  const key = c.space.map('key', u32(1));
  assert.ok(m.lookupAddr(key.start) > 0); // touch 1: 2 is now the oldest
  m.update(u32(4), u64(4n));
  assert.equal(m.has(u32(2)), false);
  assert.deepEqual([...m.keys()].map((k) => k[0]).sort(), [1, 3, 4]);
});

test('lpm_trie: longest prefix wins, bounded by the key\'s prefixlen', () => {
  const m = new LpmTrieMap(def({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 8, flags: MAP_FLAG.NO_PREALLOC }), ctx());
  const key = (len: number, ...ip: number[]) => new Uint8Array([...u32(len), ...ip]);
  m.update(key(8, 10, 0, 0, 0), u32(8));
  m.update(key(16, 10, 1, 0, 0), u32(16));
  m.update(key(24, 10, 1, 2, 99), u32(24)); // matched masked, kept as given
  const find = (len: number, ...ip: number[]): number | undefined => {
    const c = m.lookupAddr((m as unknown as { putScratchKey(k: Uint8Array): number }).putScratchKey(key(len, ...ip)));
    return c === 0 ? undefined : m.space.view.getUint32(c, true);
  };
  assert.equal(find(32, 10, 1, 2, 3), 24);
  assert.equal(find(32, 10, 1, 3, 3), 16);
  assert.equal(find(32, 10, 9, 9, 9), 8);
  assert.equal(find(20, 10, 1, 2, 3), 16);
  assert.equal(find(32, 11, 1, 2, 3), undefined);
  assert.deepEqual([...m.keys()].find((k) => k[0] === 24)!.subarray(4), new Uint8Array([10, 1, 2, 99]));
  assert.equal(errno(() => m.update(key(33, 1, 1, 1, 1), u32(1))), 'EINVAL');
  assert.equal(errno(() => m.delete(key(16, 10, 2, 0, 0))), 'ok'); // masked to 10.2/16: absent -> false, no throw
  assert.throws(() => new LpmTrieMap(def({ type: 'lpm_trie', keySize: 8 }), ctx()), MapDefinitionError);
});

test('queue and stack: order, E2BIG when full, BPF_EXIST drops the oldest', () => {
  const q = new QueueMap(def({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 }), ctx());
  q.push(u32(1));
  q.push(u32(2));
  assert.equal(errno(() => q.push(u32(3))), 'E2BIG');
  q.push(u32(3), 'exist');
  assert.deepEqual([q.pop()![0], q.pop()![0], q.pop()], [2, 3, undefined]);
  const s = new QueueMap(def({ type: 'stack', keySize: 0, valueSize: 4, maxEntries: 3 }), ctx());
  for (const v of [1, 2, 3]) s.push(u32(v));
  s.push(u32(4), 'exist');
  assert.deepEqual([...s].map(([, v]) => v[0]), [4, 3, 2]);
});

test('ringbuf: positions, full ring, discard and in-order consumption', async () => {
  const c = ctx();
  const rb = new RingBufMap(def({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 }), c);
  const a = rb.reserve(100);
  const b = rb.reserve(16);
  assert.ok(a > 0 && b > a);
  c.space.bytes.fill(7, b, b + 16);
  rb.commit(b, false);
  assert.deepEqual(rb.consume(), []); // a is still reserved
  rb.commit(a, true);
  assert.deepEqual(rb.consume().map((s) => s.length), [16]);
  assert.equal(rb.query(0), 0n);
  let n = 0;
  while (rb.reserve(1000 - 8) !== 0) n++;
  assert.equal(n, 4); // a fifth would put the producer 4096 bytes ahead of the consumer
  const it = rb[Symbol.asyncIterator]();
  rb.close();
  assert.equal((await it.next()).done, true);
  assert.throws(() => new RingBufMap(def({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 5000 }), ctx()), /power of 2/);
});

test('bloom filter: no false negatives', () => {
  const b = new BloomFilterMap(def({ type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 100 }), ctx());
  for (let i = 0; i < 100; i++) b.add(u32(i * 7919));
  for (let i = 0; i < 100; i++) assert.equal(b.mayContain(u32(i * 7919)), true);
  let fp = 0;
  for (let i = 0; i < 1000; i++) if (b.mayContain(u32(1_000_000 + i))) fp++;
  assert.ok(fp < 100, `${fp} false positives`);
});

test('unknown map types are refused naming the map', () => {
  assert.throws(() => createVmMap(def({ type: 'sockmap', name: 'socks' }), ctx()), (e: Error) => e instanceof MapDefinitionError && /socks.*sockmap/.test(e.message));
});
