/**
 * The verifier log, byte for byte in the kernel's format (kernel/bpf/log.c):
 * register and stack printing, the `;` column after an instruction, and the
 * resets the kernel does when a path is abandoned at log level 1.
 */
import { S32_MAX, S32_MIN, S64_MAX, S64_MIN, u64, type Scalar } from './bounds.js';
import { type RegState, regTypeStr } from './reg-state.js';
import { tnumIsConst, tnumIsUnknown, tnumStr } from './tnum.js';
import type { Frame, VState } from './state.js';

const isUnumDecimal = (v: bigint): boolean => v <= 0xffffn;
const isSnumDecimal = (v: bigint): boolean => v >= -0x8000n && v <= 0x7fffn;

export const unum = (v: bigint): string => (isUnumDecimal(u64(v)) ? `${u64(v)}` : `0x${u64(v).toString(16)}`);
export const snum = (v: bigint): string => (isSnumDecimal(v) ? `${v}` : `0x${u64(v).toString(16)}`);

function scalarRanges(s: Scalar, parts: string[]): void {
  const m: { name: string; val: bigint; omit: boolean; signed: boolean }[] = [
    { name: 'smin', val: s.smin, omit: s.smin === S64_MIN, signed: true },
    { name: 'smax', val: s.smax, omit: s.smax === S64_MAX, signed: true },
    { name: 'umin', val: s.umin, omit: s.umin === 0n, signed: false },
    { name: 'umax', val: s.umax, omit: s.umax === (1n << 64n) - 1n, signed: false },
    { name: 'smin32', val: isSnumDecimal(s.s32min) ? s.s32min : BigInt.asUintN(32, s.s32min), omit: s.s32min === S32_MIN, signed: true },
    { name: 'smax32', val: isSnumDecimal(s.s32max) ? s.s32max : BigInt.asUintN(32, s.s32max), omit: s.s32max === S32_MAX, signed: true },
    { name: 'umin32', val: s.u32min, omit: s.u32min === 0n, signed: false },
    { name: 'umax32', val: s.u32max, omit: s.u32max === 0xffffffffn, signed: false },
  ];
  // The kernel compares the u64 bit patterns.
  const bits = (x: bigint): bigint => u64(x);
  for (let i = 0; i < m.length; i++) {
    const a = m[i];
    if (a.omit) continue;
    const neg1 = a.signed && a.val < 0n;
    let text = `${a.name}=`;
    for (let j = i + 2; j < m.length; j += 2) {
      const b = m[j];
      if (b.omit || bits(b.val) !== bits(a.val)) continue;
      const neg2 = b.signed && b.val < 0n;
      if (neg1 !== neg2) continue;
      b.omit = true;
      text += `${b.name}=`;
    }
    text += a.signed ? snum(a.val) : unum(a.val);
    parts.push(text);
  }
}

/** One register as the kernel prints it after `R1=`. */
export function regStr(r: RegState, frameno: number): string {
  if (r.type === 'scalar' && tnumIsConst(r.v.varOff)) return `${r.precise ? 'P' : ''}${snum(BigInt.asIntN(64, r.v.varOff.value))}`;
  let out = r.type === 'scalar' && r.precise ? 'P' : '';
  out += regTypeStr(r);
  if (r.type === 'not_init') return out;
  if (r.type === 'fp') {
    if (r.frameno !== frameno) out += `[${r.frameno}]`;
    if (tnumIsConst(r.v.varOff)) return out + snum(BigInt.asIntN(64, r.v.varOff.value) + BigInt(r.off));
  }
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.type === 'mem' && r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if (r.type === 'map_ptr' || r.type === 'map_value' || r.type === 'map_key') {
    if (r.map.name) parts.push(`map=${r.map.name}`);
    parts.push(`ks=${r.map.keySize},vs=${r.map.valueSize}`);
  }
  if (r.type !== 'scalar' && r.off) parts.push(`off=${snum(BigInt(r.off))}`);
  if (r.type === 'pkt' || r.type === 'pkt_meta') parts.push(`r=${unum(BigInt(r.range))}`);
  if (r.type === 'mem') parts.push(`sz=${r.size}`);
  if (tnumIsConst(r.v.varOff)) {
    if (r.v.varOff.value) parts.push(`imm=${snum(BigInt.asIntN(64, r.v.varOff.value))}`);
  } else {
    scalarRanges(r.v, parts);
    if (!tnumIsUnknown(r.v.varOff)) parts.push(`var_off=${tnumStr(r.v.varOff)}`);
  }
  return `${out}(${parts.join(',')})`;
}

/** The kernel's print_verifier_state for one frame (without the trailing newline). */
export function frameStr(f: Frame, scratchedRegs: number | 'all', scratchedSlots: bigint | 'all', refs: readonly { id: number }[]): string {
  let out = f.frameno ? ` frame${f.frameno}:` : '';
  f.regs.forEach((r, i) => {
    if (r.type === 'not_init') return;
    if (scratchedRegs !== 'all' && !(scratchedRegs & (1 << i))) return;
    out += ` R${i}=${regStr(r, f.frameno)}`;
  });
  f.stack.forEach((slot, spi) => {
    if (slot.types === '????????') return;
    if (scratchedSlots !== 'all' && !(scratchedSlots & (1n << BigInt(spi)))) return;
    const where = `fp${-(spi + 1) * 8}`;
    // A partial spill prints the other bytes' marks, then the spilled register.
    if (slot.types[7] === 'r') out += ` ${where}=${slot.types.replace(/r/g, '')}${regStr(slot.spilled, f.frameno)}`;
    else out += ` ${where}=${slot.types}`;
  });
  if (refs.length) out += ` refs=${refs.map((r) => r.id).join(',')}`;
  return out;
}

export function stateStr(s: VState, frameIdx: number, regs: number | 'all', slots: bigint | 'all'): string {
  return frameStr(s.frames[frameIdx], regs, slots, s.refs);
}

/** A text buffer with the kernel's positional resets. */
export class VerifierLog {
  private buf: string[] = [];
  private len = 0;
  /** Where the last instruction line started and how long it was (for the `;` column). */
  prevLogPos = 0;
  prevInsnPrintPos = 0;
  constructor(readonly level: 0 | 1 | 2) {}

  get pos(): number {
    return this.len;
  }

  write(s: string): void {
    if (this.level === 0) return;
    this.buf.push(s);
    this.len += s.length;
  }

  reset(pos: number): void {
    if (this.level === 0 || pos >= this.len) return;
    const text = this.text().slice(0, pos);
    this.buf = [text];
    this.len = pos;
  }

  text(): string {
    if (this.buf.length > 1) this.buf = [this.buf.join('')];
    return this.buf[0] ?? '';
  }

  /** Pad to the `;` column after an instruction line (bpf_vlog_alignment). */
  alignment(): string {
    const pos = this.prevInsnPrintPos;
    const width = Math.ceil(Math.max(pos + 4, 40) / 8) * 8 - pos - 1;
    return ' '.repeat(Math.max(width, 1));
  }
}
