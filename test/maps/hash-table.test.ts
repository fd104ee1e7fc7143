/**
 * The hash maps' index in linear memory (src/maps/hash-table.ts) against a
 * model built on a JS Map: random updates, deletes and lookups on small
 * tables (so probe runs collide, wrap around and shift back on delete)
 * keep the same keys, values, size, errnos and iteration order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashMap, MapOperationError, type MapDefinition } from '../../src/maps/index.js';
import { AddressSpace } from '../../src/vm/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

function errno(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof MapOperationError) return e.message.replace(/^.*: /, '').split(' ')[0];
    throw e;
  }
}

for (const keySize of [1, 3, 4, 8, 16, 20]) {
  for (const type of ['hash', 'lru_hash'] as const) {
    test(`${type} with ${keySize}-byte keys behaves as a Map in insertion${type === 'lru_hash' ? ' (recency)' : ''} order`, () => {
      const maxEntries = 13;
      const def: MapDefinition = { name: 'm', type, keySize, valueSize: 4, maxEntries, flags: 0 };
      const m = new HashMap(def, { space: new AddressSpace(), cpus: 1, cpu: () => 0 });
      const model = new Map<string, Uint8Array>();
      const rand = rng(keySize * 31 + (type === 'lru_hash' ? 7 : 0));
      const pool = Array.from({ length: 40 }, () => Uint8Array.from({ length: keySize }, () => Math.floor(rand() * (keySize === 1 ? 256 : 3))));
      let full = 0, evicted = 0;
      for (let step = 0; step < 4000; step++) {
        const key = pool[Math.floor(rand() * pool.length)];
        const k = hex(key);
        const r = rand();
        if (r < 0.5) {
          const flag = (['any', 'noexist', 'exist'] as const)[Math.floor(rand() * 3)];
          const value = Uint8Array.from({ length: 4 }, () => Math.floor(rand() * 256));
          const present = model.has(k);
          let want = 'ok';
          if (present && flag === 'noexist') want = 'EEXIST';
          else if (!present && flag === 'exist') want = 'ENOENT';
          else if (!present && model.size === maxEntries) {
            if (type === 'hash') want = 'E2BIG';
            else {
              model.delete(model.keys().next().value!);
              evicted++;
            }
          }
          if (want === 'E2BIG') full++;
          assert.equal(errno(() => m.update(key, value, flag)), want, `step ${step}`);
          if (want === 'ok') {
            if (type === 'lru_hash') model.delete(k);
            model.set(k, value);
          }
        } else if (r < 0.8) {
          assert.equal(m.delete(key), model.delete(k), `step ${step}: delete`);
        } else {
          assert.deepEqual(m.lookup(key), model.get(k), `step ${step}: lookup`);
        }
        assert.equal(m.size, model.size);
        if (step % 50 === 0) assert.deepEqual([...m].map(([kk, v]) => [hex(kk), v]), [...model].map(([kk, v]) => [kk, v]), `step ${step}: entries`);
      }
      if (type === 'hash') assert.ok(full > 0, 'the map filled up');
      else assert.ok(evicted > 0, 'the LRU map evicted');
      m.clear();
      assert.equal(m.size, 0);
      assert.deepEqual([...m.keys()], []);
      m.update(pool[0], new Uint8Array(4));
      assert.deepEqual([...m.keys()], [pool[0]]);
    });
  }
}

test('the table lives in a read-only region programs cannot write', () => {
  const space = new AddressSpace();
  const m = new HashMap({ name: 't', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 100, flags: 0 }, { space, cpus: 1, cpu: () => 0 });
  assert.equal(m.table.region.writable, false);
  assert.throws(() => space.check(m.table.region.start, 4, 'write'));
  assert.equal(space.regionAt(m.table.buckets)?.name, 'map:t:table');
  assert.ok(m.table.mask + 1 >= 150, 'at most 2/3 of the buckets are ever used');
});
