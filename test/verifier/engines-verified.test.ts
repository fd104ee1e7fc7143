/**
 * Engines given the verifier's facts (VmOptions.verified): programs the
 * verifier accepts give the same results with and without facts on both
 * engines, the facts really turn checked accesses into unchecked ones, and
 * accesses the facts do not cover stay checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build as b, slotIndex, type Insn } from '../../src/isa/index.js';
import { verify, type VerifiedFacts } from '../../src/verifier/index.js';
import { prepare, VmMemoryError, type Engine, type HelperTable, type PreparedProgram } from '../../src/vm/index.js';
import { lower, OP } from '../../src/vm/lower.js';

const { mov64, imm, exit, ldx, stx, st, add64, xor64, mul64, lsh64, jeq, jgt, call, lddw } = b;

// r2 = data, r3 = data_end; 34 bytes bounds-checked; bytes 12..13 and a
// word at 26 read from the packet; mixed through the stack; r0 = the mix.
const PACKET_PROG: Insn[] = [
  ldx(4, 2, 1, 0), ldx(4, 3, 1, 4),
  mov64(4, 2), add64(4, imm(34)), jgt(4, 3, 15),
  ldx(1, 5, 2, 12), ldx(1, 6, 2, 13), lsh64(5, imm(8)), add64(5, 6),
  stx(8, 10, 5, -8), ldx(4, 7, 2, 26), stx(4, 10, 7, -12), st(2, 10, -14, 0x1234),
  ldx(8, 0, 10, -8), ldx(4, 8, 10, -12), mul64(0, imm(31)), xor64(0, 8), ldx(2, 8, 10, -14), add64(0, 8),
  exit(),
  mov64(0, imm(1)), exit(),
];

// A map value: lookup key 0 (stack), add the first packet byte to the u64 value, r0 = new value.
const MAPS = [{ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }] as const;
const MAP_PROG: Insn[] = [
  ldx(4, 6, 1, 0), ldx(4, 7, 1, 4),
  st(4, 10, -4, 0), mov64(2, 10), add64(2, imm(-4)), lddw(1, 0n, 'map_fd'), call(1),
  jeq(0, imm(0), 9),
  mov64(1, 6), add64(1, imm(1)), jgt(1, 7, 6),
  ldx(1, 2, 6, 0), ldx(8, 3, 0, 0), add64(3, 2), stx(8, 0, 3, 0), mov64(0, 3), exit(),
  mov64(0, imm(0)), exit(),
];

function facts(prog: Insn[], maps: readonly unknown[] = []): VerifiedFacts {
  const r = verify(prog, { progType: 'xdp', maps: maps as never, facts: true });
  assert.ok(r.accepted, r.log);
  return r.facts!;
}

/** Run an XDP-style program: packet and xdp_md regions mapped, r1 = ctx; returns r0 and the map value. */
function runXdp(p: PreparedProgram, packet: Uint8Array, mapValue: { start: number } | undefined): string {
  const space = p.space;
  const pkt = space.map('packet', packet.length === 0 ? 1 : packet);
  const ctx = space.map('ctx', 24);
  const dv = space.view;
  dv.setUint32(ctx.start, pkt.start, true);
  dv.setUint32(ctx.start + 4, pkt.start + packet.length, true);
  dv.setUint32(ctx.start + 8, pkt.start, true);
  try {
    const r0 = p.call([ctx.start]).r0;
    const v = mapValue === undefined ? '' : ` map=${space.view.getBigUint64(mapValue.start, true)}`;
    return `r0=${r0}${v}`;
  } finally {
    space.unmap(pkt);
    space.unmap(ctx);
  }
}

function packets(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const len of [0, 1, 13, 33, 34, 60, 1500]) {
    const p = new Uint8Array(len);
    for (let i = 0; i < len; i++) p[i] = (i * 37 + len) & 255;
    out.push(p);
  }
  return out;
}

const CONFIGS: readonly { engine: Engine; withFacts: boolean }[] = [
  { engine: 'interp', withFacts: false }, { engine: 'interp', withFacts: true },
  { engine: 'jit', withFacts: false }, { engine: 'jit', withFacts: true },
];

function outcomes(prog: Insn[], maps: readonly unknown[], withMap: boolean): string[][] {
  const f = facts(prog, maps);
  return CONFIGS.map(({ engine, withFacts }) => {
    const p0 = prepare(prog, { engine, verified: withFacts ? f : undefined });
    const value = withMap ? p0.space.map('map_value', 8) : undefined;
    const helpers: HelperTable = {
      1: (ctx) => (value !== undefined && ctx.space.view.getUint32(ctx.argAddr(2, 4, 'read'), true) === 0 ? value.start : 0),
    };
    const p = withMap ? prepare(prog, { engine, verified: withFacts ? f : undefined, space: p0.space, helpers }) : p0;
    assert.equal(p.engine, engine);
    return packets().map((pkt) => runXdp(p, pkt, value));
  });
}

test('packet and stack accesses: same results with and without facts on both engines', () => {
  const results = outcomes(PACKET_PROG, [], false);
  for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
  assert.notEqual(results[0][5], 'r0=1', 'a long packet takes the parsing path');
});

test('map value accesses: same results and map contents with and without facts on both engines', () => {
  const results = outcomes(MAP_PROG, MAPS, true);
  for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
  assert.match(results[0].at(-1)!, /map=[1-9]/);
});

function checkedOps(prog: Insn[], f?: VerifiedFacts): { checked: number; unchecked: number } {
  const l = lower(prog, f);
  let checked = 0, unchecked = 0;
  for (let i = 0; i < l.slots; i++) {
    if (l.op[i] >= OP.LDXB && l.op[i] <= OP.STXDW) checked++;
    if (l.op[i] >= OP.LDXB_U && l.op[i] <= OP.STXDW_U) unchecked++;
  }
  return { checked, unchecked };
}

test('facts turn every proven load and store into its unchecked twin', () => {
  for (const [prog, maps] of [[PACKET_PROG, []], [MAP_PROG, MAPS]] as const) {
    const plain = checkedOps(prog);
    const proven = checkedOps(prog, facts(prog, maps));
    assert.equal(plain.unchecked, 0);
    assert.ok(plain.checked >= 5);
    assert.deepEqual(proven, { checked: 0, unchecked: plain.checked });
  }
});

/** Facts claiming every slot of `prog` is a proven access (wrong on purpose). */
function claimAll(prog: Insn[]): VerifiedFacts {
  const n = slotIndex(prog)[prog.length];
  return { reached: new Uint8Array(n).fill(1), memRegion: new Uint8Array(n).fill(1), divisorNonZero: new Uint8Array(n), stackDepth: 0 };
}

test('accesses the facts do not cover stay checked; covered ones skip the check but stay inside the linear memory', () => {
  // Reads 8 bytes above the frame: outside any region, so a checked access faults.
  const above = [ldx(8, 0, 10, 8), exit()];
  const none: VerifiedFacts = { ...claimAll(above), memRegion: new Uint8Array(3) };
  for (const engine of ['interp', 'jit'] as const) {
    assert.throws(() => prepare(above, { engine }).call(), VmMemoryError);
    assert.throws(() => prepare(above, { engine, verified: none }).call(), VmMemoryError, 'uncovered access still checked');
    // Wrong facts: the check is gone, the read lands in the (unmapped) page above the stack.
    assert.equal(typeof prepare(above, { engine, verified: claimAll(above) }).call().r0, 'bigint');
    // Far outside the linear memory: the engine's own bounds stop it, not a VmMemoryError.
    const far = [lddw(1, 0xfff0_0000n), ldx(8, 0, 1, 0), exit()];
    assert.throws(() => prepare(far, { engine, verified: claimAll(far) }).call(), (e: unknown) => e instanceof Error && !(e instanceof VmMemoryError));
    assert.throws(() => prepare(far, { engine }).call(), VmMemoryError);
  }
});
