import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, insnSlots, build as b, type Insn } from '../../src/isa/index.js';
import { INSN_KINDS, randomInsn, randomProgram, Rng } from './gen.js';

test('encode then decode gives the same instructions', () => {
  const prog = [b.mov64(0, b.imm(1)), b.add64(0, 2), b.exit()];
  assert.deepEqual(decode(encode(prog)), prog);
});

test('decode(encode(x)) deep-equals x for 20000 random instructions of every kind', () => {
  const r = new Rng(1);
  const seen = new Set<string>();
  for (let i = 0; i < 20000; i++) {
    const insn = randomInsn(r);
    seen.add(insn.kind);
    const bytes = encode([insn]);
    assert.equal(bytes.length, insnSlots(insn) * 8);
    assert.deepEqual(decode(bytes, { checkTargets: false }), [insn], JSON.stringify(insn, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)));
  }
  assert.deepEqual([...seen].sort(), [...INSN_KINDS].sort(), 'the generator covers every kind');
});

test('random programs with in-range jumps decode with target checks on', () => {
  const r = new Rng(2);
  for (let i = 0; i < 300; i++) {
    const prog = randomProgram(r, 1 + r.int(40));
    assert.deepEqual(decode(encode(prog)), prog);
  }
});

test('every field combination of the small kinds round-trips', () => {
  const all: Insn[] = [];
  for (const width of [32, 64] as const) {
    for (const bits of [8, 16, 32] as const) if (!(width === 32 && bits === 32)) all.push({ kind: 'movsx', width, bits, dst: 1, src: 2 });
    all.push({ kind: 'neg', width, dst: 10 });
  }
  for (const order of ['le', 'be', 'swap'] as const) for (const bits of [16, 32, 64] as const) all.push({ kind: 'endian', order, bits, dst: 3 });
  for (const size of [1, 2, 4, 8] as const) {
    all.push({ kind: 'atomic', size, op: 'load_acquire', fetch: false, dst: 1, src: 2, off: -8 });
    all.push({ kind: 'atomic', size, op: 'store_release', fetch: false, dst: 1, src: 2, off: 8 });
    if (size >= 4) {
      for (const op of ['add', 'or', 'and', 'xor'] as const) for (const fetch of [false, true]) all.push({ kind: 'atomic', size, op, fetch, dst: 10, src: 1, off: -16 });
      all.push({ kind: 'atomic', size, op: 'xchg', fetch: true, dst: 10, src: 1, off: 0 });
      all.push({ kind: 'atomic', size, op: 'cmpxchg', fetch: true, dst: 10, src: 1, off: 0 });
    }
  }
  assert.deepEqual(decode(encode(all)), all);
});
