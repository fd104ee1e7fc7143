/**
 * Facts for engines (VerifyOptions.facts): which region each memory
 * instruction was proven to access, unreached slots, non-zero divisors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build as b, slotIndex } from '../../src/isa/index.js';
import { REGION, regionsOf, verify } from '../../src/verifier/index.js';
import { CORPUS } from './corpus.js';

const { mov64, imm, exit, ldx, stx, st, add64, div64, jeq, jgt, call, lddw } = b;

test('memory instructions carry the region they were proven to access', () => {
  const prog = [
    ldx(4, 2, 1, 0), ldx(4, 3, 1, 4), // r2 = data, r3 = data_end
    mov64(4, 2), add64(4, imm(14)), jgt(4, 3, 3),
    ldx(1, 5, 2, 12), // packet, bounds-checked
    stx(8, 10, 5, -8), // stack
    st(4, 10, -16, 0),
    mov64(0, imm(2)), exit(),
  ];
  const r = verify(prog, { progType: 'xdp', facts: true });
  assert.ok(r.accepted, r.log);
  const f = r.facts!;
  assert.equal(f.memRegion[0], REGION.ctx);
  assert.equal(f.memRegion[5], REGION.packet);
  assert.deepEqual(regionsOf(f.memRegion[6]), ['stack']);
  assert.equal(f.memRegion[7], REGION.stack);
  assert.equal(f.memRegion[8], 0, 'not a memory instruction');
  assert.equal(f.stackDepth, 16);
});

test('map values, unreached slots and divisors', () => {
  const maps = [{ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }] as const;
  const prog = [
    st(4, 10, -4, 0), mov64(2, 10), add64(2, imm(-4)), lddw(1, 0n, 'map_fd'), call(1),
    jeq(0, imm(0), 1), ldx(8, 0, 0, 0), // slots 6, 7
    mov64(1, imm(5)), mov64(0, imm(10)), div64(0, 1), // slot 10: divisor 5
    call(7), mov64(1, 0), div64(0, 1), // slot 13: divisor unknown
    mov64(0, imm(0)), jeq(0, imm(1), 1), exit(), mov64(0, imm(1)), exit(), // slot 17 never reached
  ];
  const r = verify(prog, { progType: 'xdp', maps, facts: true });
  assert.ok(r.accepted, r.log);
  const f = r.facts!;
  const slot = slotIndex(prog);
  assert.equal(f.memRegion[slot[6]], REGION.map_value);
  assert.equal(f.divisorNonZero[slot[9]], 1);
  assert.equal(f.divisorNonZero[slot[12]], 0);
  assert.equal(f.reached[slot[15]], 1);
  assert.equal(f.reached[slot[16]], 0);
  assert.equal(verify(prog, { progType: 'xdp', maps }).facts, undefined, 'only on request');
});

test('over the corpus: every reached load and store of an accepted program has exactly the regions of its pointer', () => {
  let checked = 0;
  for (const c of CORPUS) {
    const r = verify(c.insns, { progType: c.type, maps: c.maps ?? [], facts: true });
    if (!r.accepted) continue;
    const slot = slotIndex(c.insns);
    c.insns.forEach((i, n) => {
      if (i.kind !== 'ldx' && i.kind !== 'st' && i.kind !== 'stx') return;
      const t = slot[n];
      if (!r.facts!.reached[t]) return;
      assert.notEqual(r.facts!.memRegion[t], 0, `${c.name}: slot ${t} has no region`);
      checked++;
    });
  }
  assert.ok(checked > 100, `only ${checked} accesses`);
});
