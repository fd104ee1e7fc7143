/**
 * Map lookups and updates compiled into the JIT's module (src/jit/inline-maps.ts)
 * against the interpreter, which always calls the host's HashMap/ArrayMap:
 * the same r0 (value addresses included), errors, map contents and even the
 * same hash-table bytes, over random sequences of program and host operations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/asm/index.js';
import type { CollectionSpec, MapSpec, MapType, ProgramSpec, ProgramRelocation } from '../../src/elf/index.js';
import { createHostEnv, helperTable, newRunState, type HelperHost } from '../../src/helpers/index.js';
import { inlineMapHelpers } from '../../src/jit/inline-maps.js';
import { JitProgram } from '../../src/jit/index.js';
import { createVmMap, HashMap, MapOperationError, type VmMap } from '../../src/maps/index.js';
import { loadCollection, type VmCollection } from '../../src/runtime/index.js';
import { AddressSpace, Vm, type Helper } from '../../src/vm/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface MapDef { name: string; type: MapType; keySize: number; valueSize: number; maxEntries: number }

const mapSpec = (d: MapDef): MapSpec => ({
  ...d, origin: 'btf', flags: 0, pinning: 'none', numaNode: undefined, mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId: 0,
  innerMap: undefined, values: [], data: undefined, variables: [],
});

// Input: [0] op, [1] map index, [8..32) key, [40..48) flags, [48..144) value.
const OPS = {
  lookup: 0, update: 1, delete: 2, increment: 3, keyInInput: 4, wildKey: 5, valueInInput: 6, forgedMap: 7, keyInMap: 8, bothInMap: 9, keyPastMap: 10,
} as const;
/** An array whose value holds keys and values for the *InMap operations (as global data would). */
const SCRATCH: MapDef = { name: 'scratch', type: 'array', keySize: 4, valueSize: 136, maxEntries: 1 };
const KEY = 8, FLAGS = 40, VALUE = 48, INPUT = 144;

/** One program running every operation on the map the input names (forged r1 for an index past the maps). */
function opsProgram(maps: readonly MapDef[]): ProgramSpec {
  const lines = ['r6 = r1', 'r7 = *(u8 *)(r6 + 1)'];
  for (let o = 0; o < 24; o += 8) lines.push(`r2 = *(u64 *)(r6 + ${KEY + o})`, `*(u64 *)(r10 - ${32 - o}) = r2`);
  for (let o = 0; o < 96; o += 8) lines.push(`r2 = *(u64 *)(r6 + ${VALUE + o})`, `*(u64 *)(r10 - ${160 - o}) = r2`);
  lines.push('r8 = *(u8 *)(r6 + 0)');
  maps.forEach((_, i) => lines.push(`if r7 == ${i} goto m${i}`));
  lines.push('r1 = r6', 'goto sel');
  const mapInsn: string[] = [];
  maps.forEach((_, i) => {
    lines.push(`m${i}:`, 'r1 = 0 ll', 'goto sel');
    mapInsn.push(maps[i].name);
  });
  lines.push('sel:', 'r2 = r10', 'r2 += -32');
  for (const [name, op] of Object.entries(OPS)) lines.push(`if r8 == ${op} goto ${name}`);
  lines.push('r0 = 99', 'exit');
  lines.push('lookup:', 'call 1', 'exit');
  lines.push('update:', 'r3 = r10', 'r3 += -160', `r4 = *(u64 *)(r6 + ${FLAGS})`, 'call 2', 'exit');
  lines.push('delete:', 'call 3', 'exit');
  lines.push('increment:', 'call 1', 'if r0 == 0 goto out', 'r1 = *(u8 *)(r0 + 0)', 'r1 += 1', '*(u8 *)(r0 + 0) = r1', 'out:', 'exit');
  lines.push('keyInInput:', 'r2 = r6', `r2 += ${KEY}`, 'call 1', 'exit');
  lines.push('wildKey:', 'r2 = 0x30', 'call 1', 'exit');
  lines.push('valueInInput:', 'r3 = r6', `r3 += ${VALUE}`, `r4 = *(u64 *)(r6 + ${FLAGS})`, 'call 2', 'exit');
  lines.push('forgedMap:', 'r1 = r10', 'r1 += -8', 'call 1', 'exit');
  const toScratch = ['r9 = 1 ll'];
  for (let o = 0; o < 24; o += 8) toScratch.push(`r2 = *(u64 *)(r6 + ${KEY + o})`, `*(u64 *)(r9 + ${8 + o}) = r2`);
  for (let o = 0; o < 96; o += 8) toScratch.push(`r2 = *(u64 *)(r6 + ${VALUE + o})`, `*(u64 *)(r9 + ${40 + o}) = r2`);
  lines.push('keyInMap:', ...toScratch, 'r2 = r9', 'r2 += 8', 'call 1', 'exit');
  lines.push('bothInMap:', ...toScratch, 'r2 = r9', 'r2 += 8', 'r3 = r9', 'r3 += 40', `r4 = *(u64 *)(r6 + ${FLAGS})`, 'call 2', 'exit');
  lines.push('keyPastMap:', 'r9 = 1 ll', 'r2 = r9', `r2 += ${SCRATCH.valueSize - 2}`, 'call 1', 'exit');
  const insns = assemble(lines.join('\n'));
  const relocations: ProgramRelocation[] = [];
  let m = 0;
  insns.forEach((insn, i) => {
    if (insn.kind === 'lddw' && insn.imm === 0n) relocations.push({ kind: 'map', insn: i, map: mapInsn[m++] });
    if (insn.kind === 'lddw' && insn.imm === 1n) relocations.push({ kind: 'map_value', insn: i, map: SCRATCH.name, offset: 0 });
  });
  assert.equal(m, maps.length);
  return {
    name: 'ops', section: 'xdp', type: 'xdp', attachType: undefined as unknown as ProgramSpec['attachType'], attachTarget: undefined, sleepable: false,
    xdpFrags: false, license: 'GPL', kernelVersion: 0, insns, functions: [], relocations, funcInfo: [], lineInfo: [], coreRelocations: [],
  };
}

function collectionSpec(maps: readonly MapDef[]): CollectionSpec {
  return {
    littleEndian: true, license: 'GPL', kernelVersion: 0, externs: [], btf: undefined,
    maps: new Map([...maps, SCRATCH].map((d) => [d.name, mapSpec(d)])),
    programs: new Map([['ops', opsProgram(maps)]]),
  };
}

type Result = string;

function runOp(c: VmCollection, input: Uint8Array): Result {
  const p = c.program('ops').prepared;
  try {
    return `r0=${p.run(input).r0}`;
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

function hostOp(fn: () => unknown): Result {
  try {
    return `ok ${String(fn())}`;
  } catch (e) {
    if (e instanceof MapOperationError) return `errno ${e.message}`;
    throw e;
  }
}

function contents(m: VmMap): string[] {
  return [...m.entries()].map(([k, v]) => `${[...k].join(',')}=${[...v].join(',')}`);
}

const HASH_MAPS: MapDef[] = [1, 3, 4, 8, 16, 20].map((k, i) => ({
  name: `h${k}`, type: 'hash', keySize: k, valueSize: [8, 3, 12, 1, 72, 20][i], maxEntries: [4, 16, 24, 9, 12, 20][i],
}));
const OTHER_MAPS: MapDef[] = [
  { name: 'arr', type: 'array', keySize: 4, valueSize: 12, maxEntries: 10 },
  { name: 'pch', type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 8 },
  { name: 'lru', type: 'lru_hash', keySize: 8, valueSize: 8, maxEntries: 6 },
];
const ALL = [...HASH_MAPS, ...OTHER_MAPS];

test('random lookups, updates, deletes and host operations: the JIT and the interpreter agree byte for byte', () => {
  const spec = collectionSpec(ALL);
  const interp = loadCollection(spec, { engine: 'interp' });
  const jit = loadCollection(spec, { engine: 'jit' });
  assert.ok(jit.program('ops').prepared instanceof JitProgram);
  const rand = rng(7);
  const pools = ALL.map((d) => Array.from({ length: d.type === 'array' ? 14 : d.maxEntries * 2 }, (_, j) => {
    const k = new Uint8Array(d.keySize);
    if (d.type === 'array') new DataView(k.buffer).setUint32(0, j, true);
    else for (let b = 0; b < k.length; b++) k[b] = Math.floor(rand() * (d.keySize === 1 ? 256 : 4));
    return k;
  }));
  const flagsChoice = [0, 0, 0, 1, 2, 4, 9, 0x1_0000_0000];
  const ops = Object.values(OPS);
  let inline = 0;
  const updates = new Set<string>();
  const errors = new Set<string>();
  for (let step = 0; step < 6000; step++) {
    const mi = Math.floor(rand() * ALL.length);
    const d = ALL[mi];
    const key = pools[mi][Math.floor(rand() * pools[mi].length)];
    const value = Uint8Array.from({ length: d.valueSize }, () => Math.floor(rand() * 256));
    const flags = flagsChoice[Math.floor(rand() * flagsChoice.length)];
    if (rand() < 0.15) {
      // The host side, on both collections.
      const kind = Math.floor(rand() * 3);
      const res = [interp, jit].map((c) => {
        const m = c.map(d.name);
        const v = m.hostValueSize === d.valueSize ? value : new Uint8Array(m.hostValueSize).fill(value[0]);
        if (kind === 0) return hostOp(() => m.update(key, v, flags > 2 ? 'any' : flags));
        if (kind === 1) return hostOp(() => m.delete(key));
        return hostOp(() => m.lookup(key)?.join(','));
      });
      assert.equal(res[1], res[0], `step ${step}: host op ${kind} on ${d.name}`);
      continue;
    }
    const op = ops[Math.floor(rand() * ops.length)];
    const input = new Uint8Array(INPUT);
    input[0] = op;
    input[1] = op === OPS.forgedMap ? mi : rand() < 0.03 ? ALL.length : mi;
    input.set(key, KEY);
    new DataView(input.buffer).setBigUint64(FLAGS, BigInt(flags), true);
    input.set(value, VALUE);
    const a = runOp(interp, input), b = runOp(jit, input);
    assert.equal(b, a, `step ${step}: op ${op} on ${d.name}`);
    errors.add(a.replace(/:.*/, ''));
    if ((op === OPS.update || op === OPS.bothInMap) && d.type === 'hash') updates.add(a);
    if (op === OPS.lookup || op === OPS.update || op === OPS.delete || op === OPS.increment || op === OPS.keyInMap || op === OPS.bothInMap) inline++;
    if (step % 100 === 0 || step === 5999) {
      for (const m of ALL) assert.deepEqual(contents(jit.map(m.name)), contents(interp.map(m.name)), `step ${step}: ${m.name}`);
      for (const m of HASH_MAPS) {
        const ti = (interp.map(m.name) as HashMap).table.region, tj = (jit.map(m.name) as HashMap).table.region;
        assert.deepEqual(jit.space.bytesOf(tj), interp.space.bytesOf(ti), `step ${step}: ${m.name}'s table bytes`);
      }
    }
  }
  assert.ok(inline > 2000);
  assert.ok(errors.has('VmMemoryError') && errors.has('VmHelperError'), [...errors].join(' '));
  // Every outcome of an update happened: success, EEXIST, ENOENT, E2BIG (full), EINVAL.
  for (const errno of [0n, -17n, -2n, -7n, -22n]) assert.ok(updates.has(`r0=${BigInt.asUintN(64, errno)}`), `an update gave ${errno}`);
});

test('full maps, deletes then re-inserts, flags: the JIT gives the kernel errnos', () => {
  const d: MapDef = { name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 3 };
  for (const engine of ['interp', 'jit'] as const) {
    const c = loadCollection(collectionSpec([d]), { engine });
    const run = (op: number, k: number, flags = 0, v = 0n): bigint => {
      const input = new Uint8Array(INPUT);
      input[0] = op;
      new DataView(input.buffer).setUint32(KEY, k, true);
      new DataView(input.buffer).setBigUint64(FLAGS, BigInt(flags), true);
      new DataView(input.buffer).setBigUint64(VALUE, v, true);
      return BigInt.asIntN(64, c.program('ops').prepared.run(input).r0);
    };
    assert.equal(run(OPS.update, 1, 0, 10n), 0n, engine);
    assert.equal(run(OPS.update, 1, 1, 11n), -17n, `${engine}: NOEXIST on a present key is EEXIST`);
    assert.equal(run(OPS.update, 2, 2, 11n), -2n, `${engine}: EXIST on an absent key is ENOENT`);
    assert.equal(run(OPS.update, 2, 4), -22n, `${engine}: F_LOCK is EINVAL`);
    assert.equal(run(OPS.update, 2, 0x1_0000_0000), -22n, `${engine}: flags past 32 bits are EINVAL`);
    assert.equal(run(OPS.update, 2, 1, 2n), 0n);
    assert.equal(run(OPS.update, 3, 0, 3n), 0n);
    assert.equal(run(OPS.update, 4, 0, 4n), -7n, `${engine}: a full map is E2BIG`);
    assert.equal(run(OPS.update, 3, 2, 33n), 0n, `${engine}: a present key still updates when full`);
    assert.equal(run(OPS.delete, 2), 0n);
    assert.equal(run(OPS.delete, 2), -2n);
    assert.equal(run(OPS.update, 4, 0, 4n), 0n, `${engine}: the freed slot takes a new key`);
    assert.equal(run(OPS.lookup, 2), 0n, `${engine}: ${[...c.map('h').keys()].map((k) => k[0])}`);
    const a3 = run(OPS.lookup, 3);
    assert.ok(a3 > 0n);
    assert.equal(c.space.view.getBigUint64(Number(a3), true), 33n);
    assert.deepEqual([...c.map('h').keys()].map((k) => k[0]), [1, 3, 4], `${engine}: insertion order`);
    assert.ok(run(OPS.increment, 4) > 0n);
    assert.deepEqual(c.map('h').lookup(new Uint8Array([4, 0, 0, 0])), new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]));
  }
});

test('a forged map pointer and a wild key pointer give the interpreter\'s errors', () => {
  const spec = collectionSpec(HASH_MAPS.slice(2, 3));
  const outcomes = (['interp', 'jit'] as const).map((engine) => {
    const c = loadCollection(spec, { engine });
    return [OPS.forgedMap, OPS.wildKey, 200].map((op) => {
      const input = new Uint8Array(INPUT);
      input[0] = op === 200 ? OPS.lookup : op;
      input[1] = op === 200 ? 1 : 0; // index 1: r1 = the input region, not a map
      return runOp(c, input);
    });
  });
  assert.deepEqual(outcomes[1], outcomes[0]);
  assert.match(outcomes[0][0], /not a map/);
  assert.match(outcomes[0][1], /VmMemoryError/);
  assert.match(outcomes[0][2], /not a map/);
});

test('known maps with stack keys never reach the host; other keys and maps do', () => {
  const space = new AddressSpace();
  const ctx = { space, cpus: 1, cpu: () => 0 };
  const h = createVmMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 }, ctx) as HashMap;
  const other = createVmMap({ name: 'o', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 }, ctx) as HashMap;
  const byHandle = new Map([[h.handle, h], [other.handle, other]]);
  const host: HelperHost = { env: createHostEnv(), state: newRunState('xdp'), mapAt: (a) => byHandle.get(a), ringbufs: [] };
  const table = helperTable(host, 'xdp');
  let hostCalls = 0;
  const counted = table.map((fn): Helper => (c) => { hostCalls++; return fn(c); });
  const inlineHelpers = inlineMapHelpers([h.layout!], [other.values]);
  assert.ok(inlineHelpers !== undefined);
  assert.equal(inlineMapHelpers([h.layout!], [other.values]), inlineHelpers, 'equal layouts give the same set (shared modules)');
  space.view.setUint32(other.values.start, 7, true); // a key in a map value (readable range)
  const keyAt = (where: 'stack' | 'input' | number): string[] =>
    where === 'stack' ? ['r2 = r10', 'r2 += -4'] : where === 'input' ? ['r2 = r6', 'r2 += 0'] : [`r2 = ${where} ll`];
  const program = (mapHandle: number, where: 'stack' | 'input' | number) => assemble([
    'r6 = r1', 'r1 = 7', '*(u32 *)(r10 - 4) = r1', 'r1 = 5', '*(u64 *)(r10 - 16) = r1',
    `r1 = ${mapHandle} ll`, ...keyAt(where), 'r3 = r10', 'r3 += -16', 'r4 = 0', 'call 2',
    `r1 = ${mapHandle} ll`, ...keyAt(where), 'call 1',
    'if r0 == 0 goto out', 'r0 = *(u64 *)(r0 + 0)', 'out:', 'exit',
  ].join('\n'));
  const input = new Uint8Array([7, 0, 0, 0]);
  const cases: [number, 'stack' | 'input' | number, number][] = [
    [h.handle, 'stack', 0], [h.handle, other.values.start, 0], [h.handle, 'input', 2], [other.handle, 'stack', 2],
  ];
  for (const [handle, where, calls] of cases) {
    hostCalls = 0;
    const p: JitProgram = new JitProgram(program(handle, where), { space, helpers: counted, inlineHelpers });
    assert.equal(p.run(input).r0, 5n);
    assert.equal(hostCalls, calls, `map 0x${handle.toString(16)}, key in ${where}`);
  }
  assert.deepEqual(h.lookup(new Uint8Array([7, 0, 0, 0])), new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]));
});

test('budget: a loop of inline lookups and updates stops at the same instruction as the interpreter', () => {
  const world = (engine: 'interp' | 'jit') => {
    const space = new AddressSpace();
    const h = createVmMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64, flags: 0 }, { space, cpus: 1, cpu: () => 0 }) as HashMap;
    const host: HelperHost = { env: createHostEnv(), state: newRunState('xdp'), mapAt: (a) => (a === h.handle ? h : undefined), ringbufs: [] };
    const insns = assemble([
      'r6 = 0', 'loop:', '*(u32 *)(r10 - 4) = r6', '*(u64 *)(r10 - 16) = r6',
      `r1 = ${h.handle} ll`, 'r2 = r10', 'r2 += -4', 'call 1', 'if r0 != 0 goto next',
      `r1 = ${h.handle} ll`, 'r2 = r10', 'r2 += -4', 'r3 = r10', 'r3 += -16', 'r4 = 0', 'call 2',
      'next:', 'r6 += 1', 'if r6 < 40 goto loop', 'r0 = r6', 'exit',
    ].join('\n'));
    const helpers = helperTable(host, 'xdp');
    const p = engine === 'jit'
      ? new JitProgram(insns, { space, helpers, inlineHelpers: inlineMapHelpers([h.layout!]) })
      : new Vm(insns, { space, helpers });
    return { p, h };
  };
  for (const budget of [1, 7, 8, 9, 15, 16, 17, 100, 333, 1000]) {
    const [a, b] = (['interp', 'jit'] as const).map((e) => {
      const { p, h } = world(e);
      let r: string;
      try {
        const res = p.call([], { budget });
        r = `r0=${res.r0} executed=${res.executed}`;
      } catch (err) {
        r = `${(err as Error).constructor.name} pc=${(err as { pc?: number }).pc}`;
      }
      return `${r} size=${h.size}`;
    });
    assert.equal(b, a, `budget ${budget}`);
  }
});

test('a tiny, crowded table: probe runs wrap around and shift back on delete the same way', () => {
  const d: MapDef = { name: 'tiny', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 5 };
  const spec = collectionSpec([d]);
  const [interp, jit] = (['interp', 'jit'] as const).map((engine) => loadCollection(spec, { engine }));
  const rand = rng(99);
  const input = new Uint8Array(INPUT);
  const view = new DataView(input.buffer);
  for (let step = 0; step < 3000; step++) {
    input[0] = rand() < 0.55 ? OPS.update : rand() < 0.8 ? OPS.delete : OPS.lookup;
    view.setUint32(KEY, Math.floor(rand() * 12), true);
    view.setBigUint64(VALUE, BigInt(step), true);
    assert.equal(runOp(jit, input), runOp(interp, input), `step ${step}`);
    const ti = (interp.map('tiny') as HashMap).table.region, tj = (jit.map('tiny') as HashMap).table.region;
    assert.deepEqual(jit.space.bytesOf(tj), interp.space.bytesOf(ti), `step ${step}: table bytes`);
  }
});

test('the same program in collections with different maps gets modules of its own maps', () => {
  const run = (maxEntries: number, engine: 'interp' | 'jit'): string[] => {
    const c = loadCollection(collectionSpec([{ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries }]), { engine });
    const input = new Uint8Array(INPUT);
    const view = new DataView(input.buffer);
    const out: string[] = [];
    for (let k = 0; k < 40; k++) {
      input[0] = OPS.update;
      view.setUint32(KEY, k * 7919, true);
      view.setBigUint64(VALUE, BigInt(k), true);
      out.push(runOp(c, input));
    }
    out.push(...contents(c.map('h')));
    out.push([...c.space.bytesOf((c.map('h') as HashMap).table.region)].join(','));
    return out;
  };
  // Interleaved, so a module cached for one map set would be reused by the other if the cache mixed them.
  for (const n of [8, 64, 8, 33]) assert.deepEqual(run(n, 'jit'), run(n, 'interp'), `max_entries ${n}`);
});
