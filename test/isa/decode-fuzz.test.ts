import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, DecodeError, encode, type Insn } from '../../src/isa/index.js';
import { randomProgram, Rng } from './gen.js';

/** Decode must give a value or a DecodeError naming a slot of the input, nothing else. */
function decodeOrDecodeError(bytes: Uint8Array): Insn[] | DecodeError {
  try {
    return decode(bytes);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`decode threw ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
    assert.ok(e.index >= 0 && e.index <= bytes.length >> 3, `slot ${e.index} outside 0..${bytes.length >> 3}`);
    assert.equal(e.code, 'ISA_DECODE');
    return e;
  }
}

function errorOf(bytes: Uint8Array): DecodeError {
  const out = decodeOrDecodeError(bytes);
  assert.ok(out instanceof DecodeError, 'expected a DecodeError');
  return out;
}

const slot = (...b: number[]): number[] => {
  assert.equal(b.length, 8);
  return b;
};
const bytesOf = (...slots: number[][]): Uint8Array => new Uint8Array(slots.flat());
const EXIT = slot(0x95, 0, 0, 0, 0, 0, 0, 0);
const MOV = slot(0xb7, 0x00, 0, 0, 1, 0, 0, 0);

test('random bytes decode to instructions or to a DecodeError, nothing else', () => {
  const r = new Rng(10);
  let ok = 0;
  for (let i = 0; i < 20000; i++) {
    const bytes = r.bytes(r.int(6) * 8 + (r.int(8) === 0 ? r.int(8) : 0));
    if (!(decodeOrDecodeError(bytes) instanceof DecodeError)) ok++;
  }
  assert.ok(ok > 0, 'some random programs are valid');
});

test('mutated valid programs decode to instructions or to a DecodeError', () => {
  const r = new Rng(11);
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const bytes = encode(randomProgram(r, 1 + r.int(20)));
    for (let k = 1 + r.int(3); k > 0; k--) {
      const at = r.int(bytes.length);
      bytes[at] = r.int(2) ? r.u32() & 0xff : bytes[at] ^ (1 << r.int(8));
    }
    const cut = r.int(10) === 0 ? bytes.subarray(0, r.int(bytes.length + 1)) : bytes;
    if (decodeOrDecodeError(cut) instanceof DecodeError) errors++;
  }
  assert.ok(errors > 0, 'some mutations are caught');
});

test('malformed programs: the error names the right slot', () => {
  // unknown opcode (0x8e: JMP32 | CALL | X does not exist)
  assert.equal(errorOf(bytesOf(MOV, slot(0x8e, 0, 0, 0, 0, 0, 0, 0), EXIT)).index, 1);
  // opcode 0xff
  assert.match(errorOf(bytesOf(slot(0xff, 0, 0, 0, 0, 0, 0, 0))).message, /^instruction 0: unknown opcode/);
  // reserved field set: exit with a non-zero imm; mov reg with an imm
  assert.equal(errorOf(bytesOf(MOV, MOV, slot(0x95, 0, 0, 0, 1, 0, 0, 0))).index, 2);
  assert.match(errorOf(bytesOf(slot(0xbf, 0x21, 0, 0, 7, 0, 0, 0), EXIT)).message, /reserved field imm/);
  // registers 11 to 15, as dst and as src
  for (let reg = 11; reg <= 15; reg++) {
    assert.match(errorOf(bytesOf(MOV, slot(0xb7, reg, 0, 0, 0, 0, 0, 0), EXIT)).message, new RegExp(`^instruction 1: invalid destination register r${reg}`));
    assert.match(errorOf(bytesOf(slot(0x79, 0x01 | (reg << 4), 0, 0, 0, 0, 0, 0), EXIT)).message, new RegExp(`invalid source register r${reg}`));
  }
  // lddw truncated: its first half in the last slot
  assert.match(errorOf(bytesOf(MOV, slot(0x18, 1, 0, 0, 1, 0, 0, 0))).message, /^instruction 1: truncated 64-bit immediate load/);
  // lddw whose second slot has a non-zero opcode: reported at the second slot
  assert.equal(errorOf(bytesOf(slot(0x18, 1, 0, 0, 1, 0, 0, 0), slot(0xb7, 0, 0, 0, 0, 0, 0, 0), EXIT)).index, 1);
  // jump out of range, forwards and backwards
  assert.match(errorOf(bytesOf(slot(0x05, 0, 1, 0, 0, 0, 0, 0), EXIT)).message, /^instruction 0: jump out of range: target 2/);
  assert.match(errorOf(bytesOf(MOV, slot(0x05, 0, 0xfd, 0xff, 0, 0, 0, 0), EXIT)).message, /^instruction 1: jump out of range: target -1/);
  // local call and gotol out of range use imm
  assert.equal(errorOf(bytesOf(MOV, slot(0x85, 0x10, 0, 0, 5, 0, 0, 0), EXIT)).index, 1);
  assert.equal(errorOf(bytesOf(slot(0x06, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff), EXIT)).index, 0);
  // jump into the middle of a lddw
  assert.match(
    errorOf(bytesOf(slot(0x05, 0, 1, 0, 0, 0, 0, 0), slot(0x18, 1, 0, 0, 1, 0, 0, 0), slot(0, 0, 0, 0, 0, 0, 0, 0), EXIT)).message,
    /^instruction 0: jump into the middle of a 64-bit immediate load/,
  );
  // a length that is not a multiple of 8
  for (const n of [1, 7, 9, 15]) {
    const e = errorOf(new Uint8Array(n));
    assert.equal(e.index, n >> 3);
    assert.match(e.message, /not a whole number of 8-byte instructions/);
  }
  // the same bytes without target checks decode fine
  assert.deepEqual(decode(bytesOf(slot(0x05, 0, 1, 0, 0, 0, 0, 0), EXIT), { checkTargets: false }), [
    { kind: 'ja', long: false, off: 1 },
    { kind: 'exit' },
  ]);
});
