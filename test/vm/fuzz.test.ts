import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfkitError } from '../../src/errors/index.js';
import { decode, encode, type AluOp, type Insn, type JmpCond, type Reg, type Size } from '../../src/isa/index.js';
import { AddressSpace, Vm, type Helper } from '../../src/vm/index.js';

/** Deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const ALU_OPS: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const JMP_CONDS: JmpCond[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const space = new AddressSpace();
const helpers: Record<number, Helper> = {
  1: (c) => c.space.readU32(c.argAddr(1, 4, 'read')),
  2: (c) => { c.argAddr(1, c.argU32(2) & 0xff, 'write'); return c.arg(3); },
  5: (c) => { if (c.arg(1) === 0n) c.halt(); return c.arg(1); },
};

/** Run arbitrary bytes: the only acceptable outcomes are a result or a BpfkitError. */
function runBytes(bytes: Uint8Array, seed: number): 'ok' | 'error' {
  try {
    const program = decode(bytes, { checkTargets: seed % 2 === 0 });
    const vm = new Vm(program, { space, helpers, budget: 300 });
    const input = space.map('input', 64);
    try {
      const r = vm.call([input.start, input.size]);
      assert.equal(typeof r.r0, 'bigint');
      assert.ok(r.executed <= 300);
    } finally {
      space.reset();
    }
    return 'ok';
  } catch (e) {
    if (e instanceof BpfkitError) { if (process.env.FUZZ_DEBUG) console.log(e.message); return 'error'; }
    throw new Error(`seed ${seed}: raw ${e instanceof Error ? e.name : typeof e}: ${String(e)}`, { cause: e });
  }
}

test('fuzz: random bytes only ever give a result or a typed error', () => {
  for (let seed = 0; seed < 1500; seed++) {
    const next = rng(seed);
    const bytes = new Uint8Array(8 * (1 + (next() % 12)));
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
    runBytes(bytes, seed);
  }
});

test('fuzz: random valid instructions exercise execution, not just decoding', () => {
  const outcomes = { ok: 0, error: 0 };
  for (let seed = 0; seed < 2500; seed++) {
    const next = rng(seed + 100_000);
    const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length];
    const n = 2 + (next() % 14);
    // Registers point at the stack (r10) or the input (r1) often, so memory accesses sometimes succeed.
    const reg = (): Reg => pick<Reg>([0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]);
    const imm = (): number => (next() % 4 === 0 ? next() | 0 : (next() % 80) - 16);
    const off = (): number => (next() % 24) - 8;
    // Jump offsets that mostly land inside the program (lddw's second slot can still shift them).
    const to = (): number => (next() % (n + 1)) - insns.length - 1;
    const source = (): Reg | { imm: number } => (next() % 2 ? reg() : { imm: imm() });
    const size = (): Size => pick<Size>([1, 2, 4, 8]);
    const insns: Insn[] = [];
    for (let i = 0; i < n; i++) {
      const width = pick<32 | 64>([32, 64]);
      switch (next() % 9) {
        case 0: case 1:
          insns.push({ kind: 'alu', width, op: pick(ALU_OPS), dst: reg(), src: source() });
          break;
        case 2:
          insns.push(pick<Insn>([
            { kind: 'neg', width, dst: reg() },
            { kind: 'movsx', width: 64, bits: pick([8, 16, 32] as const), dst: reg(), src: reg() },
            { kind: 'endian', order: pick(['le', 'be', 'swap'] as const), bits: pick([16, 32, 64] as const), dst: reg() },
            { kind: 'lddw', dst: reg(), pseudo: 'imm', imm: BigInt(next()) << 17n },
          ]));
          break;
        case 3:
          insns.push({ kind: 'jmp', width, cond: pick(JMP_CONDS), dst: reg(), src: source(), off: to() });
          break;
        case 4:
          insns.push({ kind: 'ldx', size: size(), signExtend: false, dst: reg(), src: reg(), off: off() * 4 });
          break;
        case 5:
          insns.push(next() % 2 ? { kind: 'st', size: size(), dst: reg(), off: off() * 4, imm: imm() } : { kind: 'stx', size: size(), dst: reg(), src: reg(), off: off() * 4 });
          break;
        case 6:
          insns.push({ kind: 'atomic', size: pick<Size>([4, 8]), op: pick(['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'] as const), fetch: true, dst: reg(), src: reg(), off: off() * 4 });
          break;
        case 7:
          insns.push(pick<Insn>([
            { kind: 'call', helper: pick([1, 2, 5, 9]) },
            { kind: 'callx', dst: reg() },
            { kind: 'call_local', off: to() },
            { kind: 'ja', long: next() % 2 === 0, off: to() },
            { kind: 'may_goto', off: to() },
            { kind: 'ldind', size: pick([1, 2, 4] as const), src: reg(), imm: imm() },
          ]));
          break;
        default:
          insns.push({ kind: 'exit' });
      }
    }
    insns.push({ kind: 'exit' });
    let bytes: Uint8Array;
    try {
      bytes = encode(insns);
    } catch {
      continue; // a field this generator left out of range: not what is under test
    }
    outcomes[runBytes(bytes, seed)]++;
  }
  // The generator must reach execution a fair share of the time, or the test proves little.
  assert.ok(outcomes.ok > 250, `only ${outcomes.ok} of ${outcomes.ok + outcomes.error} programs ran to completion`);
});
