import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build as b, type Insn } from '../../src/isa/index.js';
import {
  AddressSpace, framePointer, HEAP_BASE, NULL_GUARD, PAGE_SIZE, run, STACK_SIZE, Vm, VmMapError, VmMemoryError,
} from '../../src/vm/index.js';

const mem8 = (): Uint8Array => Uint8Array.from([0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88]);

function memoryError(fn: () => unknown): VmMemoryError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof VmMemoryError, `expected VmMemoryError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a VmMemoryError');
}

test('loads of every size, zero- and sign-extending', () => {
  const ld = (size: 1 | 2 | 4 | 8, signExtend: boolean): bigint =>
    run([{ kind: 'ldx', size, signExtend, dst: 0, src: 1, off: 0 }, b.exit()], { mem: mem8() }).r0;
  assert.equal(ld(1, false), 0x81n);
  assert.equal(ld(2, false), 0x8281n);
  assert.equal(ld(4, false), 0x84838281n);
  assert.equal(ld(8, false), 0x8887868584838281n);
  assert.equal(ld(1, true), 0xffffffffffffff81n);
  assert.equal(ld(2, true), 0xffffffffffff8281n);
  assert.equal(ld(4, true), 0xffffffff84838281n);
});

test('stores of registers and immediates (an 8-byte immediate store sign-extends)', () => {
  const res = run([
    b.mov64(2, b.imm(0x11223344)),
    b.stx(1, 1, 2, 0),
    b.stx(2, 1, 2, 2),
    b.st(4, 1, 4, -2),
    b.st(8, 1, 8, -3),
    b.mov64(0, b.imm(0)),
    b.exit(),
  ], { mem: new Uint8Array(16) });
  assert.deepEqual([...res.mem], [0x44, 0, 0x44, 0x33, 0xfe, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
});

test('the stack: r10 points one past 512 writable bytes, and is zeroed between runs', () => {
  const vm = new Vm([
    b.ldx(8, 0, 10, -8), // reads what the previous run left: must be 0
    b.st(8, 10, -8, 99),
    b.st(1, 10, -512, 1),
    b.exit(),
  ]);
  assert.equal(vm.run().r0, 0n);
  assert.equal(vm.run().r0, 0n);
  assert.equal(framePointer(0) - STACK_SIZE, vm.space.region('stack0')?.start);
});

test('out-of-bounds accesses stop the program with pc, address, size and direction', () => {
  const over = memoryError(() => run([b.mov64(0, b.imm(0)), b.ldx(4, 0, 1, 6), b.exit()], { mem: mem8() }));
  assert.equal(over.code, 'VM_MEMORY');
  assert.equal(over.pc, 1);
  assert.equal(over.access, 'read');
  assert.equal(over.size, 4);
  assert.equal(over.address, BigInt(HEAP_BASE + 6));
  assert.match(over.message, /^pc 1: invalid read of 4 bytes at 0x20006 \(runs past the end of region 'input'/);

  const below = memoryError(() => run([b.st(4, 10, -516, 1), b.exit()]));
  assert.equal(below.access, 'write');
  assert.equal(below.pc, 0);
  assert.equal(below.address, BigInt(framePointer(0) - 516));

  const above = memoryError(() => run([b.ldx(1, 0, 10, 0), b.exit()]));
  assert.equal(above.address, BigInt(framePointer(0)));
});

test('null and small pointers fault, and so do addresses with high bits set', () => {
  const nul = memoryError(() => run([b.mov64(1, b.imm(0)), b.ldx(8, 0, 1, 0), b.exit()]));
  assert.equal(nul.address, 0n);
  assert.match(nul.message, /null/);
  // r1 is 0 when there is no input memory
  memoryError(() => run([b.ldx(1, 0, 1, 16), b.exit()]));
  memoryError(() => run([b.mov64(1, b.imm(NULL_GUARD - 1)), b.ldx(1, 0, 1, 0), b.exit()]));
  const high = memoryError(() => run([b.lddw(1, 0x100000000n + BigInt(HEAP_BASE)), b.ldx(1, 0, 1, 0), b.exit()], { mem: mem8() }));
  assert.equal(high.address, 0x100000000n + BigInt(HEAP_BASE));
  const neg = memoryError(() => run([b.mov64(1, b.imm(-8)), b.stx(8, 1, 1, 0), b.exit()]));
  assert.equal(neg.address, 0xfffffffffffffff8n);
  assert.equal(neg.access, 'write');
});

test('a frame cannot reach its neighbour: the gap between stacks is unmapped', () => {
  // From frame 0's stack, reach down into where frame 1's stack would be.
  const e = memoryError(() => run([b.ldx(8, 0, 10, -STACK_SIZE - 8), b.exit()]));
  assert.equal(e.address, BigInt(framePointer(0) - STACK_SIZE - 8));
  const up = memoryError(() => run([b.ldx(8, 0, 10, PAGE_SIZE), b.exit()]));
  assert.ok(up.address < BigInt(framePointer(1)));
});

test('writes to a read-only region fault; reads succeed', () => {
  const space = new AddressSpace();
  const ro = space.map('ctx', Uint8Array.from([1, 2, 3, 4]), { writable: false });
  const vm = new Vm([b.ldx(4, 0, 1, 0), b.stx(1, 1, 0, 0), b.exit()], { space });
  const e = memoryError(() => vm.call([ro.start]));
  assert.equal(e.pc, 1);
  assert.equal(e.access, 'write');
  assert.match(e.message, /read-only/);
  assert.equal(new Vm([b.ldx(4, 0, 1, 0), b.exit()], { space }).call([ro.start]).r0, 0x04030201n);
});

test('atomics: add/or/and/xor with and without fetch, xchg, cmpxchg, at 32 and 64 bits', () => {
  const atomic = (size: 4 | 8, op: 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg', fetch: boolean, r0init: bigint, src: bigint) => {
    const prog: Insn[] = [
      b.lddw(0, r0init), b.lddw(2, src),
      { kind: 'atomic', size, op, fetch, dst: 1, src: 2, off: 0 },
      b.stx(8, 1, 0, 8), b.stx(8, 1, 2, 16), b.exit(),
    ];
    const mem = new Uint8Array(24);
    new DataView(mem.buffer).setBigUint64(0, 0xf0f0f0f0_0000000fn, true);
    const res = run(prog, { mem });
    const dv = new DataView(res.mem.buffer);
    return { value: dv.getBigUint64(0, true), r0: dv.getBigUint64(8, true), src: dv.getBigUint64(16, true) };
  };
  const init = 0xf0f0f0f0_0000000fn;
  assert.deepEqual(atomic(8, 'add', false, 0n, 1n), { value: init + 1n, r0: 0n, src: 1n });
  assert.deepEqual(atomic(8, 'add', true, 0n, 0x10_00000001n), { value: init + 0x10_00000001n, r0: 0n, src: init });
  assert.deepEqual(atomic(8, 'or', true, 0n, 0xf0n), { value: init | 0xf0n, r0: 0n, src: init });
  assert.deepEqual(atomic(8, 'and', false, 0n, 0xffn), { value: 0xfn, r0: 0n, src: 0xffn });
  assert.deepEqual(atomic(8, 'xor', true, 0n, init), { value: 0n, r0: 0n, src: init });
  assert.deepEqual(atomic(8, 'xchg', true, 0n, 5n), { value: 5n, r0: 0n, src: init });
  assert.deepEqual(atomic(8, 'cmpxchg', true, init, 5n), { value: 5n, r0: init, src: 5n });
  assert.deepEqual(atomic(8, 'cmpxchg', true, 1n, 5n), { value: init, r0: init, src: 5n });
  // 32-bit forms touch only the low word; fetched values are zero-extended
  assert.deepEqual(atomic(4, 'add', true, 0n, 0xffffffffn), { value: 0xf0f0f0f0_0000000en, r0: 0n, src: 0xfn });
  assert.deepEqual(atomic(4, 'xchg', true, 0n, 0x1_80000000n), { value: 0xf0f0f0f0_80000000n, r0: 0n, src: 0xfn });
  assert.deepEqual(atomic(4, 'cmpxchg', true, 0xffffffff_0000000fn, 7n), { value: 0xf0f0f0f0_00000007n, r0: 0xfn, src: 7n });
  assert.deepEqual(atomic(4, 'cmpxchg', true, 0xen, 7n), { value: init, r0: 0xfn, src: 7n });
});

test('load-acquire and store-release behave as plain loads and stores', () => {
  const res = run([
    { kind: 'atomic', size: 2, op: 'load_acquire', fetch: false, dst: 0, src: 1, off: 1 },
    { kind: 'atomic', size: 8, op: 'store_release', fetch: false, dst: 1, src: 0, off: 0 },
    b.exit(),
  ], { mem: mem8() });
  assert.equal(res.r0, 0x8382n);
  assert.deepEqual([...res.mem], [0x82, 0x83, 0, 0, 0, 0, 0, 0]);
});

test('an atomic outside memory faults as a write', () => {
  const e = memoryError(() => run([{ kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 1, src: 1, off: 4 }, b.exit()], { mem: mem8() }));
  assert.equal(e.access, 'write');
  assert.equal(e.size, 8);
});

test('AddressSpace: regions are page-aligned, guarded, reusable, and growth keeps contents', () => {
  const space = new AddressSpace();
  const a = space.map('a', Uint8Array.from([1, 2, 3]));
  const c = space.map('c', 10);
  assert.equal(a.start % PAGE_SIZE, 0);
  assert.ok(c.start >= a.start + 2 * PAGE_SIZE, 'a guard page separates neighbours');
  assert.equal(space.regionAt(a.start + 2)?.name, 'a');
  assert.equal(space.regionAt(a.start + 3), undefined);
  assert.deepEqual([...space.read(a.start, 3)], [1, 2, 3]);
  // A large region grows the memory; earlier regions keep their bytes.
  const big = space.map('big', 3 << 20);
  assert.ok(space.limit >= big.start + big.size);
  assert.deepEqual([...space.bytesOf(a)], [1, 2, 3]);
  space.writeU64(big.start + big.size - 8, 0x0102030405060708n);
  assert.equal(space.readU64(big.start + big.size - 8), 0x0102030405060708n);
  assert.throws(() => space.readU64(big.start + big.size - 4), VmMemoryError);
  // Unmapped addresses fault; the space is reused.
  space.unmap(a);
  assert.throws(() => space.read(a.start, 1), VmMemoryError);
  const again = space.map('again', 1);
  assert.equal(again.start, a.start);
  assert.throws(() => space.unmap(a), VmMapError);
  assert.throws(() => space.unmap('stack0'), VmMapError);
  assert.throws(() => space.map('huge', 2 ** 33), VmMapError);
  space.reset();
  assert.deepEqual(space.regions().map((r) => r.name), Array.from({ length: 8 }, (_, i) => `stack${i}`));
});

test('regions mapped by a helper during a run are visible to the program at once', () => {
  const space = new AddressSpace();
  const vm = new Vm([
    b.call(1), // returns the address of a fresh 1 MiB region (forces the memory to grow)
    b.st(8, 0, 1024 * 1024 - 8, 42),
    b.ldx(8, 0, 0, 1024 * 1024 - 8),
    b.exit(),
  ], { space, helpers: { 1: (c) => c.space.map('fresh', 1 << 20).start } });
  assert.equal(vm.run().r0, 42n);
});

test('no run sees another run\'s stack, even across programs sharing an address space', () => {
  const space = new AddressSpace();
  const writer = new Vm([b.st(8, 10, -8, 7), { kind: 'call_local', off: 1 }, b.exit(), b.st(8, 10, -16, 9), b.exit()], { space });
  // r0 = frame 0's fp-8 + frame 1's fp-16
  const reader = new Vm([b.ldx(8, 7, 10, -8), { kind: 'call_local', off: 2 }, b.add64(0, 7), b.exit(), b.ldx(8, 0, 10, -16), b.exit()], { space });
  const leaky = new Vm(reader.program);
  leaky.space.write(framePointer(1) - 16, Uint8Array.of(5));
  assert.equal(leaky.run().r0, 0n, 'host writes to a stack are zeroed before the next run too');
  writer.run();
  assert.equal(reader.run().r0, 0n);
  space.write(framePointer(0) - 8, Uint8Array.of(1));
  assert.equal(reader.run().r0, 0n);
});
