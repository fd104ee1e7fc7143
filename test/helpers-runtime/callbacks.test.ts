/**
 * Callbacks: HelperContext.callFunction on both engines, and bpf_loop /
 * bpf_for_each_map_elem compared with the kernel on a C program
 * (fixtures/callbacks.bpf.c: loop counts, early stops, map walks that
 * write values, the flags and E2BIG errors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadCollectionSpec, type CollectionSpec } from '../../src/elf/index.js';
import { loadCollection as loadKernel } from '../../src/kernel/index.js';
import { loadCollection } from '../../src/runtime/index.js';
import { compile } from '../../src/jit/index.js';
import { build as b, type Insn } from '../../src/isa/index.js';
import { HelperArgumentError, MAX_FRAMES, Vm, VmBudgetError, VmCallDepthError, VmHelperError, type Helper, type PreparedProgram } from '../../src/vm/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { compileBpf, readBytes } from '../helpers/fixtures.js';

checkFdLeaks();

const FIXTURE = join(import.meta.dirname, 'fixtures/callbacks.bpf.c');

/** lddw pseudo 'func': the kernel's encoding, target slot = the lddw's slot + imm + 1. */
const func = (dst: 1 | 2, off: number): Insn => ({ kind: 'lddw', dst, pseudo: 'func', imm: BigInt(off) });

/** Helper 1: calls the function in r1 three times with r1 = 7, 8, 9 (and r2 = its own r2) and sums the results. */
const sum3: Helper = (ctx) => {
  const f = ctx.arg(1), extra = ctx.arg(2);
  let s = 0n;
  for (let i = 0n; i < 3n; i++) s += ctx.callFunction(f, [7n + i, extra]);
  return BigInt.asUintN(64, s + ctx.arg(2)); // the helper's arguments survive the callbacks
};

function engines(prog: Insn[], helpers: Map<number, Helper>): PreparedProgram[] {
  return [new Vm(prog, { helpers }), compile(prog, { helpers })];
}

test('callFunction: a callback in a new frame, r6..r9 and the helper arguments kept, instructions counted', () => {
  // r6 = 100; r2 = 1000; call sum3(func); r0 += r6; exit. callback: r6 = r1 (callee's r6); r0 = r1 * 2; store on its own stack; exit
  const prog: Insn[] = [
    b.mov64(6, b.imm(100)), b.mov64(2, b.imm(1000)), func(1, 4), b.call(1), b.add64(0, 6), b.exit(),
    b.mov64(6, 1), b.mov64(0, 1), b.mul64(0, b.imm(2)), b.stx(8, 10, 0, -8), b.ldx(8, 0, 10, -8), b.exit(),
  ];
  for (const e of engines(prog, new Map([[1, sum3]]))) {
    const r = e.call([]);
    assert.equal(r.r0, (14n + 16n + 18n) + 1000n + 100n, e.engine);
    assert.equal(r.executed, 6 + 3 * 6, e.engine);
  }
});

test('callFunction: errors are the same on both engines', () => {
  const helpers = new Map<number, Helper>([
    [1, sum3],
    [2, (ctx) => ctx.callFunction(12345, [])],
  ]);
  // a value that names no callback of the program
  const bad: Insn[] = [b.call(2), b.exit()];
  for (const e of engines(bad, helpers)) {
    assert.throws(() => e.call([]), (x: unknown) => x instanceof VmHelperError && x.cause instanceof HelperArgumentError && /not a function of the program/.test(x.message), e.engine);
  }
  // a callback that loops forever runs out of the run's budget
  const spin: Insn[] = [func(1, 3), b.call(1), b.exit(), b.ja(-1)];
  for (const e of engines(spin, helpers)) {
    assert.throws(() => e.call([], { budget: 500 }), (x: unknown) => x instanceof VmBudgetError && x.budget === 500 && x.pc === 4, e.engine);
  }
  // a callback that calls the helper that calls it: the frame limit
  const deep: Insn[] = [func(1, 3), b.call(1), b.exit(), func(1, -1), b.call(1), b.exit()];
  for (const e of engines(deep, helpers)) {
    assert.throws(() => e.call([]), (x: unknown) => x instanceof VmCallDepthError, e.engine);
  }
  assert.ok(MAX_FRAMES > 1);
});

async function fixtureSpec(): Promise<CollectionSpec> {
  return loadCollectionSpec(await readBytes(await compileBpf(FIXTURE, 'el', [])));
}

const LENGTHS = [14, 20, 37, 50, 60, 64, 99, 100, 128, 149, 200, 511, 1000, 1499];

function u64s(entries: Iterable<[Uint8Array, Uint8Array]>): string[] {
  return [...entries].map(([k, v]) => `${Buffer.from(k).toString('hex')}=${new DataView(v.buffer, v.byteOffset).getBigUint64(0, true)}`).sort();
}

test('bpf_loop and bpf_for_each_map_elem: interpreter and JIT agree', async () => {
  const spec = await fixtureSpec();
  const results = (['interp', 'jit'] as const).map((engine) => {
    const c = loadCollection(spec, { engine });
    const p = c.program('callbacks');
    assert.equal(p.prepared.engine, engine);
    return LENGTHS.map((len) => {
      const r = p.run({ packet: new Uint8Array(len) });
      return `${r.retval} ${r.executed} ${u64s(c.map('out')).join(',')} ${u64s(c.map('slots')).join(',')} ${u64s(c.map('table')).join(',')}`;
    });
  });
  assert.deepEqual(results[1], results[0]);
  // loop count (len % 50 + 1, stopping early at len % 37) for len 60: 11 calls
  assert.match(results[0][4], /^3 /);
});

kernelTest('bpf_loop and bpf_for_each_map_elem match the kernel', { timeout: 60_000 }, async () => {
  const spec = await fixtureSpec();
  using k = loadKernel(spec);
  const vm = loadCollection(spec);
  const p = vm.program('callbacks');
  assert.equal(p.prepared.engine, 'jit');
  for (const len of LENGTHS) {
    const kr = k.program('callbacks').testRun({ data: new Uint8Array(len) });
    const vr = p.run({ packet: new Uint8Array(len) });
    assert.equal(vr.retval, kr.retval, `packet of ${len} bytes: r0`);
    for (const m of ['out', 'slots', 'table']) {
      assert.deepEqual(u64s(vm.map(m)), u64s([...k.map(m).keys()].map((key) => [key, k.map(m).lookup(key)!] as [Uint8Array, Uint8Array])), `packet of ${len} bytes: map ${m}`);
    }
  }
});
