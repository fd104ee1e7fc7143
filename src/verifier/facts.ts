/**
 * What an accepted program's proof tells an execution engine: per
 * instruction, facts that hold on every path the verifier explored, so an
 * interpreter or JIT given a verified program may drop the matching runtime
 * checks (memory bounds, division by zero, dead code). Collected only when
 * VerifyOptions.facts is set; see VerifyResult.facts.
 */
import type { Insn } from '../isa/index.js';
import type { RegState } from './reg-state.js';

/** Region kinds a memory instruction may touch, as bits of VerifiedFacts.memRegion. */
export const REGION = { stack: 1, ctx: 2, packet: 4, map_value: 8, map_key: 16, mem: 32 } as const;
export type RegionKind = keyof typeof REGION;

export interface VerifiedFacts {
  /** Per 8-byte slot: 1 when some path reaches it. An engine may compile unreached slots to a trap. */
  readonly reached: Uint8Array;
  /**
   * Per slot of a load, store or atomic: the REGION bits of the region its
   * address pointed into on any path (0 elsewhere). Every access was proven
   * within its region's bounds (stack frame, context field, packet range
   * checked against data_end, map value/key size, helper memory size), so
   * with exactly one bit set the engine can translate the address for that
   * region and skip its bounds check.
   */
  readonly memRegion: Uint8Array;
  /** Per slot of a div/mod by a register: 1 when the divisor was proven non-zero on every path. */
  readonly divisorNonZero: Uint8Array;
  /** Bytes of stack the deepest call chain uses (the kernel's stack depth check). */
  readonly stackDepth: number;
}

/** The region kinds set in a memRegion entry. */
export function regionsOf(bits: number): RegionKind[] {
  return (Object.keys(REGION) as RegionKind[]).filter((k) => (bits & REGION[k]) !== 0);
}

/** Collects facts during verification; one per verify() call. */
export class FactsRecorder {
  readonly reached: Uint8Array;
  readonly memRegion: Uint8Array;
  /** 1 where a path may divide by zero. */
  private readonly divMayBeZero: Uint8Array;

  constructor(readonly slots: number) {
    this.reached = new Uint8Array(slots);
    this.memRegion = new Uint8Array(slots);
    this.divMayBeZero = new Uint8Array(slots);
  }

  /** Before the instruction at `idx` is checked, with the registers it reads (`regs` of the current frame). */
  record(idx: number, insn: Insn, regs: readonly RegState[]): void {
    this.reached[idx] = 1;
    switch (insn.kind) {
      case 'ldx': this.memRegion[idx] |= regionBit(regs[insn.src]); return;
      case 'st': case 'stx': this.memRegion[idx] |= regionBit(regs[insn.dst]); return;
      case 'atomic': this.memRegion[idx] |= regionBit(regs[insn.op === 'load_acquire' ? insn.src : insn.dst]); return;
      case 'alu': {
        if ((insn.op !== 'div' && insn.op !== 'mod') || typeof insn.src !== 'number') return;
        const d = regs[insn.src];
        const nonZero = d.type === 'scalar' && (insn.width === 64 ? d.v.umin > 0n : d.v.u32min > 0n);
        if (!nonZero) this.divMayBeZero[idx] = 1;
        return;
      }
      default:
    }
  }

  finish(stackDepth: number): VerifiedFacts {
    const divisorNonZero = new Uint8Array(this.slots);
    for (let i = 0; i < this.slots; i++) divisorNonZero[i] = this.reached[i] && !this.divMayBeZero[i] ? 1 : 0;
    return { reached: this.reached, memRegion: this.memRegion, divisorNonZero, stackDepth };
  }
}

function regionBit(r: RegState | undefined): number {
  switch (r?.type) {
    case 'fp': return REGION.stack;
    case 'ctx': return REGION.ctx;
    case 'pkt': case 'pkt_meta': return REGION.packet;
    case 'map_value': return REGION.map_value;
    case 'map_key': return REGION.map_key;
    case 'mem': return REGION.mem;
    default: return 0;
  }
}
