/**
 * Random valid instructions and programs for property tests and fuzzers.
 *
 * Every value `randomInsn` returns is canonical: it encodes, and decoding
 * its bytes gives a deep-equal value (xchg and cmpxchg always fetch, lddw
 * immediates are unsigned, fields within their wire ranges). Edge values
 * (0, -1, the extremes of each field) come up often on purpose.
 */
import type { AluOp, AtomicOp, Insn, InsnKind, JmpCond, LddwPseudo, Reg, Size, Width } from '../../src/isa/index.js';

/** A small seeded PRNG (xorshift32 seeded through splitmix32): the same seed gives the same values. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    let z = (seed + 0x9e3779b9) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.s = (z ^ (z >>> 16)) | 1;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
  /** 0 <= n < bound */
  int(bound: number): number {
    return Math.floor((this.u32() / 0x100000000) * bound);
  }
  bool(): boolean {
    return (this.u32() & 1) === 1;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

export const INSN_KINDS: readonly InsnKind[] = [
  'alu', 'neg', 'movsx', 'endian', 'lddw', 'ldabs', 'ldind', 'ldx', 'st', 'stx', 'atomic',
  'jmp', 'ja', 'call', 'call_local', 'call_kfunc', 'callx', 'may_goto', 'exit',
];
export const ALU_OPS: readonly AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
export const JMP_CONDS: readonly JmpCond[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
export const PSEUDOS: readonly LddwPseudo[] = ['imm', 'map_fd', 'map_value', 'btf_id', 'func', 'map_idx', 'map_idx_value'];
const SIZES: readonly Size[] = [1, 2, 4, 8];
const PACKET_SIZES = [1, 2, 4] as const;
const WIDTHS: readonly Width[] = [32, 64];

export const reg = (r: Rng): Reg => r.int(11) as Reg;

/** A signed 32-bit value, often an edge case. */
export function s32(r: Rng): number {
  switch (r.int(6)) {
    case 0: return r.pick([0, 1, -1, 2, 10, 11, -10, -11, 0x7fffffff, -0x80000000, 0xff, 0xffff, -0x8000]);
    case 1: return r.int(64) - 32;
    case 2: return r.int(0x10000) - 0x8000;
    default: return r.u32() | 0;
  }
}

/** A signed 16-bit value, often an edge case. */
export function s16(r: Rng): number {
  switch (r.int(4)) {
    case 0: return r.pick([0, 1, -1, 0x7fff, -0x8000, 8, -8]);
    case 1: return r.int(64) - 32;
    default: return (r.u32() << 16) >> 16;
  }
}

function u64(r: Rng): bigint {
  switch (r.int(4)) {
    case 0: return r.pick([0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn]);
    case 1: return BigInt(r.u32());
    default: return (BigInt(r.u32()) << 32n) | BigInt(r.u32());
  }
}

export interface InsnGenOptions {
  /** Only these kinds (default: all). */
  readonly kinds?: readonly InsnKind[];
  /** Jump and call offsets come from this function (default: random in range). */
  readonly offset?: (r: Rng, wide: boolean) => number;
}

/** One random canonical instruction. */
export function randomInsn(r: Rng, opts: InsnGenOptions = {}): Insn {
  const kind = r.pick(opts.kinds ?? INSN_KINDS);
  const off = (wide: boolean): number => opts.offset?.(r, wide) ?? (wide ? s32(r) : s16(r));
  switch (kind) {
    case 'alu':
      return { kind, width: r.pick(WIDTHS), op: r.pick(ALU_OPS), dst: reg(r), src: r.bool() ? reg(r) : { imm: s32(r) } };
    case 'neg':
      return { kind, width: r.pick(WIDTHS), dst: reg(r) };
    case 'movsx': {
      const width = r.pick(WIDTHS);
      return { kind, width, bits: width === 32 ? r.pick([8, 16] as const) : r.pick([8, 16, 32] as const), dst: reg(r), src: reg(r) };
    }
    case 'endian':
      return { kind, order: r.pick(['le', 'be', 'swap'] as const), bits: r.pick([16, 32, 64] as const), dst: reg(r) };
    case 'lddw':
      return { kind, dst: reg(r), pseudo: r.int(3) === 0 ? r.pick(PSEUDOS) : 'imm', imm: u64(r) };
    // Legacy packet loads come in 1, 2 and 4 bytes only (RFC 9669 5.5; Linux rejects BPF_DW).
    case 'ldabs':
      return { kind, size: r.pick(PACKET_SIZES), imm: s32(r) };
    case 'ldind':
      return { kind, size: r.pick(PACKET_SIZES), src: reg(r), imm: s32(r) };
    case 'ldx': {
      const signExtend = r.bool();
      return { kind, size: signExtend ? r.pick([1, 2, 4] as const) : r.pick(SIZES), signExtend, dst: reg(r), src: reg(r), off: s16(r) };
    }
    case 'st':
      return { kind, size: r.pick(SIZES), dst: reg(r), off: s16(r), imm: s32(r) };
    case 'stx':
      return { kind, size: r.pick(SIZES), dst: reg(r), src: reg(r), off: s16(r) };
    case 'atomic': {
      const op: AtomicOp = r.pick(['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg', 'load_acquire', 'store_release']);
      const ordered = op === 'load_acquire' || op === 'store_release';
      const size: Size = ordered ? r.pick(SIZES) : r.pick([4, 8] as const);
      const fetch = op === 'xchg' || op === 'cmpxchg' ? true : ordered ? false : r.bool();
      return { kind, size, op, fetch, dst: reg(r), src: reg(r), off: s16(r) };
    }
    case 'jmp':
      return { kind, width: r.pick(WIDTHS), cond: r.pick(JMP_CONDS), dst: reg(r), src: r.bool() ? reg(r) : { imm: s32(r) }, off: off(false) };
    case 'ja': {
      const long = r.int(4) === 0;
      return { kind, long, off: off(long) };
    }
    case 'call':
      return { kind, helper: r.int(3) === 0 ? s32(r) : r.int(212) };
    case 'call_local':
      return { kind, off: off(true) };
    case 'call_kfunc':
      return { kind, btfId: s32(r), module: r.bool() ? 0 : s16(r) };
    case 'callx':
      return { kind, dst: reg(r) };
    case 'may_goto':
      return { kind, off: off(false) };
    case 'exit':
      return { kind };
  }
}

const BRANCHES = new Set<InsnKind>(['jmp', 'ja', 'may_goto', 'call_local']);

/**
 * A random program of `n` instructions whose jumps and local calls all land
 * on instruction starts inside it, so `decode` with target checks accepts it.
 */
export function randomProgram(r: Rng, n: number, opts: { kinds?: readonly InsnKind[] } = {}): Insn[] {
  const shapes = Array.from({ length: n }, () => randomInsn(r, { kinds: opts.kinds, offset: () => 0 }));
  const starts: number[] = [];
  let slot = 0;
  for (const insn of shapes) {
    starts.push(slot);
    slot += insn.kind === 'lddw' ? 2 : 1;
  }
  return shapes.map((insn, i) => {
    if (!BRANCHES.has(insn.kind)) return insn;
    const target = starts[r.int(n)];
    const off = target - (starts[i] + 1);
    const wide = insn.kind === 'call_local' || (insn.kind === 'ja' && insn.long);
    if (!wide && (off < -0x8000 || off > 0x7fff)) return { kind: 'exit' } as Insn;
    return { ...insn, off } as Insn;
  });
}
