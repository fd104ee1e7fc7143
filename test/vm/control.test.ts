import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build as b, type Insn, type JmpCond } from '../../src/isa/index.js';
import { HelperArgumentError } from '../../src/vm/errors.js';
import {
  AddressSpace, framePointer, MAX_FRAMES, MAY_GOTO_BUDGET, run, Vm, VmBudgetError, VmCallDepthError, VmHelperError,
  VmMemoryError, VmProgramError, VmUnknownHelperError, type Helper,
} from '../../src/vm/index.js';
import { interestingValues, refJmp } from './reference.js';

const CONDS: JmpCond[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const space = new AddressSpace();
const hex = (v: bigint): string => `0x${v.toString(16)}`;

function thrown<T extends Error>(cls: new (...a: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${cls.name}`);
}

/** 1 when the jump is taken, 0 otherwise. */
const jumpProgram = (insn: Insn): Insn[] => [insn, b.mov64(0, b.imm(0)), b.exit(), b.mov64(0, b.imm(1)), b.exit()];

test('every jump condition, register form, agrees with a BigInt model (jmp and jmp32)', () => {
  const values = interestingValues(30);
  for (const width of [32, 64] as const) {
    for (const cond of CONDS) {
      const vm = new Vm(jumpProgram({ kind: 'jmp', width, cond, dst: 1, src: 2, off: 2 }), { space });
      for (const x of values) {
        for (const y of values) {
          const got = vm.call([x, y]).r0 === 1n;
          if (got !== refJmp(cond, width, x, y)) assert.fail(`${cond}${width === 32 ? '32' : ''} ${hex(x)}, ${hex(y)}: taken=${got}`);
        }
      }
    }
  }
});

test('jump immediates are sign-extended to 64 bits', () => {
  const imms = [0, 1, -1, 0x7fffffff, -0x80000000, 5];
  const values = interestingValues(10);
  for (const width of [32, 64] as const) {
    for (const cond of CONDS) {
      for (const imm of imms) {
        const vm = new Vm(jumpProgram({ kind: 'jmp', width, cond, dst: 1, src: { imm }, off: 2 }), { space });
        for (const x of values) {
          const got = vm.call([x]).r0 === 1n;
          if (got !== refJmp(cond, width, x, BigInt.asUintN(64, BigInt(imm)))) assert.fail(`${cond}${width} ${hex(x)}, imm ${imm}: taken=${got}`);
        }
      }
    }
  }
});

test('ja and gotol (long ja) jump forward and backward', () => {
  assert.equal(run([b.mov64(0, b.imm(1)), b.ja(1), b.mov64(0, b.imm(2)), b.exit()]).r0, 1n);
  const loop = run([
    b.mov64(0, b.imm(0)),
    b.add64(0, b.imm(1)),
    b.jge(0, b.imm(10), 1),
    { kind: 'ja', long: true, off: -3 },
    b.exit(),
  ]);
  assert.equal(loop.r0, 10n);
  assert.equal(loop.executed, 1 + 10 * 3 - 1 + 1);
});

test('bpf-to-bpf calls: arguments in r1-r5, result in r0, r6-r9 preserved, own stack and r10', () => {
  const res = run([
    b.mov64(6, b.imm(6)), b.mov64(9, b.imm(9)), b.mov64(1, b.imm(40)), b.mov64(2, b.imm(2)),
    b.st(8, 10, -8, 77),
    { kind: 'call_local', off: 5 },
    b.ldx(8, 3, 10, -8), // the caller's stack slot survives the callee's writes
    b.add64(0, 3),
    b.add64(0, 6), b.add64(0, 9),
    b.exit(),
    // callee: r0 = r1 + r2; clobbers r6, r9 and its own stack; returns r10 in memory-free way
    b.mov64(0, 1), b.add64(0, 2), b.mov64(6, b.imm(0)), b.mov64(9, b.imm(0)), b.st(8, 10, -8, 1000),
    b.mov64(7, 10),
    b.exit(),
  ]);
  assert.equal(res.r0, 42n + 77n + 6n + 9n);
});

test('the callee sees its own frame pointer', () => {
  const res = run([{ kind: 'call_local', off: 1 }, b.exit(), b.mov64(0, 10), b.exit()]);
  assert.equal(res.r0, BigInt(framePointer(1)));
});

/** main calls f1, f1 calls f2, ... depth-1 nested calls (8 frames in all when depth = 8). */
function nested(depth: number): Insn[] {
  const prog: Insn[] = [];
  for (let i = 0; i < depth - 1; i++) prog.push({ kind: 'call_local', off: 1 }, b.exit());
  prog.push(b.mov64(0, b.imm(depth)), b.exit());
  return prog;
}

test(`calls nest ${MAX_FRAMES} frames deep; one more fails with VM_CALL_DEPTH`, () => {
  assert.equal(run(nested(MAX_FRAMES)).r0, BigInt(MAX_FRAMES));
  const e = thrown(VmCallDepthError, () => run(nested(MAX_FRAMES + 1)));
  assert.equal(e.code, 'VM_CALL_DEPTH');
  assert.equal(e.pc, 2 * (MAX_FRAMES - 1));
  // unbounded recursion hits the same limit, not the budget
  thrown(VmCallDepthError, () => run([{ kind: 'call_local', off: -1 }, b.exit()]));
});

test('helpers: arguments, return values (number sign-extended, bigint mod 2^64), halt', () => {
  const seen: unknown[] = [];
  const helpers = new Map<number, Helper>([
    [1, (c) => { seen.push(c.arg(1), c.argU32(2), c.argI32(2), c.argNumber(3), c.pc, c.id); return -2; }],
    [2, () => 2n ** 64n + 5n],
    [3, (c) => { c.halt(); return 9; }],
    [4, () => 0x1_0000_0001],
  ]);
  const vm = new Vm([
    b.mov64(1, b.imm(-1)), b.mov64(2, b.imm(-3)), b.lddw(3, 2n ** 40n),
    b.call(1), b.mov64(6, 0),
    b.call(2), b.add64(6, 0),
    b.call(4), b.add64(6, 0),
    b.mov64(0, 6),
    b.exit(),
  ], { helpers });
  assert.equal(vm.run().r0, BigInt.asUintN(64, -2n + 5n + 0x1_0000_0001n));
  assert.deepEqual(seen, [2n ** 64n - 1n, 0xfffffffd, -3, 2 ** 40, 4, 1]);
  const halted = run([b.call(3), b.mov64(0, b.imm(1)), b.exit()], { helpers });
  assert.equal(halted.r0, 9n);
  assert.equal(halted.executed, 1);
});

test('helper errors: unknown ids, bad pointers and rejected arguments name the pc', () => {
  const unknown = thrown(VmUnknownHelperError, () => run([b.mov64(0, b.imm(0)), b.call(99), b.exit()]));
  assert.equal(unknown.pc, 1);
  assert.equal(unknown.helper, 99);
  const helpers: Record<number, Helper> = {
    1: (c) => c.space.readU64(c.argAddr(1, 8, 'read')),
    2: () => { throw new HelperArgumentError('flags must be 0'); },
    3: (c) => { c.argAddr(1, 16, 'write'); return 0; },
  };
  assert.equal(run([b.st(8, 10, -8, 5), b.mov64(1, 10), b.add64(1, b.imm(-8)), b.call(1), b.exit()], { helpers }).r0, 5n);
  const bad = thrown(VmMemoryError, () => run([b.mov64(1, 10), b.call(1), b.exit()], { helpers }));
  assert.equal(bad.pc, 1);
  assert.equal(bad.access, 'read');
  const ro = thrown(VmMemoryError, () => run([b.mov64(1, 10), b.add64(1, b.imm(-8)), b.call(3), b.exit()], { helpers }));
  assert.equal(ro.size, 16);
  const rejected = thrown(VmHelperError, () => run([b.mov64(0, b.imm(0)), b.call(2), b.exit()], { helpers }));
  assert.equal(rejected.pc, 1);
  assert.match(rejected.message, /helper 2: flags must be 0/);
  assert.ok(rejected.cause instanceof HelperArgumentError);
  const nonInt = thrown(VmHelperError, () => run([b.call(4), b.exit()], { helpers: { 4: () => 1.5 } }));
  assert.match(nonInt.message, /not an integer/);
});

test('callx calls the helper whose id is in a register', () => {
  const helpers = { 7: (): number => 70, 8: (): number => 80 };
  assert.equal(run([b.mov64(3, b.imm(8)), { kind: 'callx', dst: 3 }, b.exit()], { helpers }).r0, 80n);
  const e = thrown(VmUnknownHelperError, () => run([b.lddw(3, 2n ** 32n + 7n), { kind: 'callx', dst: 3 }, b.exit()], { helpers }));
  assert.equal(e.helper, 2n ** 32n + 7n);
});

test('kfunc calls fail unless the host provides them', () => {
  const prog: Insn[] = [{ kind: 'call_kfunc', btfId: 1234, module: 0 }, b.exit()];
  const e = thrown(VmUnknownHelperError, () => run(prog));
  assert.match(e.message, /kfunc/);
  assert.equal(new Vm(prog, { kfuncs: { 1234: () => 3 } }).run().r0, 3n);
});

test('the instruction budget stops runaway programs with VM_BUDGET naming the pc', () => {
  const e = thrown(VmBudgetError, () => run([b.mov64(0, b.imm(0)), b.ja(-1), b.exit()], { budget: 1000 }));
  assert.equal(e.code, 'VM_BUDGET');
  assert.equal(e.pc, 1);
  assert.equal(e.budget, 1000);
  // exactly at the budget is fine
  assert.equal(run([b.mov64(0, b.imm(1)), b.exit()], { budget: 2 }).executed, 2);
  thrown(VmBudgetError, () => run([b.mov64(0, b.imm(1)), b.exit()], { budget: 1 }));
  // the default budget stops an infinite loop too
  thrown(VmBudgetError, () => run([b.ja(-1)]));
});

test('may_goto falls through until its budget runs out, then jumps', () => {
  const prog: Insn[] = [
    b.mov64(0, b.imm(0)),
    { kind: 'may_goto', off: 2 },
    b.add64(0, b.imm(1)),
    b.ja(-3),
    b.exit(),
  ];
  assert.equal(run(prog, { budget: 40_000_000 }).r0, BigInt(MAY_GOTO_BUDGET));
});

test('ldabs/ldind read big-endian from the packet region; out of range ends with r0 = 0', () => {
  const space = new AddressSpace();
  space.map('packet', Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11]), { writable: false });
  const vm = (prog: Insn[]): bigint => new Vm(prog, { space }).run().r0;
  assert.equal(vm([{ kind: 'ldabs', size: 1, imm: 1 }, b.exit()]), 0x34n);
  assert.equal(vm([{ kind: 'ldabs', size: 2, imm: 0 }, b.exit()]), 0x1234n);
  assert.equal(vm([{ kind: 'ldabs', size: 4, imm: 4 }, b.exit()]), 0x9abcdef0n);
  assert.equal(vm([{ kind: 'ldabs', size: 8, imm: 0 }, b.exit()]), 0x123456789abcdef0n);
  assert.equal(vm([b.mov64(2, b.imm(3)), { kind: 'ldind', size: 2, src: 2, imm: 2 }, b.exit()]), 0xbcden);
  assert.equal(vm([{ kind: 'ldabs', size: 4, imm: 6 }, b.mov64(0, b.imm(7)), b.exit()]), 0n);
  assert.equal(vm([b.mov64(2, b.imm(-1)), { kind: 'ldind', size: 1, src: 2, imm: 0 }, b.mov64(0, b.imm(7)), b.exit()]), 0n);
  // no packet at all: the same
  assert.equal(run([{ kind: 'ldabs', size: 1, imm: 0 }, b.mov64(0, b.imm(7)), b.exit()]).r0, 0n);
});

test('programs that cannot run are rejected with VM_PROGRAM and the slot', () => {
  const fell = thrown(VmProgramError, () => run([b.mov64(0, b.imm(1))]));
  assert.equal(fell.pc, 1);
  assert.match(fell.message, /fell off the end/);
  const outside = thrown(VmProgramError, () => new Vm([b.ja(5), b.exit()]));
  assert.equal(outside.pc, 0);
  const middle = thrown(VmProgramError, () => new Vm([b.ja(1), b.lddw(0, 1n), b.exit()]));
  assert.match(middle.message, /second slot/);
  const badReg = thrown(VmProgramError, () => new Vm([{ kind: 'exit' }, { kind: 'neg', width: 64, dst: 11 as 1 }]));
  assert.equal(badReg.pc, 1);
});

test('r1 is 0 and r2 is 0 without input memory; r1/r2 address and size it otherwise', () => {
  assert.equal(run([b.mov64(0, 1), b.or64(0, 2), b.exit()]).r0, 0n);
  const vm = new Vm([b.mov64(0, 2), b.exit()]);
  assert.equal(vm.run(new Uint8Array(37)).r0, 37n);
  const res = run([b.mov64(0, 1), b.exit()], { mem: new Uint8Array(1) });
  assert.equal(vm.space.regionAt(vm.space.region('input')!.start)?.name, 'input');
  assert.ok(res.r0 >= 0x20000n);
});

test('the budget is exact: the first instruction past it is named, even inside a straight-line block', () => {
  // slots: 0 mov, 1-2 lddw, 3 mov, 4 add, 5 exit: 5 instructions
  const prog: Insn[] = [b.mov64(0, b.imm(1)), b.lddw(1, 2n), b.mov64(2, b.imm(3)), b.add64(0, 1), b.exit()];
  assert.equal(run(prog, { budget: 5 }).executed, 5);
  assert.equal(thrown(VmBudgetError, () => run(prog, { budget: 4 })).pc, 5);
  assert.equal(thrown(VmBudgetError, () => run(prog, { budget: 2 })).pc, 3);
  assert.equal(thrown(VmBudgetError, () => run(prog, { budget: 1 })).pc, 1);
  // A fault after the budget ran out reports the budget, one before it reports the fault.
  const faulty: Insn[] = [b.mov64(0, b.imm(1)), b.mov64(1, b.imm(0)), b.ldx(8, 0, 1, 0), b.exit()];
  assert.equal(thrown(VmBudgetError, () => run(faulty, { budget: 2 })).pc, 2);
  assert.equal(thrown(VmMemoryError, () => run(faulty, { budget: 3 })).pc, 2);
  // Calls and returns are counted too.
  const calls: Insn[] = [{ kind: 'call_local', off: 1 }, b.exit(), b.mov64(0, b.imm(4)), b.exit()];
  assert.equal(run(calls).executed, 4);
  assert.equal(thrown(VmBudgetError, () => run(calls, { budget: 3 })).pc, 1);
});

test('engines: the JIT is the default and needs no registration', async () => {
  const { prepare, resolveEngine, isEngine, DEFAULT_ENGINE } = await import('../../src/vm/index.js');
  assert.equal(DEFAULT_ENGINE, 'jit');
  assert.equal(resolveEngine(), 'jit');
  assert.equal(resolveEngine('interp'), 'interp');
  assert.ok(isEngine('jit') && !isEngine('wasm'));
  const p = prepare([b.mov64(0, 2), b.exit()]);
  assert.equal(p.engine, 'jit');
  assert.equal(p.fallback, undefined);
  assert.equal(p.run(new Uint8Array(3)).r0, 3n);
  const i = prepare([b.mov64(0, 2), b.exit()], { engine: 'interp' });
  assert.equal(i.engine, 'interp');
  assert.equal(i.run(new Uint8Array(3)).r0, 3n);
});

test('engines can be registered; prepare uses the one asked for and falls back otherwise', async () => {
  const { prepare, registerEngine, resolveEngine, Vm: V } = await import('../../src/vm/index.js');
  const made: string[] = [];
  const undo = registerEngine('jit', (program, options) => {
    made.push('jit');
    return new V(program, options);
  });
  try {
    assert.equal(resolveEngine('jit'), 'jit');
    assert.equal(prepare([b.mov64(0, b.imm(5)), b.exit()], { engine: 'jit' }).run().r0, 5n);
    assert.deepEqual(made, ['jit']);
    prepare([b.exit()], { engine: 'interp' });
    assert.deepEqual(made, ['jit'], 'interp is not the registered factory');
  } finally {
    undo();
  }
  assert.equal(resolveEngine('jit'), 'jit', 'undo restores the built-in JIT');
  assert.equal(prepare([b.mov64(0, b.imm(5)), b.exit()]).engine, 'jit');
});
