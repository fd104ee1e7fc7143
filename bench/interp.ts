/**
 * Cost of the reference interpreter per executed instruction, on the same
 * tight ALU loop as /work/shared/bench/progs/alu.bpf.c (clang-19 -O2 output,
 * hand-assembled here: 50,000 iterations of 13 instructions, 650,016
 * executed in all), entered through a bpf-to-bpf call like the mem_alu entry.
 *
 *   node --import tsx bench/interp.ts [--runs N] [--json] [--cpu]
 *
 * --cpu measures the process's CPU time instead of the wall clock (steadier
 * when other work shares the machine).
 *
 * Prints the median (and best) of N runs (default 31) after a warm-up; the
 * per-run overhead on a 2-instruction program; and, to weigh the register
 * representation alone, two reduced interpreters of just this loop's
 * operations that differ only in it: BigInt registers (in a BigUint64Array,
 * or naively in a plain array with BigInt.asUintN) and Int32Array halves (the
 * real interpreter's design).
 */
import { pathToFileURL } from 'node:url';
import { build as b, slotIndex, type Insn } from '../src/isa/index.js';
import { Vm } from '../src/vm/index.js';

type Item = Insn | { label: string } | ((labels: Map<string, number>, slot: number) => Insn);

/** Resolve labels: a function item receives the label map and its own slot. */
function assemble(items: Item[]): Insn[] {
  const labels = new Map<string, number>();
  let slot = 0;
  for (const it of items) {
    if ('label' in it) labels.set(it.label, slot);
    else slot += typeof it === 'function' || it.kind !== 'lddw' ? 1 : 2;
  }
  const out: Insn[] = [];
  slot = 0;
  for (const it of items) {
    if ('label' in it) continue;
    const insn = typeof it === 'function' ? it(labels, slot) : it;
    out.push(insn);
    slot += insn.kind === 'lddw' ? 2 : 1;
  }
  return out;
}
const rel = (l: Map<string, number>, slot: number, name: string): number => l.get(name)! - slot - 1;

export function aluProgram(iterations = 50_000): Insn[] {
  return assemble([
    b.mov64(3, 1), b.add64(3, 2), b.mov64(2, 3),
    (l, s) => ({ kind: 'call_local', off: rel(l, s, 'core') }),
    b.exit(),
    { label: 'core' },
    b.lddw(3, 0x2545f4914f6cdd1dn),
    b.mov64(4, 1), b.add64(4, b.imm(8)),
    (l, s) => b.jle(4, 2, rel(l, s, 'load')),
    { label: 'init' },
    b.lddw(4, 0x9e3779b97f4a7c15n),
    b.mov64(1, b.imm(0)),
    { label: 'loop' },
    b.mov64(2, 3), b.add64(2, 4), b.mul64(2, b.imm(0x5bd1e995)), b.mov64(0, 2), b.rsh64(0, b.imm(29)),
    b.xor64(0, 3), b.lsh64(0, b.imm(7)), b.or64(0, 1), b.add64(1, b.imm(1)), b.mov64(3, 0), b.mov64(4, 2),
    (l, s) => b.jeq(1, b.imm(iterations), rel(l, s, 'end')),
    (l, s) => b.ja(rel(l, s, 'loop')),
    { label: 'end' },
    b.xor64(0, 2), b.exit(),
    { label: 'load' },
    b.ldx(8, 3, 1, 0), b.lddw(1, 0x2545f4914f6cdd1dn), b.xor64(3, 1),
    (l, s) => b.ja(rel(l, s, 'init')),
  ]);
}

/** The alu loop pre-decoded for the two reduced interpreters below (only the operations it uses). */
interface Mini {
  op: Int32Array; dst: Int32Array; src: Int32Array; tgt: Int32Array;
  imm: BigUint64Array; immLo: Int32Array; immHi: Int32Array;
}

function miniDecode(insns: readonly Insn[]): Mini {
  const at = slotIndex(insns);
  const n = at[insns.length];
  const m: Mini = {
    op: new Int32Array(n), dst: new Int32Array(n), src: new Int32Array(n), tgt: new Int32Array(n),
    imm: new BigUint64Array(n), immLo: new Int32Array(n), immHi: new Int32Array(n),
  };
  const ALU = ['mov', 'add', 'mul', 'rsh', 'xor', 'lsh', 'or'];
  const setImm = (pc: number, v: bigint): void => {
    m.imm[pc] = BigInt.asUintN(64, v);
    m.immLo[pc] = Number(BigInt.asIntN(32, v));
    m.immHi[pc] = Number(BigInt.asIntN(32, v >> 32n));
  };
  insns.forEach((x, k) => {
    const pc = at[k];
    switch (x.kind) {
      case 'alu':
        m.op[pc] = 1 + ALU.indexOf(x.op) + (typeof x.src === 'number' ? 0 : 10);
        m.dst[pc] = x.dst;
        if (typeof x.src === 'number') m.src[pc] = x.src;
        else setImm(pc, BigInt(x.src.imm));
        break;
      case 'lddw': m.op[pc] = 30; m.dst[pc] = x.dst; setImm(pc, x.imm); break;
      case 'jmp':
        m.op[pc] = x.cond === 'jle' ? 31 : 32;
        m.dst[pc] = x.dst;
        if (typeof x.src === 'number') m.src[pc] = x.src;
        else { m.src[pc] = -1; setImm(pc, BigInt(x.src.imm)); }
        m.tgt[pc] = pc + 1 + x.off;
        break;
      case 'ja': m.op[pc] = 33; m.tgt[pc] = pc + 1 + x.off; break;
      case 'call_local': m.op[pc] = 34; m.tgt[pc] = pc + 1 + x.off; break;
      case 'exit': m.op[pc] = 35; break;
      case 'ldx': m.op[pc] = 36; m.dst[pc] = x.dst; m.src[pc] = x.src; break;
      default: throw new Error(`reduced interpreter: ${x.kind} not supported`);
    }
  });
  return m;
}

type MiniRun = (r1: number, r2: number, mem: DataView, memBase: number) => { r0: bigint; executed: number };

/**
 * The BigInt design: 64-bit registers as bigint in a BigUint64Array (stores
 * wrap mod 2^64 for free). No bounds checks, no budget: a lower bound on
 * what a full interpreter of this design would cost.
 */
function bigintInterpreter(insns: readonly Insn[]): MiniRun {
  const { op, dst, src, tgt, imm } = miniDecode(insns);
  const r = new BigUint64Array(11);
  const stack: number[] = [];
  return (r1, r2, mem, memBase) => {
    r.fill(0n);
    r[1] = BigInt(r1);
    r[2] = BigInt(r2);
    return bigintLoop(op, dst, src, tgt, imm, r, stack, mem, memBase);
  };
}

// Loops take everything as arguments (nothing before the loop), as the real interpreter does:
// V8 then keeps its on-stack-replaced code for later calls.
function bigintLoop(
  op: Int32Array, dst: Int32Array, src: Int32Array, tgt: Int32Array, imm: BigUint64Array,
  r: BigUint64Array, stack: number[], mem: DataView, memBase: number,
): { r0: bigint; executed: number } {
  {
    let pc = 0, executed = 0;
    for (;;) {
      executed++;
      const i = pc++;
      const d = dst[i], s = src[i];
      switch (op[i]) {
        case 1: r[d] = r[s]; break;
        case 2: r[d] += r[s]; break;
        case 3: r[d] *= r[s]; break;
        case 4: r[d] >>= r[s] & 63n; break;
        case 5: r[d] ^= r[s]; break;
        case 6: r[d] <<= r[s] & 63n; break;
        case 7: r[d] |= r[s]; break;
        case 11: r[d] = imm[i]; break;
        case 12: r[d] += imm[i]; break;
        case 13: r[d] *= imm[i]; break;
        case 14: r[d] >>= imm[i] & 63n; break;
        case 15: r[d] ^= imm[i]; break;
        case 16: r[d] <<= imm[i] & 63n; break;
        case 17: r[d] |= imm[i]; break;
        case 30: r[d] = imm[i]; pc++; break;
        case 31: if (r[d] <= (s < 0 ? imm[i] : r[s])) pc = tgt[i]; break;
        case 32: if (r[d] === (s < 0 ? imm[i] : r[s])) pc = tgt[i]; break;
        case 33: pc = tgt[i]; break;
        case 34: stack.push(pc); pc = tgt[i]; break;
        case 35: if (stack.length === 0) return { r0: r[0], executed }; pc = stack.pop()!; break;
        case 36: r[d] = mem.getBigUint64(Number(r[s]) - memBase, true); break;
      }
    }
  }
}

/** The naive BigInt design: registers in a plain array, every result wrapped with BigInt.asUintN. */
function bigintArrayInterpreter(insns: readonly Insn[]): MiniRun {
  const { op, dst, src, tgt, imm } = miniDecode(insns);
  const r: bigint[] = new Array<bigint>(11).fill(0n);
  const stack: number[] = [];
  const w = (v: bigint): bigint => BigInt.asUintN(64, v);
  return (r1, r2, mem, memBase) => {
    r.fill(0n);
    r[1] = BigInt(r1);
    r[2] = BigInt(r2);
    return bigintArrayLoop(op, dst, src, tgt, imm, r, stack, mem, memBase, w);
  };
}

function bigintArrayLoop(
  op: Int32Array, dst: Int32Array, src: Int32Array, tgt: Int32Array, imm: BigUint64Array,
  r: bigint[], stack: number[], mem: DataView, memBase: number, w: (v: bigint) => bigint,
): { r0: bigint; executed: number } {
  {
    let pc = 0, executed = 0;
    for (;;) {
      executed++;
      const i = pc++;
      const d = dst[i], s = src[i];
      const b = s < 0 || (op[i] >= 11 && op[i] <= 17) ? imm[i] : r[s];
      switch (op[i]) {
        case 1: case 11: r[d] = b; break;
        case 2: case 12: r[d] = w(r[d] + b); break;
        case 3: case 13: r[d] = w(r[d] * b); break;
        case 4: case 14: r[d] = r[d] >> (b & 63n); break;
        case 5: case 15: r[d] ^= b; break;
        case 6: case 16: r[d] = w(r[d] << (b & 63n)); break;
        case 7: case 17: r[d] |= b; break;
        case 30: r[d] = imm[i]; pc++; break;
        case 31: if (r[d] <= b) pc = tgt[i]; break;
        case 32: if (r[d] === b) pc = tgt[i]; break;
        case 33: pc = tgt[i]; break;
        case 34: stack.push(pc); pc = tgt[i]; break;
        case 35: if (stack.length === 0) return { r0: r[0], executed }; pc = stack.pop()!; break;
        case 36: r[d] = mem.getBigUint64(Number(r[s]) - memBase, true); break;
      }
    }
  }
}

/** The same reduced interpreter with the real interpreter's design: registers as Int32Array halves. */
function halvesInterpreter(insns: readonly Insn[]): MiniRun {
  const { op, dst, src, tgt, immLo, immHi } = miniDecode(insns);
  const lo = new Int32Array(12), hi = new Int32Array(12);
  const stack: number[] = [];
  return (r1, r2, mem, memBase) => {
    lo.fill(0);
    hi.fill(0);
    lo[1] = r1;
    lo[2] = r2;
    return halvesLoop(op, dst, src, tgt, immLo, immHi, lo, hi, stack, mem, memBase);
  };
}

function halvesLoop(
  op: Int32Array, dst: Int32Array, src: Int32Array, tgt: Int32Array, immLo: Int32Array, immHi: Int32Array,
  lo: Int32Array, hi: Int32Array, stack: number[], mem: DataView, memBase: number,
): { r0: bigint; executed: number } {
  {
    let pc = 0, executed = 0;
    for (;;) {
      executed++;
      const i = pc++;
      const d = dst[i];
      let s = src[i];
      const o = op[i];
      if (o >= 11 && o <= 17 || s < 0 || o === 30) { lo[11] = immLo[i]; hi[11] = immHi[i]; s = 11; }
      switch (o) {
        case 1: case 11: case 30: lo[d] = lo[s]; hi[d] = hi[s]; if (o === 30) pc++; break;
        case 2: case 12: { const a = (lo[d] >>> 0) + (lo[s] >>> 0); lo[d] = a; hi[d] = hi[d] + hi[s] + (a > 0xffffffff ? 1 : 0); break; }
        case 3: case 13: { const al = lo[d], bl = lo[s]; hi[d] = mulHigh(al >>> 0, bl >>> 0) + Math.imul(al, hi[s]) + Math.imul(hi[d], bl); lo[d] = Math.imul(al, bl); break; }
        case 4: case 14: { const c = lo[s] & 63; if (c >= 32) { lo[d] = hi[d] >>> (c - 32); hi[d] = 0; } else if (c !== 0) { lo[d] = (lo[d] >>> c) | (hi[d] << (32 - c)); hi[d] = hi[d] >>> c; } break; }
        case 5: case 15: lo[d] ^= lo[s]; hi[d] ^= hi[s]; break;
        case 6: case 16: { const c = lo[s] & 63; if (c >= 32) { hi[d] = lo[d] << (c - 32); lo[d] = 0; } else if (c !== 0) { hi[d] = (hi[d] << c) | (lo[d] >>> (32 - c)); lo[d] = lo[d] << c; } break; }
        case 7: case 17: lo[d] |= lo[s]; hi[d] |= hi[s]; break;
        case 31: { const a = hi[d] >>> 0, b = hi[s] >>> 0; if (a < b || (a === b && lo[d] >>> 0 <= lo[s] >>> 0)) pc = tgt[i]; break; }
        case 32: if (lo[d] === lo[s] && hi[d] === hi[s]) pc = tgt[i]; break;
        case 33: pc = tgt[i]; break;
        case 34: stack.push(pc); pc = tgt[i]; break;
        case 35: if (stack.length === 0) return { r0: (BigInt(hi[0] >>> 0) << 32n) | BigInt(lo[0] >>> 0), executed }; pc = stack.pop()!; break;
        case 36: { const a = lo[s] - memBase; lo[d] = mem.getInt32(a, true); hi[d] = mem.getInt32(a + 4, true); break; }
      }
    }
  }
}

function mulHigh(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

function median(samples: number[]): number {
  samples.sort((x, y) => x - y);
  return samples[samples.length >> 1];
}

/** Wall-clock nanoseconds. */
const wallNs = (): number => Number(process.hrtime.bigint());
/** CPU time of this process (user + system) in nanoseconds: steadier than the wall clock on a busy machine. */
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

function main(argv: string[]): void {
  const now = argv.includes('--cpu') ? cpuNs : wallNs;
  const runsArg = argv.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(argv[runsArg + 1]) : 31;
  const json = argv.includes('--json');
  const mem = new Uint8Array(64); // /work/shared/bench/inputs/alu.in is 64 bytes too; content only seeds the loop
  for (let i = 0; i < mem.length; i++) mem[i] = (i * 37 + 11) & 0xff;
  const vm = new Vm(aluProgram(), { budget: 10_000_000 });
  for (let i = 0; i < 20; i++) vm.run(mem); // warm-up: let V8 optimise the loop
  const samples: number[] = [];
  let executed = 0;
  let r0 = 0n;
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    const r = vm.run(mem);
    const ns = now() - t0;
    executed = r.executed;
    r0 = r.r0;
    samples.push(ns / r.executed);
  }
  const med = median(samples);

  // The two reduced interpreters on the same input: register representation alone.
  const dv = new DataView(mem.buffer);
  const reduced = (make: (p: readonly Insn[]) => MiniRun): number[] => {
    const f = make(aluProgram());
    const out: number[] = [];
    for (let i = 0; i < 12; i++) {
      const t0 = now();
      const r = f(0x1000, mem.length, dv, 0x1000);
      const ns = now() - t0;
      if (r.r0 !== r0 || r.executed !== executed) throw new Error(`reduced interpreter disagrees: 0x${r.r0.toString(16)} after ${r.executed}`);
      if (i >= 2) out.push(ns / r.executed);
    }
    return out;
  };
  const bigSamples = reduced(bigintInterpreter);
  const naiveSamples = reduced(bigintArrayInterpreter);
  const naiveMed = median(naiveSamples);
  const halfSamples = reduced(halvesInterpreter);
  const halfMed = median(halfSamples);
  const bigMed = median(bigSamples);

  // Per-run overhead: the nop benchmark's shape (return the input length), 64-byte input.
  const nop = new Vm([b.mov64(0, 2), b.exit()]);
  const nopSamples: number[] = [];
  for (let k = 0; k < 12; k++) {
    const N = 20_000;
    const t0 = now();
    for (let i = 0; i < N; i++) nop.run(mem);
    if (k >= 2) nopSamples.push((now() - t0) / N);
  }
  const nopMed = median(nopSamples);
  if (json) {
    console.log(JSON.stringify({ bench: 'interp-alu', clock: now === cpuNs ? 'cpu' : 'wall', executed, r0: `0x${r0.toString(16)}`, ns_per_insn: med, best_ns_per_insn: samples[0], ns_per_run: med * executed, reduced_bigint_ns_per_insn: bigMed, reduced_halves_ns_per_insn: halfMed, reduced_bigint_array_ns_per_insn: naiveMed, nop_ns_per_run: nopMed }));
  } else {
    console.log(`alu loop: ${executed} instructions executed per run, r0 = 0x${r0.toString(16)} (${now === cpuNs ? 'CPU time' : 'wall clock'})`);
    console.log(`interpreter: ${med.toFixed(2)} ns per executed instruction (median of ${runs}; best ${samples[0].toFixed(2)}), ${(med * executed / 1e6).toFixed(2)} ms per run`);
    console.log(`per-run overhead (2-instruction program, 64-byte input, Vm.run): ${nopMed.toFixed(0)} ns (median of ${nopSamples.length} x 20,000 runs)`);
    console.log(`reduced interpreters (this loop's operations only, no memory checks or budget), ns per executed instruction, median of 10 (best):`);
    console.log(`  registers as BigInt (BigUint64Array): ${bigMed.toFixed(2)} (${bigSamples[0].toFixed(2)})`);
    console.log(`  registers as BigInt (plain array, asUintN): ${naiveMed.toFixed(2)} (${naiveSamples[0].toFixed(2)})`);
    console.log(`  registers as Int32Array halves:       ${halfMed.toFixed(2)} (${halfSamples[0].toFixed(2)})`);
  }
}

// Run when executed, not when imported (aluProgram is reused by other benchmarks).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
