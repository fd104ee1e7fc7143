import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basicResolver, formatMap, formatPrintf, histToString, lhistToString, parseFormat, hexPointer, type CompiledScript, type MapEntry, type Resolver, type TraceMap } from '../../src/trace/index.js';

const u64 = (...v: bigint[]) => {
  const b = new Uint8Array(v.length * 8);
  v.forEach((x, i) => new DataView(b.buffer).setBigUint64(i * 8, BigInt.asUintN(64, x), true));
  return b;
};
const str = (s: string, size: number) => {
  const b = new Uint8Array(size);
  b.set(new TextEncoder().encode(s));
  return b;
};
const script = { probeNames: [], timeFormats: [] } as unknown as CompiledScript;
const r = basicResolver(script);

test('printf follows C conversions', () => {
  const f = (fmt: string, ...v: (bigint | string)[]) => formatPrintf(parseFormat(fmt), v);
  assert.equal(f('%5d|%-5d|%05d|%x|%X|%o|%c|%%|%s|', 42n, 42n, 42n, 255n, 255n, 8n, 65n, 'str'), '   42|42   |00042|ff|FF|10|A|%|str|');
  assert.equal(f('%d %u %x %ld', 1n << 40n, -1n, -1n, 1n << 40n), '0 4294967295 ffffffff 1099511627776');
  assert.equal(f('%-8s|%8s|%.2s', 'ab', 'cd', 'xyz'), 'ab      |      cd|xy');
  assert.equal(f('%hhd %hd', 257n, 65537n), '1 1');
});

test('hist labels and bars', () => {
  const v = new Array<bigint>(65).fill(0n);
  v[1] = 1n; v[4] = 2n; v[12] = 1n;
  const text = histToString(v, 'text');
  assert.equal(text.split('\n')[0], `[0]                    1 |${'@'.repeat(26).padEnd(52)}|`);
  assert.ok(text.includes('[4, 8)                 2 |'));
  assert.ok(text.includes('[1K, 2K)               1 |'));
  assert.ok(histToString(v, 'json').startsWith('[{"min": 0, "max": 0, "count": 1}, {"min": 1, "max": 1, "count": 0}, '));
  const l = new Array<bigint>(12).fill(0n);
  l[0] = 1n; l[3] = 2n; l[11] = 1n;
  const lt = lhistToString(l, { min: 0, max: 100, step: 10 }, 'text');
  assert.ok(lt.startsWith('(..., 0)               1 |'));
  assert.ok(lt.includes('[20, 30)               2 |'));
  assert.ok(lt.endsWith(`[100, ...)             1 |${'@'.repeat(26).padEnd(52)}|\n`));
});

test('maps print sorted by value, keys joined, JSON one object per map', () => {
  const map: TraceMap = { name: '@', keys: [{ kind: 'string', size: 16 }], value: { kind: 'agg', agg: 'count', signed: false }, keySize: 16, valueSize: 8, perCpu: true };
  const entries: MapEntry[] = [{ key: str('b', 16), value: u64(5n) }, { key: str('a', 16), value: u64(9n) }, { key: str('c', 16), value: u64(1n) }];
  assert.equal(formatMap(map, entries, 'text', r), '@[c]: 1\n@[b]: 5\n@[a]: 9\n');
  assert.equal(formatMap(map, entries, 'json', r), '{"type": "map", "data": {"@": {"c": 1, "b": 5, "a": 9}}}\n');
  assert.equal(formatMap(map, [], 'text', r), '\n');
  assert.equal(formatMap(map, [], 'json', r), '');
  const stats: TraceMap = { name: '@s', keys: [], value: { kind: 'agg', agg: 'stats', signed: false }, keySize: 8, valueSize: 16, perCpu: false };
  assert.equal(formatMap(stats, [{ key: u64(0n), value: u64(2n, 30n) }], 'text', r), '@s: count 2, average 15, total 30\n\n');
  assert.equal(formatMap(stats, [{ key: u64(0n), value: u64(2n, 30n) }], 'json', r), '{"type": "stats", "data": {"@s": {"count": 2, "average": 15, "total": 30}}}\n');
  const tuple: TraceMap = { name: '@t', keys: [], value: { kind: 'tuple', elems: [{ kind: 'int', bits: 64, signed: true }, { kind: 'string', size: 2 }] }, keySize: 8, valueSize: 16, perCpu: false };
  assert.equal(formatMap(tuple, [{ key: u64(0n), value: new Uint8Array([...u64(1n), 97, 0, 0, 0, 0, 0, 0, 0]) }], 'text', r), '@t: (1, a)\n');
});

test('print(@m, top, div) keeps the largest entries and divides values (not lhist counts)', () => {
  const map: TraceMap = { name: '@', keys: [{ kind: 'int', bits: 64, signed: false }], value: { kind: 'int', bits: 64, signed: false }, keySize: 8, valueSize: 8, perCpu: false };
  const entries: MapEntry[] = [{ key: u64(1n), value: u64(10n) }, { key: u64(2n), value: u64(25n) }, { key: u64(3n), value: u64(30n) }];
  assert.equal(formatMap(map, entries, 'text', r, { top: 2, div: 10 }), '@[2]: 2\n@[3]: 3\n');
  assert.equal(formatMap(map, entries, 'text', r, { top: 0, div: 1 }), '@[1]: 10\n@[2]: 25\n@[3]: 30\n');
  // hist: the number is divided, the bar follows the raw count
  assert.equal(histToString([0n, 0n, 0n, 0n, 1n, 0n, 0n, 0n, 2n], 'text', 2n), '[4, 8)                 0 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n[8, 16)                0 |                                                    |\n[16, 32)               0 |                                                    |\n[32, 64)               0 |                                                    |\n[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n');
  const count: TraceMap = { name: '@n', keys: [], value: { kind: 'agg', agg: 'count', signed: false }, keySize: 8, valueSize: 8, perCpu: true };
  assert.equal(formatMap(count, [], 'text', r), '@n: 0\n', 'an empty scalar count prints 0');
});

test('stack frames indent by 8 in values and by 4 in map keys', () => {
  const frames: Resolver = { ...r, stack: (_id, t) => ['a+1', 'b+2', 'c+3'].slice(0, t.limit ?? 127) };
  const map: TraceMap = { name: '@', keys: [{ kind: 'kstack', limit: 2 }], value: { kind: 'kstack' }, keySize: 8, valueSize: 8, perCpu: false };
  assert.equal(formatMap(map, [{ key: u64(7n), value: u64(7n) }], 'text', frames), '@[\n    a+1\n    b+2\n]: \n        a+1\n        b+2\n        c+3\n\n');
});

test('a stack whose id the map lacks prints nothing; an unresolved user address prints as C++ prints a pointer', () => {
  const none: Resolver = { ...r, stack: () => undefined };
  const map: TraceMap = { name: '@', keys: [{ kind: 'ustack' }], value: { kind: 'int', bits: 64, signed: false }, keySize: 8, valueSize: 8, perCpu: false };
  assert.equal(formatMap(map, [{ key: u64(0xffffffffn), value: u64(3n) }], 'text', none), '@[]: 3\n');
  assert.equal(hexPointer(0n), '0');
  assert.equal(hexPointer(0x7fffn), '0x7fff');
});
