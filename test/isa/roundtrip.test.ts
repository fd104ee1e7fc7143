import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, build as b } from '../../src/isa/index.js';
test('encode then decode gives the same instructions', () => {
  const prog = [b.mov64(0, b.imm(1)), b.add64(0, 2), b.exit()];
  assert.deepEqual(decode(encode(prog)), prog);
});
