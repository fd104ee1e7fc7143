import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build as b, type AluOp, type Insn } from '../../src/isa/index.js';
import { AddressSpace, run, Vm } from '../../src/vm/index.js';
import { interestingValues, refAlu } from './reference.js';

const OPS: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const space = new AddressSpace();
const r0 = (prog: Insn[]): bigint => run(prog).r0;
const hex = (v: bigint): string => `0x${v.toString(16)}`;

test('every ALU operation, register form, agrees with a BigInt model (32 and 64 bits)', () => {
  const values = interestingValues(40);
  for (const width of [32, 64] as const) {
    for (const op of OPS) {
      const vm = new Vm([{ kind: 'alu', width, op, dst: 1, src: 2 }, b.mov64(0, 1), b.exit()], { space });
      for (const x of values) {
        for (const y of values) {
          const got = vm.call([x, y]).r0;
          const want = refAlu(op, width, x, y);
          if (got !== want) assert.fail(`${op}${width} ${hex(x)}, ${hex(y)}: got ${hex(got)}, want ${hex(want)}`);
        }
      }
    }
  }
});

test('every ALU operation, immediate form, sign-extends the immediate for 64-bit operations', () => {
  const values = interestingValues(12);
  const imms = [0, 1, -1, 2, 7, 31, 32, 63, 64, -64, 0x7fffffff, -0x80000000, 0x12345678, -0x1234567];
  for (const width of [32, 64] as const) {
    for (const op of OPS) {
      for (const imm of imms) {
        const vm = new Vm([{ kind: 'alu', width, op, dst: 1, src: { imm } }, b.mov64(0, 1), b.exit()], { space });
        for (const x of values) {
          const got = vm.call([x]).r0;
          const want = refAlu(op, width, x, BigInt.asUintN(64, BigInt(imm)));
          if (got !== want) assert.fail(`${op}${width} ${hex(x)}, imm ${imm}: got ${hex(got)}, want ${hex(want)}`);
        }
      }
    }
  }
});

test('division and modulo by zero: div gives 0, mod leaves dst (32-bit forms zero-extend)', () => {
  const big = 0xfedcba9876543210n;
  const prog = (op: AluOp, width: 32 | 64): Insn[] => [b.lddw(0, big), b.mov64(1, b.imm(0)), { kind: 'alu', width, op, dst: 0, src: 1 }, b.exit()];
  assert.equal(r0(prog('div', 64)), 0n);
  assert.equal(r0(prog('sdiv', 64)), 0n);
  assert.equal(r0(prog('mod', 64)), big);
  assert.equal(r0(prog('smod', 64)), big);
  assert.equal(r0(prog('div', 32)), 0n);
  assert.equal(r0(prog('sdiv', 32)), 0n);
  assert.equal(r0(prog('mod', 32)), 0x76543210n);
  assert.equal(r0(prog('smod', 32)), 0x76543210n);
  // by an immediate zero too
  assert.equal(r0([b.lddw(0, big), b.mod64(0, b.imm(0)), b.exit()]), big);
});

test('signed division overflow: INT_MIN / -1 wraps to INT_MIN, INT_MIN % -1 is 0', () => {
  assert.equal(r0([b.lddw(0, 0x8000000000000000n), { kind: 'alu', width: 64, op: 'sdiv', dst: 0, src: { imm: -1 } }, b.exit()]), 0x8000000000000000n);
  assert.equal(r0([b.lddw(0, 0x8000000000000000n), { kind: 'alu', width: 64, op: 'smod', dst: 0, src: { imm: -1 } }, b.exit()]), 0n);
  assert.equal(r0([b.mov32(0, b.imm(-0x80000000)), { kind: 'alu', width: 32, op: 'sdiv', dst: 0, src: { imm: -1 } }, b.exit()]), 0x80000000n);
  assert.equal(r0([b.mov32(0, b.imm(-0x80000000)), { kind: 'alu', width: 32, op: 'smod', dst: 0, src: { imm: -1 } }, b.exit()]), 0n);
  // truncation toward zero, remainder takes the dividend's sign
  assert.equal(r0([b.mov64(0, b.imm(-7)), { kind: 'alu', width: 64, op: 'sdiv', dst: 0, src: { imm: 2 } }, b.exit()]), BigInt.asUintN(64, -3n));
  assert.equal(r0([b.mov64(0, b.imm(-7)), { kind: 'alu', width: 64, op: 'smod', dst: 0, src: { imm: 2 } }, b.exit()]), BigInt.asUintN(64, -1n));
});

test('shift counts are masked to 63 (64-bit) and 31 (32-bit)', () => {
  assert.equal(r0([b.mov64(0, b.imm(1)), b.lsh64(0, b.imm(65)), b.exit()]), 2n);
  assert.equal(r0([b.mov64(0, b.imm(1)), b.lsh32(0, b.imm(33)), b.exit()]), 2n);
  assert.equal(r0([b.mov64(0, b.imm(-1)), b.rsh64(0, b.imm(-1)), b.exit()]), 1n);
  assert.equal(r0([b.mov64(0, b.imm(-8)), b.arsh64(0, b.imm(1)), b.exit()]), BigInt.asUintN(64, -4n));
  assert.equal(r0([b.mov32(0, b.imm(-8)), b.arsh32(0, b.imm(1)), b.exit()]), 0xfffffffcn);
  assert.equal(r0([b.lddw(0, 0x8000000000000000n), b.arsh64(0, b.imm(63)), b.exit()]), BigInt.asUintN(64, -1n));
});

test('32-bit operations zero-extend their result into the upper half', () => {
  assert.equal(r0([b.mov64(0, b.imm(-1)), b.add32(0, b.imm(0)), b.exit()]), 0xffffffffn);
  assert.equal(r0([b.mov64(0, b.imm(-1)), b.mov32(0, 0), b.exit()]), 0xffffffffn);
  assert.equal(r0([b.mov32(0, b.imm(-1)), b.exit()]), 0xffffffffn);
  assert.equal(r0([b.mov64(0, b.imm(-1)), b.exit()]), 0xffffffffffffffffn);
});

test('neg at both widths', () => {
  assert.equal(r0([b.mov64(0, b.imm(5)), { kind: 'neg', width: 64, dst: 0 }, b.exit()]), BigInt.asUintN(64, -5n));
  assert.equal(r0([b.mov64(0, b.imm(5)), { kind: 'neg', width: 32, dst: 0 }, b.exit()]), 0xfffffffbn);
  assert.equal(r0([b.mov64(0, b.imm(0)), { kind: 'neg', width: 64, dst: 0 }, b.exit()]), 0n);
  assert.equal(r0([b.lddw(0, 0x100000000n), { kind: 'neg', width: 64, dst: 0 }, b.exit()]), 0xffffffff00000000n);
});

test('movsx sign-extends 8, 16 and 32 bits; the 32-bit form zero-extends the result', () => {
  const sx = (width: 32 | 64, bits: 8 | 16 | 32, v: bigint): bigint =>
    r0([b.lddw(1, v), { kind: 'movsx', width, bits, dst: 0, src: 1 }, b.exit()]);
  assert.equal(sx(64, 8, 0x1ffn), BigInt.asUintN(64, -1n));
  assert.equal(sx(64, 8, 0x17fn), 0x7fn);
  assert.equal(sx(64, 16, 0xabcd8000n), 0xffffffffffff8000n);
  assert.equal(sx(64, 32, 0x180000000n), 0xffffffff80000000n);
  assert.equal(sx(32, 8, 0x80n), 0xffffff80n);
  assert.equal(sx(32, 16, 0xffff8001n), 0xffff8001n);
});

test('byte order: le truncates, be and swap reverse, at 16, 32 and 64 bits', () => {
  const v = 0x0123456789abcdefn;
  const end = (order: 'le' | 'be' | 'swap', bits: 16 | 32 | 64): bigint => r0([b.lddw(0, v), { kind: 'endian', order, bits, dst: 0 }, b.exit()]);
  assert.equal(end('le', 16), 0xcdefn);
  assert.equal(end('le', 32), 0x89abcdefn);
  assert.equal(end('le', 64), v);
  assert.equal(end('be', 16), 0xefcdn);
  assert.equal(end('be', 32), 0xefcdab89n);
  assert.equal(end('be', 64), 0xefcdab8967452301n);
  assert.equal(end('swap', 16), 0xefcdn);
  assert.equal(end('swap', 32), 0xefcdab89n);
  assert.equal(end('swap', 64), 0xefcdab8967452301n);
});

test('lddw loads any 64-bit value whatever its pseudo kind, and skips its second slot', () => {
  assert.equal(r0([b.lddw(0, 0x1122334455667788n), b.exit()]), 0x1122334455667788n);
  assert.equal(r0([b.lddw(0, 7n, 'map_fd'), b.exit()]), 7n);
  const res = run([b.lddw(0, 1n), b.lddw(1, 2n), b.add64(0, 1), b.exit()]);
  assert.equal(res.r0, 3n);
  assert.equal(res.executed, 4);
});
