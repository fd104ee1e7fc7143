/**
 * Classic BPF to eBPF for running on the VM, not for loading into the
 * kernel (that is cbpfToEbpf, with the kernel's rules). The program follows
 * the conformance convention the JIT calls fastest: r1 = the packet's
 * address, r2 = its captured length. Packet loads are plain `ldx` from r1,
 * each preceded by an explicit check against r2 that returns 0 when it
 * fails, and byte-swapped with `endian be`: libpcap's semantics (bpf_filter.c)
 * without a call out of the program per load, as ldabs/ldind would make.
 *
 * A lives in r0, X in r7, M[k] in the stack word at r10 - (4k + 4). The wire
 * length (`ld #len`) is the 32-bit word just before the packet, at r1 - 4:
 * where a pcap record header keeps it, so a whole chunk of a capture file
 * can be filtered where it lies. Division by zero and loads out of bounds
 * return 0; shifts by 32 or more give 0, as libpcap's. Ancillary loads
 * (SKF_AD_*) are the constants of `skb` (a capture file has no skb
 * metadata), except alu_xor_x; nlattr, nlattr_nest and random are refused,
 * as are backward jumps (protochain), which only the cBPF interpreter runs.
 */
import type { AluOp, Insn, JmpCond, Reg, Size } from '../isa/index.js';
import { ancillaryField, SKF_AD_OFF } from './ancillary.js';
import { BPF_MEMWORDS, type SockFilter } from './insn.js';
import type { SkbMeta } from './run.js';
import { CbpfConvertError } from './to-ebpf.js';

export interface DirectConvertOptions {
  /** Byte order of the wire length at r1 - 4 (a pcap file's own order; default little-endian). */
  readonly wirelenBigEndian?: boolean;
  /** The values ancillary loads give (all 0 by default). */
  readonly skb?: SkbMeta;
}

const A: Reg = 0;
const P: Reg = 1;
const LEN: Reg = 2;
const TMP: Reg = 3;
const END: Reg = 4;
const X: Reg = 7;
const FP: Reg = 10;

/** Label of the shared `return 0` block after the program. */
const RET0 = -1;
/** Label of the end of an inline body (cbpfToEbpfBody), where the verdict is in r0. */
const END_LABEL = -2;

type Pending = Insn | { readonly target: number; readonly make: (off: number) => Insn };

const ALU: Record<number, AluOp> = {
  0x00: 'add', 0x10: 'sub', 0x20: 'mul', 0x30: 'div', 0x40: 'or', 0x50: 'and', 0x60: 'lsh', 0x70: 'rsh', 0x90: 'mod', 0xa0: 'xor',
};
const JMP: Record<number, JmpCond> = { 0x10: 'jeq', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset' };
const INVERTED: Partial<Record<JmpCond, JmpCond>> = { jeq: 'jne', jgt: 'jle', jge: 'jlt' };

const mov32k = (dst: Reg, k: number): Insn => ({ kind: 'alu', width: 32, op: 'mov', dst, src: { imm: k | 0 } });
const mov64r = (dst: Reg, src: Reg): Insn => ({ kind: 'alu', width: 64, op: 'mov', dst, src });
const exit: Insn = { kind: 'exit' };
const toRet0 = (make: (off: number) => Insn): Pending => ({ target: RET0, make });
const ja = (off: number): Insn => ({ kind: 'ja', long: false, off });

/** Convert a classic filter (libpcap semantics) to an eBPF program taking (packet, caplen). */
export function cbpfToEbpfDirect(filter: readonly SockFilter[], opts: DirectConvertOptions = {}): Insn[] {
  return lowerFilter(filter, opts, false);
}

/**
 * The same code as a piece to embed in a larger program (a loop over
 * records): it expects r1 = packet, r2 = caplen, may use r0-r4, r7 and the
 * top 64 bytes of the stack, and where the filter returns it goes on past
 * its last instruction with the verdict in r0 (so appending code is enough).
 */
export function cbpfToEbpfBody(filter: readonly SockFilter[], opts: DirectConvertOptions = {}): Insn[] {
  return lowerFilter(filter, opts, true);
}

function lowerFilter(filter: readonly SockFilter[], opts: DirectConvertOptions, inline: boolean): Insn[] {
  if (filter.length === 0) throw new CbpfConvertError('the program is empty', 0);
  // How a return ends: the program's exit, or a jump to the end of the body.
  const leave: Pending = inline ? { target: END_LABEL, make: ja } : exit;
  const ret0: Pending[] = [mov32k(A, 0), leave];
  const live = reachable(filter);
  const out: Pending[] = [mov32k(A, 0), mov32k(X, 0)];
  // Scratch words the program reads start at 0, as libpcap's; the stack may hold the previous run's.
  const read = new Set<number>();
  filter.forEach((f, i) => {
    if (live[i] && (f.code === 0x60 || f.code === 0x61)) read.add(f.k >>> 0);
  });
  for (const k of [...read].sort((a, b) => a - b)) {
    if (k < BPF_MEMWORDS) out.push({ kind: 'st', size: 4, dst: FP, off: -(k * 4 + 4), imm: 0 });
  }
  const starts: number[] = [];
  filter.forEach((f, i) => {
    starts.push(out.length);
    if (live[i]) out.push(...convertOne(f, i, opts, leave, ret0));
  });
  const ret0At = out.length;
  // Inline, the return-0 block falls through to the end.
  out.push(...(inline ? [mov32k(A, 0)] : ret0));
  const endAt = out.length;
  return out.map((p, pos) => {
    if (!('target' in p)) return p;
    const off = (p.target === RET0 ? ret0At : p.target === END_LABEL ? endAt : starts[p.target]) - pos - 1;
    if (off < -0x8000 || off > 0x7fff) throw new CbpfConvertError(`jump offset ${off} does not fit in 16 bits`, starts.findIndex((s) => s > pos) - 1);
    return p.make(off);
  });
}

/** Which instructions some path from the first reaches; refuses backward jumps and running off the end. */
function reachable(filter: readonly SockFilter[]): boolean[] {
  const n = filter.length;
  const live = new Array<boolean>(n).fill(false);
  live[0] = true;
  const mark = (from: number, t: number) => {
    if (t >= n) throw new CbpfConvertError(`jump target ${t} is past the end of the program`, from);
    live[t] = true;
  };
  filter.forEach((f, i) => {
    if (!live[i]) return;
    const cls = f.code & 0x07;
    if (cls === 0x06) return;
    if (f.code === 0x05) {
      if (f.k >>> 0 >= 0x80000000) throw new CbpfConvertError('backward jumps only run on the classic BPF interpreter', i);
      mark(i, i + 1 + (f.k >>> 0));
    } else if (cls === 0x05) {
      mark(i, i + 1 + f.jt);
      mark(i, i + 1 + f.jf);
    } else if (i + 1 >= n) throw new CbpfConvertError('execution runs past the last instruction', i);
    else live[i + 1] = true;
  });
  return live;
}

const sizeOf = (code: number): 1 | 2 | 4 => ((code & 0x18) === 0x10 ? 1 : (code & 0x18) === 0x08 ? 2 : 4);

/** dst = the big-endian value of `size` bytes at base + off (off a valid 16-bit offset). */
function load(dst: Reg, base: Reg, off: number, size: Size): Insn[] {
  const ld: Insn = { kind: 'ldx', size, signExtend: false, dst, src: base, off };
  return size === 1 ? [ld] : [ld, { kind: 'endian', order: 'be', bits: size === 2 ? 16 : 32, dst }];
}

/** dst = packet[k..k+size), or return 0 when past the captured length. */
function absolute(dst: Reg, k: number, size: 1 | 2 | 4, ret0: readonly Pending[]): Pending[] {
  // Past 2^31 nothing is ever captured (and the immediate would sign-extend).
  if (k + size > 0x7fffffff) return [...ret0];
  const check = toRet0((off) => ({ kind: 'jmp', width: 64, cond: 'jlt', dst: LEN, src: { imm: k + size }, off }));
  if (k <= 0x7fff) return [check, ...load(dst, P, k, size)];
  return [check, mov64r(TMP, P), { kind: 'alu', width: 64, op: 'add', dst: TMP, src: { imm: k } }, ...load(dst, TMP, 0, size)];
}

function convertOne(f: SockFilter, i: number, opts: DirectConvertOptions, leave: Pending, ret0: readonly Pending[]): Pending[] {
  const k = f.k >>> 0;
  const code = f.code;
  const cls = code & 0x07;
  const jumpTo = (target: number, make: (off: number) => Insn): Pending => ({ target, make });
  if (cls === 0x04 && code !== 0x84) {
    const op = ALU[code & 0xf0];
    if (op === undefined) throw new CbpfConvertError(`opcode 0x${code.toString(16)} is not a classic BPF instruction`, i);
    if (code & 0x08) {
      if (op === 'div' || op === 'mod') {
        return [toRet0((off) => ({ kind: 'jmp', width: 64, cond: 'jeq', dst: X, src: { imm: 0 }, off })), { kind: 'alu', width: 32, op, dst: A, src: X }];
      }
      if (op === 'lsh' || op === 'rsh') {
        // eBPF masks the count; libpcap's C gives 0 for 32 and more.
        return [
          { kind: 'jmp', width: 64, cond: 'jlt', dst: X, src: { imm: 32 }, off: 2 },
          mov32k(A, 0),
          ja(1),
          { kind: 'alu', width: 32, op, dst: A, src: X },
        ];
      }
      return [{ kind: 'alu', width: 32, op, dst: A, src: X }];
    }
    if ((op === 'div' || op === 'mod') && k === 0) return [...ret0];
    if ((op === 'lsh' || op === 'rsh') && k >= 32) return [mov32k(A, 0)];
    return [{ kind: 'alu', width: 32, op, dst: A, src: { imm: k | 0 } }];
  }
  switch (code) {
    case 0x84: return [{ kind: 'neg', width: 32, dst: A }];
    case 0x20: case 0x28: case 0x30:
      if (k >= SKF_AD_OFF) return ancillary(k, i, opts.skb ?? {}, ret0);
      return absolute(A, k, sizeOf(code), ret0);
    case 0x40: case 0x48: case 0x50: {
      const size = sizeOf(code);
      // X + k without wrapping (64-bit), as libpcap's check sees it.
      return [
        mov32k(TMP, k),
        { kind: 'alu', width: 64, op: 'add', dst: TMP, src: X },
        mov64r(END, TMP),
        { kind: 'alu', width: 64, op: 'add', dst: END, src: { imm: size } },
        toRet0((off) => ({ kind: 'jmp', width: 64, cond: 'jgt', dst: END, src: LEN, off })),
        { kind: 'alu', width: 64, op: 'add', dst: TMP, src: P },
        ...load(A, TMP, 0, size),
      ];
    }
    case 0xb1:
      return [
        ...absolute(X, k, 1, ret0),
        { kind: 'alu', width: 32, op: 'and', dst: X, src: { imm: 0xf } },
        { kind: 'alu', width: 32, op: 'lsh', dst: X, src: { imm: 2 } },
      ];
    case 0x06: return [mov32k(A, k), leave];
    case 0x16: return [leave];
    case 0x02: case 0x03: case 0x60: case 0x61: {
      if (k >= BPF_MEMWORDS) throw new CbpfConvertError(`scratch memory index ${k} is out of range`, i);
      const off = -(k * 4 + 4);
      if (code === 0x02 || code === 0x03) return [{ kind: 'stx', size: 4, dst: FP, src: code === 0x02 ? A : X, off }];
      return [{ kind: 'ldx', size: 4, signExtend: false, dst: code === 0x60 ? A : X, src: FP, off }];
    }
    case 0x00: case 0x01: return [mov32k(code === 0x00 ? A : X, k)];
    case 0x07: return [mov64r(X, A)];
    case 0x87: return [mov64r(A, X)];
    case 0x80: case 0x81: {
      const dst = code === 0x80 ? A : X;
      const ld: Insn = { kind: 'ldx', size: 4, signExtend: false, dst, src: P, off: -4 };
      return opts.wirelenBigEndian ? [ld, { kind: 'endian', order: 'be', bits: 32, dst }] : [ld];
    }
    case 0x05: return [jumpTo(i + 1 + k, ja)];
  }
  const cond = JMP[code & 0xf0];
  if (cls === 0x05 && cond !== undefined) {
    // 32-bit compares: A, X and k are all unsigned 32-bit values.
    const src = code & 0x08 ? X : { imm: k | 0 };
    const j = (c: JmpCond, target: number) => jumpTo(target, (off) => ({ kind: 'jmp', width: 32, cond: c, dst: A, src, off }));
    const inv = INVERTED[cond];
    if (f.jf === 0) return [j(cond, i + 1 + f.jt)];
    if (f.jt === 0 && inv) return [j(inv, i + 1 + f.jf)];
    return [j(cond, i + 1 + f.jt), jumpTo(i + 1 + f.jf, ja)];
  }
  throw new CbpfConvertError(`opcode 0x${code.toString(16)} is not a classic BPF instruction`, i);
}

/** An ancillary load: a constant of the packet's metadata (or A ^ X). */
function ancillary(k: number, i: number, skb: SkbMeta, ret0: readonly Pending[]): Pending[] {
  const field = ancillaryField(k);
  const value = (v: number): Pending[] => [mov32k(A, v)];
  switch (field) {
    case 'protocol': return value((skb.protocol ?? 0) & 0xffff);
    case 'pkttype': return value((skb.pkttype ?? 0) & 7);
    case 'ifindex': return value(skb.ifindex ?? 0);
    case 'mark': return value(skb.mark ?? 0);
    case 'queue': return value((skb.queue ?? 0) & 0xffff);
    case 'hatype': return value((skb.hatype ?? 0) & 0xffff);
    case 'rxhash': return value(skb.rxhash ?? 0);
    case 'cpu': return value(skb.cpu ?? 0);
    case 'vlan_tag': return value((skb.vlanTci ?? 0) & 0xffff);
    case 'vlan_tag_present': return value(skb.vlanPresent ? 1 : 0);
    case 'vlan_tpid': return value((skb.vlanTpid ?? 0) & 0xffff);
    case 'pay_offset': return value(skb.payOffset ?? 0);
    case 'alu_xor_x': return [{ kind: 'alu', width: 32, op: 'xor', dst: A, src: X }];
    case undefined:
      // libpcap: an offset no packet reaches.
      return [...ret0];
    default:
      throw new CbpfConvertError(`ancillary load '${field}' is not supported on the VM`, i);
  }
}
