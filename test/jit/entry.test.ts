/**
 * The JIT's entry from JavaScript (call, callNumber, run, repeat: r0 and the
 * budget through scratch words, no BigInt per call) against the
 * interpreter, and the compile path's own pieces: the validation shared
 * with lower(), the content cache key, the encoder's LEB128.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build as b, slotIndex, type Insn, type Reg } from '../../src/isa/index.js';
import { ByteWriter, Code, compile, F64, I32, I64, JitProgram, ModuleBuilder } from '../../src/jit/index.js';
import { AddressSpace, Vm, type Helper, type HelperTable } from '../../src/vm/index.js';
import { lower, validateProgram } from '../../src/vm/lower.js';
import { TEST_HELPERS } from './harness.js';

/** r0 = r1 + r2 * 2 + r3 * 3 + r4 * 5 + r5 * 7 (64-bit): every argument shows in r0. */
const MIX: Insn[] = [
  b.mov64(0, 1),
  b.mov64(6, 2), b.lsh64(6, b.imm(1)), b.add64(0, 6),
  b.mov64(6, 3), b.mul64(6, b.imm(3)), b.add64(0, 6),
  b.mov64(6, 4), b.mul64(6, b.imm(5)), b.add64(0, 6),
  b.mov64(6, 5), b.mul64(6, b.imm(7)), b.add64(0, 6),
  b.exit(),
];

const ARGS: (number | bigint)[][] = [
  [], [0], [1, 2], [-1], [-5, 7], [0x7fffffff, 0x80000000], [0xffffffff, -0x80000000], [2 ** 40, 3],
  [-(2 ** 40)], [5n, -1n], [2n ** 63n, 1n], [1, 2, 3], [1, 2, 3, 4, 5], [0, 0, -1, 2n ** 64n - 1n, 9],
];

test('call() gives the interpreter\'s r0 and count for every argument form, and r3..r5 do not leak into later calls', () => {
  const jit = compile(MIX);
  const vm = new Vm(MIX);
  // Alternate wide and narrow calls: a call with r3..r5 must not leave them for the next one.
  for (const args of [...ARGS, ...ARGS.slice().reverse()]) {
    assert.deepEqual(jit.call(args), vm.call(args), `args ${args.join(', ')}`);
  }
});

test('callNumber() is Number(call().r0), with the count in lastExecuted', () => {
  for (const r0 of [0n, 1n, 255n, 256n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
    const prog = [b.lddw(0, r0), b.add64(0, 1), b.sub64(0, 1), b.exit()];
    const jit = compile(prog);
    for (const [x, y] of [[0, 0], [7, 9], [-3, 0x90000000], [2 ** 40, 1]]) {
      const want = jit.call([x, y]);
      assert.equal(jit.callNumber(x, y), Number(want.r0), `r0 ${r0}, args ${x}, ${y}`);
      assert.equal(jit.lastExecuted, want.executed);
    }
  }
  const mixed = compile(MIX);
  assert.equal(mixed.callNumber(3, 4), 11);
  assert.equal(mixed.callNumber(-1, 0), 2 ** 64 - 1);
});

test('r0 from a helper that halts the program, through call, callNumber and repeat', () => {
  // helper 2 halts with r0 = r1 + 7
  const prog = [b.call(2), b.mov64(0, b.imm(99)), b.exit()];
  const jit = compile(prog, { helpers: TEST_HELPERS });
  const vm = new Vm(prog, { helpers: TEST_HELPERS });
  for (const args of [[5], [-10], [0x80000000]]) assert.deepEqual(jit.call(args), vm.call(args));
  assert.equal(jit.callNumber(5), 12);
  assert.equal(jit.lastExecuted, vm.call([5]).executed);
  assert.deepEqual(jit.repeat([5], 3), vm.call([5]));
  // And a normal exit afterwards still reads its own r0.
  assert.equal(compile([b.mov64(0, b.imm(4)), b.exit()]).callNumber(), 4);
});

test('run() copies memory in and out as the interpreter does, with and without input', () => {
  const prog = [b.ldx(4, 0, 1, 0), b.add64(0, 2), b.stx(4, 1, 0, 4), b.exit()];
  const jit = compile(prog);
  const vm = new Vm(prog);
  for (const mem of [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), Uint8Array.of(9, 9, 9, 9, 0, 0, 0, 0), new Uint8Array(16).fill(0xee)]) {
    const got = jit.run(mem);
    assert.deepEqual(got, vm.run(mem));
    assert.notEqual(got.mem, mem, 'a copy, not the caller\'s array');
  }
  const empty = compile([b.mov64(0, 1), b.exit()]);
  assert.deepEqual(empty.run(), new Vm([b.mov64(0, 1), b.exit()]).run());
  assert.equal(empty.run().mem.length, 0);
});

test('a helper that grows the memory mid-run: the results are read from the new buffer', () => {
  const space = new AddressSpace();
  let grown = 0;
  const helpers: HelperTable = new Map<number, Helper>([[1, (c) => { c.space.map(`big${grown++}`, 8 << 20); return 0x1234567890n; }]]);
  const prog = [b.call(1), b.exit()];
  const jit = compile(prog, { space, helpers });
  const before = space.memory.buffer.byteLength;
  assert.equal(jit.call().r0, 0x1234567890n);
  assert.ok(space.memory.buffer.byteLength > before, 'the helper grew the memory');
  assert.equal(jit.callNumber(), 0x1234567890);
  assert.equal(jit.lastExecuted, 2);
  assert.deepEqual(jit.run(Uint8Array.of(1, 2, 3)), { r0: 0x1234567890n, mem: Uint8Array.of(1, 2, 3), executed: 2 });
});

test('a region unmapped between calls is no longer reachable through the region cache', () => {
  const space = new AddressSpace();
  const jit = compile([b.ldx(1, 0, 1, 0), b.exit()], { space });
  const r = space.map('x', Uint8Array.of(42));
  assert.equal(jit.callNumber(r.start), 42);
  space.unmap(r);
  assert.throws(() => jit.callNumber(r.start), /invalid read/);
});

/** Programs lower() rejects, each for a different reason. */
const BAD: Insn[][] = [
  [b.ja(5), b.exit()],
  [b.ja(-3), b.exit()],
  [b.jeq(1, b.imm(0), 1), b.lddw(2, 7n), b.exit()],
  [b.lddw(2, 7n), b.jeq(1, 3, -2), b.exit()],
  [{ kind: 'call_local', off: 7 }, b.exit()],
  [{ kind: 'lddw', dst: 1, pseudo: 'func', imm: 9n }, b.exit()],
  [{ kind: 'alu', width: 64, op: 'mov', dst: 11 as Reg, src: b.imm(0) }, b.exit()],
  [{ kind: 'alu', width: 64, op: 'add', dst: 1, src: -1 as Reg }, b.exit()],
  [{ kind: 'alu', width: 64, op: 'pow' as 'add', dst: 1, src: 2 }, b.exit()],
  [{ kind: 'jmp', width: 32, cond: 'jfoo' as 'jeq', dst: 1, src: 2, off: 0 }, b.exit()],
  [{ kind: 'ldx', size: 8, signExtend: true, dst: 1, src: 2, off: 0 }, b.exit()],
  [{ kind: 'ldx', size: 4, signExtend: false, dst: 1, src: 1.5 as Reg, off: 0 }, b.exit()],
  [{ kind: 'atomic', op: 'add', fetch: false, size: 2, dst: 1, src: 2, off: 0 } as Insn, b.exit()],
  [{ kind: 'movsx', width: 32, bits: 32, dst: 1, src: 2 } as Insn, b.exit()],
  [{ kind: 'callx', dst: 12 as Reg }, b.exit()],
  [{ kind: 'ldind', size: 4, src: 99 as Reg, imm: 0 }, b.exit()],
  [{ kind: 'bogus' } as unknown as Insn, b.exit()],
  [b.exit(), b.exit(), { kind: 'stx', size: 4, dst: 1, src: 20 as Reg, off: 0 }],
];

test('validateProgram throws exactly what lower() throws, and accepts what it accepts', () => {
  const outcome = (f: () => unknown): string => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return `${(e as Error).constructor.name} at ${(e as { pc?: number }).pc}: ${(e as Error).message}`;
    }
  };
  for (const prog of BAD) {
    const want = outcome(() => lower(prog));
    assert.notEqual(want, 'ok', JSON.stringify(prog, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)));
    assert.equal(outcome(() => validateProgram(prog, slotIndex(prog))), want);
    assert.equal(outcome(() => compile(prog)), want);
  }
  for (const prog of [MIX, [b.lddw(1, 5n), b.ja(-3)], [b.mov64(0, b.imm(1)), b.jeq(0, b.imm(1), -2), b.exit()]]) {
    assert.equal(outcome(() => validateProgram(prog, slotIndex(prog))), 'ok');
  }
});

test('the module cache finds the same program by content, lddw immediates included', () => {
  const prog = (k: bigint): Insn[] => [b.lddw(0, k), b.add64(0, b.imm(1)), b.exit()];
  const first = compile(prog(41n));
  assert.equal(compile(prog(41n)).compileMs, first.compileMs, 'an equal program built again reuses the module');
  const other = compile(prog(2n ** 40n));
  assert.equal(other.call().r0, 2n ** 40n + 1n, 'a different immediate is a different program');
  assert.equal(compile(prog(41n)).call().r0, 42n);
});

test('the encoder writes LEB128 as the WebAssembly spec does', () => {
  const u32 = (v: number): number[] => { const w = new ByteWriter(); w.u32(v); return [...w.finish()]; };
  const s32 = (v: number): number[] => { const w = new ByteWriter(); w.s32(v); return [...w.finish()]; };
  const s64 = (v: bigint): number[] => { const w = new ByteWriter(); w.s64(v); return [...w.finish()]; };
  assert.deepEqual(u32(0), [0]);
  assert.deepEqual(u32(127), [0x7f]);
  assert.deepEqual(u32(128), [0x80, 0x01]);
  assert.deepEqual(u32(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(u32(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(s32(-1), [0x7f]);
  assert.deepEqual(s32(63), [0x3f]);
  assert.deepEqual(s32(64), [0xc0, 0x00]);
  assert.deepEqual(s32(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(s32(-0x80000000), [0x80, 0x80, 0x80, 0x80, 0x78]);
  assert.deepEqual(s64(-(2n ** 63n)), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
  assert.deepEqual(s64(2n ** 40n), [0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  // A patched size reads back as the value (padded to five bytes).
  const w = new ByteWriter(2);
  const at = w.reserveU32();
  for (let i = 0; i < 300; i++) w.byte(i & 0xff);
  w.patchU32(at, 300);
  const bytes = w.finish();
  assert.equal(bytes.length, 305);
  let v = 0;
  for (let i = 4; i >= 0; i--) v = v * 128 + (bytes[i] & 0x7f);
  assert.equal(v, 300);
  assert.ok(bytes.slice(0, 4).every((x) => (x & 0x80) !== 0) && (bytes[4] & 0x80) === 0);
});

test('a JitProgram for a program that needs no budget checks and one that does give the interpreter\'s counts', () => {
  const loop = [b.mov64(0, b.imm(0)), b.add64(0, b.imm(1)), b.jlt(0, 1, -2), b.exit()];
  const jit = compile(loop);
  assert.ok(jit instanceof JitProgram);
  const vm = new Vm(loop);
  for (const n of [1, 10, 1000]) assert.deepEqual(jit.call([n]), vm.call([n]));
  assert.throws(() => jit.call([10], { budget: 5 }), /budget/);
  assert.deepEqual(jit.call([3], { budget: 50 }), vm.call([3], { budget: 50 }));
  assert.equal(jit.callNumber(4), 4);
});

test('the module encoder: sections, globals of every kind, non-ASCII names, an empty module', () => {
  const Wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, { value: unknown }> } } }).WebAssembly;
  const empty = new ModuleBuilder().encode();
  // Each section: id, its size (1, padded to five bytes), a zero count.
  const section = (id: number): number[] => [id, 0x81, 0x80, 0x80, 0x80, 0x00, 0];
  assert.deepEqual([...empty], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...section(1), ...section(2), ...section(3), ...section(7), ...section(10)]);
  const mb = new ModuleBuilder();
  mb.importFunc('env', 'hé', [I32]);
  const g = [mb.global({ type: I32, mutable: true, init: -5 }), mb.global({ type: I64, mutable: false, init: 2 ** 40 }), mb.global({ type: F64, mutable: false, init: 1.5 })];
  const f = mb.declareFunc();
  const body = new Code();
  body.i32(7);
  body.call(0);
  mb.defineFunc(f, { type: mb.type([], []), locals: [[2, I64]], body });
  mb.exportFunc('run€', f);
  g.forEach((i) => mb.exportGlobal(`g${i}`, i));
  let seen = 0;
  const inst = new Wasm.Instance(new Wasm.Module(mb.encode()), { env: { 'hé': (x: number) => { seen = x; } } });
  (inst.exports['run€'] as unknown as () => void)();
  assert.equal(seen, 7);
  assert.equal(inst.exports.g0.value, -5);
  assert.equal(inst.exports.g1.value, 2n ** 40n);
  assert.equal(inst.exports.g2.value, 1.5);
});
