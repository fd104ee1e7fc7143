/**
 * Hand-written programs for every instruction kind, calls, faults, the
 * budget and irreducible control flow: the JIT against a BigInt model or
 * against the interpreter on the same inputs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build as b, type AluOp, type Insn, type JmpCond, type Reg, type Size } from '../../src/isa/index.js';
import { analyse, Code, compile, Op } from '../../src/jit/index.js';
import {
  AddressSpace, framePointer, MAX_FRAMES, Vm, VmBudgetError, VmCallDepthError, VmMemoryError, VmUnknownHelperError,
} from '../../src/vm/index.js';
import { interestingValues, refAlu, refJmp } from '../vm/reference.js';
import { both, TEST_HELPERS } from './harness.js';

const ALU_OPS: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const CONDS: JmpCond[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const hex = (v: bigint): string => `0x${v.toString(16)}`;
const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? hex(x) : x));
const space = new AddressSpace();

test('every ALU operation, both widths, register and immediate forms, agrees with a BigInt model', () => {
  const values = interestingValues(12);
  const imms = [0, 1, -1, 2, 31, 32, 63, 0x7fffffff, -0x80000000, 12345, -7];
  for (const width of [32, 64] as const) {
    for (const op of ALU_OPS) {
      const reg = compile([{ kind: 'alu', width, op, dst: 1, src: 2 }, b.mov64(0, 1), b.exit()], { space });
      for (const x of values) {
        for (const y of values) {
          const got = reg.call([x, y]).r0;
          const want = refAlu(op, width, x, y);
          if (got !== want) assert.fail(`${op}${width} ${hex(x)}, ${hex(y)}: ${hex(got)} != ${hex(want)}`);
        }
      }
      for (const k of imms) {
        const p = compile([{ kind: 'alu', width, op, dst: 1, src: b.imm(k) }, b.mov64(0, 1), b.exit()], { space });
        const y = width === 64 ? BigInt.asUintN(64, BigInt(k)) : BigInt.asUintN(32, BigInt(k));
        for (const x of values) {
          const got = p.call([x]).r0;
          const want = refAlu(op, width, x, y);
          if (got !== want) assert.fail(`${op}${width} ${hex(x)}, imm ${k}: ${hex(got)} != ${hex(want)}`);
        }
      }
    }
  }
});

test('every jump condition, both widths, register and immediate forms, agrees with a BigInt model', () => {
  const values = interestingValues(10);
  for (const width of [32, 64] as const) {
    for (const cond of CONDS) {
      const p = compile([{ kind: 'jmp', width, cond, dst: 1, src: 2, off: 2 }, b.mov64(0, b.imm(0)), b.exit(), b.mov64(0, b.imm(1)), b.exit()], { space });
      for (const x of values) {
        for (const y of values) {
          const taken = p.call([x, y]).r0 === 1n;
          if (taken !== refJmp(cond, width, x, y)) assert.fail(`${cond}${width} ${hex(x)} ${hex(y)}`);
        }
      }
      const q = compile([{ kind: 'jmp', width, cond, dst: 1, src: b.imm(-2), off: 2 }, b.mov64(0, b.imm(0)), b.exit(), b.mov64(0, b.imm(1)), b.exit()], { space });
      for (const x of values) {
        const taken = q.call([x]).r0 === 1n;
        const y = width === 64 ? BigInt.asUintN(64, -2n) : 0xfffffffen;
        if (taken !== refJmp(cond, width, x, y)) assert.fail(`${cond}${width} ${hex(x)} imm -2`);
      }
    }
  }
});

test('neg, movsx and every byte-order conversion agree with the interpreter', () => {
  const programs: Insn[] = [
    { kind: 'neg', width: 64, dst: 1 }, { kind: 'neg', width: 32, dst: 1 },
    ...([8, 16, 32] as const).map((bits): Insn => ({ kind: 'movsx', width: 64, bits, dst: 1, src: 1 })),
    ...([8, 16] as const).map((bits): Insn => ({ kind: 'movsx', width: 32, bits, dst: 1, src: 1 })),
    ...(['le', 'be', 'swap'] as const).flatMap((order) => ([16, 32, 64] as const).map((bits): Insn => ({ kind: 'endian', order, bits, dst: 1 }))),
    b.lddw(1, 0x8123456789abcdefn),
  ];
  for (const insn of programs) {
    const prog = [insn, b.mov64(0, 1), b.exit()];
    const vm = new Vm(prog, { space });
    const jit = compile(prog, { space });
    for (const x of interestingValues(10)) assert.equal(jit.call([x]).r0, vm.call([x]).r0, `${show(insn)} on ${hex(x)}`);
  }
});

test('loads and stores of every size, sign-extending too, on the stack and the input', () => {
  const mem = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 0x81) & 0xff);
  for (const size of [1, 2, 4, 8] as Size[]) {
    for (const signExtend of size === 8 ? [false] : [false, true]) {
      const prog: Insn[] = [
        { kind: 'ldx', size, signExtend, dst: 3, src: 1, off: 5 },
        b.stx(size, 10, 3, -16),
        b.lddw(4, 0xa1b2c3d4e5f60718n),
        b.stx(size, 1, 4, 17),
        b.st(size, 1, 24, -3),
        { kind: 'ldx', size, signExtend, dst: 0, src: 10, off: -16 },
        b.add64(0, 3),
        b.exit(),
      ];
      const { interp, jit } = both(prog, mem);
      assert.ok(interp.ok);
      assert.deepEqual(jit, interp);
    }
  }
});

test('out-of-bounds reads and writes give the same VmMemoryError (pc, address, size) as the interpreter', () => {
  const mem = new Uint8Array(16);
  const cases: Insn[][] = [
    [b.ldx(8, 0, 1, 12), b.exit()], // runs past the input's end
    [b.ldx(1, 0, 1, -1), b.exit()], // just before it (guard page)
    [b.mov64(2, b.imm(0)), b.ldx(4, 0, 2, 8), b.exit()], // null
    [b.stx(4, 10, 1, 0), b.exit()], // just above the stack
    [b.st(8, 10, -516, 1), b.exit()], // just below it
    [b.lddw(2, 0x100000000n + 0x20000n), b.ldx(1, 0, 2, 0), b.exit()], // high bits set
    [b.mov64(2, 1), b.sub64(2, b.imm(0x100000)), b.stx(2, 2, 1, 0), b.exit()], // wraps below zero
    [{ kind: 'atomic', size: 8, op: 'add', fetch: true, dst: 1, src: 2, off: 12 }, b.exit()],
    [b.mov64(0, b.imm(0)), b.add64(0, b.imm(1)), b.ldx(8, 3, 1, 0), b.jlt(0, b.imm(100), -3), b.ldx(8, 3, 1, 9), b.exit()],
  ];
  for (const prog of cases) {
    const { interp, jit } = both(prog, mem);
    assert.equal(interp.ok, false);
    assert.equal(!interp.ok && interp.error, 'VmMemoryError');
    assert.deepEqual(jit, interp);
  }
  // A read-only region: reads pass, writes fault, with the interpreter's reason.
  const s = new AddressSpace();
  const ro = s.map('ro', Uint8Array.of(1, 2, 3, 4), { writable: false });
  const jit = compile([b.ldx(4, 0, 1, 0), b.stx(1, 1, 0, 0), b.exit()], { space: s });
  const e = assert.throws(() => jit.call([ro.start]), (err: unknown) => err instanceof VmMemoryError && err.pc === 1 && err.access === 'write'
    && err.address === BigInt(ro.start) && err.size === 1 && /read-only/.test(err.message));
  assert.equal(e, undefined);
});

test('atomic operations of both sizes, with and without fetch, agree with the interpreter', () => {
  const mem = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i * 7);
  for (const op of ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg', 'load_acquire', 'store_release'] as const) {
    for (const size of (op === 'load_acquire' || op === 'store_release' ? [1, 2, 4, 8] : [4, 8]) as Size[]) {
      for (const fetch of op === 'xchg' || op === 'cmpxchg' ? [true] : op.endsWith('e') ? [false] : [false, true]) {
        for (const r0 of [0n, 0x0807060504030201n]) {
          const prog: Insn[] = [
            b.lddw(0, r0),
            b.lddw(2, 0x1122334455667788n),
            op === 'load_acquire' ? { kind: 'atomic', size, op, fetch, dst: 2, src: 1, off: 8 } : { kind: 'atomic', size, op, fetch, dst: 1, src: 2, off: 8 },
            b.stx(8, 10, 2, -8),
            op === 'load_acquire' ? { kind: 'atomic', size, op, fetch, dst: 3, src: 10, off: -8 } : { kind: 'atomic', size, op, fetch, dst: 10, src: 2, off: -8 },
            b.add64(0, 3),
            b.xor64(0, 2),
            b.exit(),
          ];
          const { interp, jit } = both(prog, mem);
          assert.ok(interp.ok, show(interp));
          assert.deepEqual(jit, interp, `${op}${size} fetch=${fetch}`);
        }
      }
    }
  }
});

/** f(n) = n == 0 ? r6-sentinel : f(n - 1) + 1, with a frame-local stack slot per level. */
function recursive(): Insn[] {
  return [
    b.mov64(6, b.imm(1000)),
    { kind: 'call_local', off: 2 },
    b.add64(0, 6),
    b.exit(),
    // f:
    b.stx(8, 10, 1, -8),
    b.mov64(6, b.imm(7)), // callee-saved: the caller's r6 must survive
    b.jeq(1, b.imm(0), 5),
    b.sub64(1, b.imm(1)),
    { kind: 'call_local', off: -5 },
    b.ldx(8, 1, 10, -8),
    b.add64(0, 1),
    b.exit(),
    b.mov64(0, 10), // r10 of the deepest frame
    b.exit(),
  ];
}

test('bpf-to-bpf calls: frames, callee-saved registers, per-frame r10, depth limit', () => {
  const jit = compile(recursive(), { space });
  const vm = new Vm(recursive(), { space });
  for (let n = 0; n < MAX_FRAMES - 1; n++) {
    const want = vm.call([n]);
    assert.deepEqual(jit.call([n]), want);
    assert.equal(want.r0, BigInt(framePointer(n + 1) + (n * (n + 1)) / 2 + 1000));
  }
  // One frame too many: the same VmCallDepthError at the same pc.
  const ej = assert.throws(() => jit.call([MAX_FRAMES - 1]), VmCallDepthError);
  assert.equal(ej, undefined);
  const err = (f: () => unknown): unknown => { try { f(); } catch (e) { return e; } return undefined; };
  const a = err(() => jit.call([MAX_FRAMES - 1])) as VmCallDepthError;
  const c = err(() => vm.call([MAX_FRAMES - 1])) as VmCallDepthError;
  assert.ok(a instanceof VmCallDepthError);
  assert.equal(a.message, c.message);
});

test('a deep chain of 8 distinct functions runs; r0..r5 flow back from callees as in the interpreter', () => {
  const prog: Insn[] = [];
  for (let i = 0; i < MAX_FRAMES - 1; i++) {
    prog.push(b.add64(1, b.imm(i + 1)), { kind: 'call_local', off: 2 }, b.add64(0, 2), b.exit());
  }
  prog.push(b.mov64(0, 1), b.mov64(2, b.imm(5)), b.exit());
  const { interp, jit } = both(prog, new Uint8Array(0));
  assert.ok(interp.ok);
  assert.equal(interp.ok && interp.r0, 28n + 5n * 7n);
  assert.deepEqual(jit, interp);
  assert.equal(analyse(prog).maxDepth, MAX_FRAMES - 1);
});

test('an irreducible loop (two entries) runs through the dispatcher and agrees', () => {
  const prog: Insn[] = [
    b.mov64(0, b.imm(0)),
    b.jeq(1, b.imm(0), 2), // to B
    b.add64(0, b.imm(1)), // A
    b.jgt(0, b.imm(20), 3),
    b.add64(0, b.imm(2)), // B
    b.jgt(0, b.imm(20), 1),
    b.ja(-5), // back to A
    b.exit(),
  ];
  assert.equal(analyse(prog).functions.get(0)!.reducible, false);
  const jit = compile(prog, { space });
  const vm = new Vm(prog, { space });
  for (const x of [0, 1]) assert.deepEqual(jit.call([x]), vm.call([x]));
  assert.equal(jit.call([0]).r0, 21n);
  for (const budget of [1, 5, 17, 30]) {
    const msg = (f: () => unknown): string => { try { f(); return 'ok'; } catch (e) { return (e as Error).message; } };
    assert.equal(msg(() => jit.call([1], { budget })), msg(() => vm.call([1], { budget })));
  }
});

test('budget: the same VmBudgetError (pc) as the interpreter for every budget through a loop', () => {
  const prog: Insn[] = [
    b.mov64(0, b.imm(0)),
    b.add64(0, b.imm(3)),
    b.stx(8, 10, 0, -8),
    b.jlt(0, b.imm(300), -3),
    b.exit(),
  ];
  const jit = compile(prog, { space });
  const vm = new Vm(prog, { space });
  const total = vm.call().executed;
  assert.equal(jit.call().executed, total);
  for (let budget = 1; budget <= total + 1; budget++) {
    let a: unknown, c: unknown;
    try { a = jit.call([], { budget }); } catch (e) { a = e; }
    try { c = vm.call([], { budget }); } catch (e) { c = e; }
    if (c instanceof VmBudgetError) {
      assert.ok(a instanceof VmBudgetError, `budget ${budget}`);
      assert.equal(a.pc, c.pc);
      assert.equal(a.message, c.message);
    } else {
      assert.deepEqual(a, c);
    }
  }
  // A loop-free program longer than the budget fails the same way too.
  const long = [...Array.from({ length: 50 }, () => b.add64(0, b.imm(1))), b.exit()];
  const e = assert.throws(() => compile(long, { space, budget: 20 }).call(), (err: unknown) => err instanceof VmBudgetError && err.pc === 20);
  assert.equal(e, undefined);
});

test('may_goto falls through while its counter lasts, then jumps', () => {
  const prog: Insn[] = [b.mov64(0, b.imm(0)), { kind: 'may_goto', off: 2 }, b.add64(0, b.imm(1)), b.ja(-3), b.exit()];
  const { interp, jit } = both(prog, new Uint8Array(0), { budget: 1000 });
  assert.equal(!interp.ok && interp.error, 'VmBudgetError');
  assert.deepEqual(jit, interp);
});

test('helpers: results, halt, errors, pointers, callx, kfuncs and unknown ids behave as in the interpreter', () => {
  const mem = Uint8Array.of(9, 8, 7, 6, 5, 4);
  const programs: Insn[][] = [
    [b.mov64(1, b.imm(5)), b.mov64(2, b.imm(-1)), b.call(1), b.exit()],
    [b.mov64(1, b.imm(-9)), b.call(2), b.mov64(0, b.imm(99)), b.exit()], // halts with r0 = -2
    [b.call(3), b.exit()],
    [b.add64(1, b.imm(2)), b.call(4), b.exit()],
    [b.add64(1, b.imm(3)), b.call(4), b.exit()], // 4 bytes from offset 3 run past the end
    [b.call(5), b.ldx(1, 0, 1, 0), b.exit()],
    [b.lddw(2, 0x20000000000000n), b.call(6), b.exit()],
    [b.mov64(3, b.imm(1)), { kind: 'callx', dst: 3 }, b.exit()],
    [b.mov64(3, b.imm(-1)), { kind: 'callx', dst: 3 }, b.exit()],
    [b.call(77), b.exit()],
    [{ kind: 'call_kfunc', btfId: 42, module: 0 }, b.exit()],
    [{ kind: 'call_kfunc', btfId: 42, module: 3 }, b.exit()],
  ];
  for (const prog of programs) {
    const { interp, jit } = both(prog, mem);
    assert.deepEqual(jit, interp, show(prog));
  }
  const kf = compile([{ kind: 'call_kfunc', btfId: 42, module: 0 }, b.exit()], { space, kfuncs: new Map([[42, () => 5]]) });
  assert.equal(kf.call().r0, 5n);
  assert.throws(() => compile([b.call(77), b.exit()], { space, helpers: TEST_HELPERS }).call(), VmUnknownHelperError);
});

test('legacy packet loads read the "packet" region big-endian, and end the program outside it', () => {
  const s1 = new AddressSpace();
  const s2 = new AddressSpace();
  const pkt = Uint8Array.from({ length: 20 }, (_, i) => i * 11);
  s1.map('packet', pkt);
  s2.map('packet', pkt);
  const progs: Insn[][] = [
    [{ kind: 'ldabs', size: 4, imm: 3 }, b.mov64(6, 0), { kind: 'ldabs', size: 2, imm: 18 }, b.add64(0, 6), b.exit()],
    [b.mov64(7, b.imm(10)), { kind: 'ldind', size: 1, src: 7, imm: 5 }, b.exit()],
    [b.mov64(7, b.imm(10)), { kind: 'ldind', size: 4, src: 7, imm: 8 }, b.mov64(0, b.imm(5)), b.exit()],
    [{ kind: 'ldabs', size: 1, imm: -1 }, b.mov64(0, b.imm(5)), b.exit()],
  ];
  for (const prog of progs) {
    const a = compile(prog, { space: s1 }).call();
    const c = new Vm(prog, { space: s2 }).call();
    assert.deepEqual(a, c);
  }
});

test('verified mode drops the checks and computes the same results', () => {
  const mem = Uint8Array.from({ length: 64 }, (_, i) => i);
  const prog: Insn[] = [
    b.mov64(0, b.imm(0)), b.mov64(3, b.imm(0)),
    b.mov64(4, 1), b.add64(4, 3), b.ldx(1, 5, 4, 0), b.add64(0, 5), b.stx(1, 4, 0, 0),
    b.add64(3, b.imm(1)), b.jlt(3, 2, -7), b.exit(),
  ];
  const a = compile(prog, { verified: true }).run(mem);
  const c = new Vm(prog).run(mem);
  assert.deepEqual(a, c);
});

test('the JIT and the interpreter share one address space: bytes written by one are read by the other', () => {
  const s = new AddressSpace();
  const region = s.map('shared', 16);
  compile([b.st(8, 1, 0, 0x1234567), b.exit()], { space: s }).call([region.start]);
  assert.equal(new Vm([b.ldx(8, 0, 1, 0), b.exit()], { space: s }).call([region.start]).r0, 0x1234567n);
  // Unmapping a region the JIT has cached makes it fault again.
  const reader = compile([b.ldx(8, 0, 1, 0), b.exit()], { space: s });
  assert.equal(reader.call([region.start]).r0, 0x1234567n);
  s.unmap(region);
  assert.throws(() => reader.call([region.start]), VmMemoryError);
});

test('compiled modules are cached per program', () => {
  const prog: Insn[] = [b.mov64(0, b.imm(41)), b.add64(0, b.imm(1)), b.exit()];
  const first = compile(prog);
  const ms = first.compileMs;
  const second = compile([...prog]);
  assert.equal(second.compileMs, ms, 'the same wire bytes reuse the compiled module');
  assert.equal(second.call().r0, 42n);
});

test('invalid programs are rejected at compile time with the interpreter\'s error', () => {
  for (const prog of [[b.ja(5), b.exit()], [b.jeq(1, b.imm(0), -3), b.exit()], [{ kind: 'call_local', off: 7 } as Insn, b.exit()]]) {
    const msg = (f: () => unknown): string => { try { f(); return 'ok'; } catch (e) { return `${(e as Error).constructor.name}: ${(e as Error).message}`; } };
    const want = msg(() => new Vm(prog));
    assert.notEqual(want, 'ok');
    assert.equal(msg(() => compile(prog)), want);
  }
  // Registers out of range too.
  const bad = [{ kind: 'alu', width: 64, op: 'mov', dst: 11 as Reg, src: b.imm(0) } as Insn, b.exit()];
  assert.throws(() => compile(bad), /invalid register/);
});

test('region cache: alternating regions in one run, regions replaced between runs, unmapped by a helper', () => {
  const s1 = new AddressSpace();
  const s2 = new AddressSpace();
  const a = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
  const c = Uint8Array.from({ length: 40 }, (_, i) => 200 - i);
  const [a1, c1] = [s1.map('a', a), s1.map('c', c)];
  const [a2, c2] = [s2.map('a', a), s2.map('c', c)];
  // sum += a[i] + c[i] (both 4 bytes, the second region also written), i < 10
  const prog: Insn[] = [
    b.mov64(0, b.imm(0)), b.mov64(3, b.imm(0)),
    b.mov64(4, 1), b.add64(4, 3), b.ldx(4, 5, 4, 0), b.add64(0, 5),
    b.mov64(4, 2), b.add64(4, 3), b.ldx(4, 5, 4, 0), b.add64(0, 5), b.stx(4, 4, 0, 0),
    b.add64(3, b.imm(4)), b.jlt(3, b.imm(40), -10),
    b.ldx(4, 5, 2, 40), // past the second region's end: faults after the loop
    b.exit(),
  ];
  const jit = compile(prog, { space: s1 });
  const vm = new Vm(prog, { space: s2 });
  const err = (f: () => unknown): string => { try { return String(f()); } catch (e) { return (e as Error).message; } };
  assert.equal(err(() => jit.call([a1.start, c1.start])), err(() => vm.call([a2.start, c2.start])));
  assert.deepEqual(s1.bytesOf(c1), s2.bytesOf(c2));
  // Replace a region between runs: the cached one is gone, its address faults.
  s1.unmap(a1);
  s2.unmap(a2);
  const b1 = s1.map('b', 64), b2 = s2.map('b', 64);
  assert.equal(err(() => jit.call([a1.start, c1.start])), err(() => vm.call([a2.start, c2.start])));
  const ok = [b.mov64(0, b.imm(0)), b.mov64(3, b.imm(0)), b.mov64(4, 1), b.add64(4, 3), b.ldx(4, 5, 4, 0), b.add64(0, 5), b.add64(3, b.imm(4)), b.jlt(3, b.imm(40), -6), b.exit()];
  assert.deepEqual(compile(ok, { space: s1 }).call([b1.start]), new Vm(ok, { space: s2 }).call([b2.start]));
  // A helper that unmaps the region being read: the next access faults.
  const helpers = new Map([[9, (ctx: { space: AddressSpace }) => { ctx.space.unmap('c'); return 0; }]]);
  const unmapping: Insn[] = [b.mov64(6, 1), b.ldx(4, 0, 6, 0), b.call(9), b.ldx(4, 0, 6, 0), b.exit()];
  const e1 = err(() => compile(unmapping, { space: s1, helpers }).call([c1.start]));
  const e2 = err(() => new Vm(unmapping, { space: s2, helpers }).call([c2.start]));
  assert.match(e1, /invalid read/);
  assert.equal(e1, e2);
});

test('repeat() runs the program in a loop inside the module with the same result as call()', () => {
  const mem = Uint8Array.from({ length: 16 }, (_, i) => i * 3);
  const prog: Insn[] = [b.ldx(8, 0, 1, 0), b.ldx(8, 3, 1, 8), b.xor64(0, 3), b.add64(0, 2), b.exit()];
  const jit = compile(prog);
  const region = jit.space.map('in', mem);
  assert.deepEqual(jit.repeat([region.start, region.size], 1000), jit.call([region.start, region.size]));
  assert.throws(() => jit.repeat([region.start], 0), /repeat count/);
});

test('inline helpers (the hook for hot helpers) replace the host call', () => {
  // helper 1 as r1 * 3 + r2, emitted into the module
  const inlineHelpers = new Map([[1, (c: Code) => { c.localGet(1); c.i64(3); c.op(Op.i64_mul); c.localGet(2); c.op(Op.i64_add); }]]);
  const prog: Insn[] = [b.mov64(1, b.imm(5)), b.mov64(2, b.imm(-1)), b.call(1), b.exit()];
  const jit = compile(prog, { inlineHelpers });
  assert.equal(jit.call().r0, 14n);
  assert.equal(compile(prog, { helpers: TEST_HELPERS }).call().r0, 14n);
  assert.throws(() => compile(prog).call(), VmUnknownHelperError);
});
