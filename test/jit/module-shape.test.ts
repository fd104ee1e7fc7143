/**
 * The shape of the modules the translator emits, where compile time
 * depends on it: every host import shares one function type (an instance
 * then builds one import wrapper), and budget-checked "careful" twins are
 * emitted only when a budget check can fail. The rarer instruction forms,
 * emitted by methods of their own, still run as the interpreter runs them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build as b, slotIndex, type Insn } from '../../src/isa/index.js';
import { analyse, IMPORTS, translate } from '../../src/jit/translate.js';
import { validateProgram } from '../../src/vm/lower.js';
import { both } from './harness.js';

/** Type, import and function sections of a module (only what these tests read). */
function sections(bytes: Uint8Array): { types: string[]; importTypes: number[]; funcCount: number } {
  let p = 8;
  const u32 = (): number => {
    let v = 0, shift = 0, byte: number;
    do {
      byte = bytes[p++];
      v |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return v >>> 0;
  };
  const types: string[] = [];
  const importTypes: number[] = [];
  let funcCount = 0;
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        p++; // 0x60
        const params = Array.from({ length: u32() }, () => bytes[p++]);
        const results = Array.from({ length: u32() }, () => bytes[p++]);
        types.push(`${params.join(',')}->${results.join(',')}`);
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        for (let s = 0; s < 2; s++) { const len = u32(); p += len; } // module and name
        const kind = bytes[p++];
        if (kind === 0) importTypes.push(u32());
        else if (kind === 2) { const flags = bytes[p++]; u32(); if (flags & 1) u32(); }
        else throw new Error(`unexpected import kind ${kind}`);
      }
    } else if (id === 3) {
      funcCount = u32();
    }
    p = end;
  }
  return { types, importTypes, funcCount };
}

function shapeOf(program: readonly Insn[]): ReturnType<typeof analyse> {
  validateProgram(program, slotIndex(program));
  return analyse(program);
}

const I32 = 0x7f;

test('every host import has the same type: five i32 parameters, no result', () => {
  const program: Insn[] = [b.mov64(1, b.imm(3)), b.call(1), b.exit()];
  for (const checkBudget of [false, true]) {
    const { types, importTypes } = sections(translate(shapeOf(program), { checkBudget }).bytes);
    assert.equal(importTypes.length, IMPORTS.length);
    assert.equal(new Set(importTypes).size, 1, `import types ${importTypes}`);
    assert.equal(types[importTypes[0]], `${[I32, I32, I32, I32, I32].join(',')}->`);
  }
});

test('careful twins only with budget checks: one more function per program function', () => {
  // Two functions (a local call), no loop.
  const program: Insn[] = [
    { kind: 'call_local', off: 1 } as Insn,
    b.exit(),
    b.mov64(0, b.imm(5)),
    b.exit(),
  ];
  const shape = shapeOf(program);
  assert.equal(shape.functions.size, 2);
  const plain = sections(translate(shape, { checkBudget: false }).bytes).funcCount;
  const checked = sections(translate(shape, { checkBudget: true }).bytes).funcCount;
  assert.equal(checked - plain, 2);
});

test('rarer forms (division, neg, movsx, may_goto, packet loads) run as in the interpreter', () => {
  const packet = new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
  const programs: Insn[][] = [
    // Division and modulo by registers and immediates, zero and -1 included.
    [b.mov64(0, b.imm(-100)), b.mov64(1, b.imm(7)), b.div64(0, 1), b.mov64(2, b.imm(0)), b.mod64(0, 2), b.div32(0, b.imm(-1)), b.mod32(0, b.imm(3)), b.exit()],
    [b.mov64(0, b.imm(-9)), { kind: 'neg', width: 32, dst: 0 }, { kind: 'movsx', width: 64, bits: 8, dst: 0, src: 0 }, b.exit()],
    // may_goto, taken and not (the counter does not run out here).
    [b.mov64(0, b.imm(0)), b.add64(0, b.imm(1)), { kind: 'may_goto', off: 2 }, b.jlt(0, b.imm(10), -3), b.exit(), b.mov64(0, b.imm(99)), b.exit()],
  ];
  for (const program of programs) {
    const { interp, jit } = both(program, new Uint8Array(0));
    assert.deepEqual(jit, interp);
    assert.equal(interp.ok, true, JSON.stringify(interp, (_k, v) => typeof v === 'bigint' ? `${v}` : v));
  }
  // ldabs / ldind with the packet as the input region.
  const loads: Insn[] = [b.mov64(6, 1), { kind: 'ldabs', size: 2, imm: 2 }, b.mov64(7, 0), b.mov64(2, b.imm(1)), { kind: 'ldind', size: 4, src: 2, imm: 3 }, b.add64(0, 7), b.exit()];
  const { interp, jit } = both(loads, packet);
  assert.deepEqual(jit, interp);
});
