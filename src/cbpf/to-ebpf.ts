/**
 * Classic BPF to eBPF, following the kernel's bpf_convert_filter
 * (net/core/filter.c): A lives in r0, X in r7, the context in r6 (copied
 * from r1), M[k] in the 4-byte stack slot at r10 - (4k + 4), r2 is scratch.
 * A and X start at zero. Packet loads become the eBPF ldabs/ldind
 * instructions, which return 0 from the program when out of bounds, as cBPF
 * does. Ancillary loads read `struct __sk_buff` fields or call helpers.
 *
 * Where the kernel calls internal functions a loaded program may not call,
 * we use what a BPF_PROG_TYPE_SOCKET_FILTER program may use instead, so the
 * output loads with BPF_PROG_LOAD. SKF_AD_HATYPE, NLATTR, NLATTR_NEST and
 * PAY_OFFSET have no such equivalent and are refused. Two more departures
 * keep the eBPF verifier content: A and X are cleared with mov rather than
 * xor, and unreachable instructions (legal in cBPF) are left out.
 */
import type { AluOp, Insn, JmpCond, Reg } from '../isa/index.js';
import { ancillaryField, SKF_AD_OFF } from './ancillary.js';
import { checkClassic } from './check.js';
import { CbpfError } from './errors.js';
import type { SockFilter } from './insn.js';
import { SK_BUFF } from './skbuff.js';

/** A filter that is valid classic BPF but cannot be expressed as a loadable eBPF program. */
export class CbpfConvertError extends CbpfError {
  override readonly code = 'CBPF_CONVERT';
}

const A: Reg = 0;
const X: Reg = 7;
const TMP: Reg = 2;
const CTX: Reg = 6;
const FP: Reg = 10;

/** Helper ids (include/uapi/linux/bpf.h). */
const BPF_FUNC_get_prandom_u32 = 7;
const BPF_FUNC_get_smp_processor_id = 8;

const ALU: Record<number, AluOp> = {
  0x00: 'add', 0x10: 'sub', 0x20: 'mul', 0x30: 'div', 0x40: 'or', 0x50: 'and', 0x60: 'lsh', 0x70: 'rsh', 0x90: 'mod', 0xa0: 'xor',
};
const JMP: Record<number, JmpCond> = { 0x10: 'jeq', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset' };
const INVERTED: Partial<Record<JmpCond, JmpCond>> = { jeq: 'jne', jgt: 'jle', jge: 'jlt' };

/** An instruction, or a jump to the code of a cBPF instruction, resolved once all lengths are known. */
type Pending = Insn | { readonly target: number; readonly make: (off: number) => Insn };

const ldxw = (dst: Reg, src: Reg, off: number): Insn => ({ kind: 'ldx', size: 4, signExtend: false, dst, src, off });
const mov32k = (dst: Reg, k: number): Insn => ({ kind: 'alu', width: 32, op: 'mov', dst, src: { imm: k | 0 } });
const mov64r = (dst: Reg, src: Reg): Insn => ({ kind: 'alu', width: 64, op: 'mov', dst, src });
const exit: Insn = { kind: 'exit' };

export interface ConvertOptions {
  /** Skip the kernel's checker (the conversion still refuses what it cannot translate). */
  readonly unchecked?: boolean;
}

/** Convert a classic filter to an eBPF socket filter program. */
export function cbpfToEbpf(filter: readonly SockFilter[], opts: ConvertOptions = {}): Insn[] {
  if (!opts.unchecked) checkClassic(filter);
  // The kernel clears A and X with xor; the eBPF verifier refuses reading uninitialized registers, so mov 0.
  const out: Pending[] = [mov32k(A, 0), mov32k(X, 0), mov64r(CTX, 1)];
  const live = reachable(filter);
  const starts: number[] = [];
  filter.forEach((f, i) => {
    starts.push(out.length);
    // The eBPF verifier refuses unreachable code, which cBPF allows: leave it out.
    if (live[i]) out.push(...convertOne(f, i, filter.length));
  });
  starts.push(out.length);
  return out.map((p, pos) => {
    if (!('target' in p)) return p;
    const off = starts[p.target] - pos - 1;
    if (off < -0x8000 || off > 0x7fff) throw new CbpfConvertError(`jump offset ${off} does not fit in 16 bits`, starts.findIndex((s) => s > pos) - 1);
    return p.make(off);
  });
}

/** Which instructions some path from the first reaches (jumps only go forward). */
function reachable(filter: readonly SockFilter[]): boolean[] {
  const live = new Array<boolean>(filter.length).fill(false);
  if (filter.length) live[0] = true;
  const mark = (t: number) => {
    if (t < filter.length) live[t] = true;
  };
  filter.forEach((f, i) => {
    if (!live[i]) return;
    const cls = f.code & 0x07;
    if (cls === 0x06) return;
    if (f.code === 0x05) mark(i + 1 + (f.k >>> 0));
    else if (cls === 0x05) {
      mark(i + 1 + f.jt);
      mark(i + 1 + f.jf);
    } else mark(i + 1);
  });
  return live;
}

function convertOne(f: SockFilter, i: number, len: number): Pending[] {
  const k = f.k >>> 0;
  const code = f.code;
  const jumpTo = (target: number, make: (off: number) => Insn): Pending => {
    if (target >= len) throw new CbpfConvertError(`jump target ${target} is past the end of the program`, i);
    return { target, make };
  };
  const cls = code & 0x07;
  if (cls === 0x04 && code !== 0x84) {
    const op = ALU[code & 0xf0];
    if (op === undefined) throw new CbpfConvertError(`opcode 0x${code.toString(16)} is not a classic BPF instruction`, i);
    if (code & 0x08) {
      const guard: Pending[] = op === 'div' || op === 'mod'
        ? [
            { kind: 'alu', width: 32, op: 'mov', dst: X, src: X },
            { kind: 'jmp', width: 64, cond: 'jne', dst: X, src: { imm: 0 }, off: 2 },
            { kind: 'alu', width: 32, op: 'xor', dst: A, src: A },
            exit,
          ]
        : [];
      return [...guard, { kind: 'alu', width: 32, op, dst: A, src: X }];
    }
    return [{ kind: 'alu', width: 32, op, dst: A, src: { imm: k | 0 } }];
  }
  switch (code) {
    case 0x84: return [{ kind: 'neg', width: 32, dst: A }];
    case 0x20: case 0x28: case 0x30: {
      if (k >= SKF_AD_OFF) return convertAncillary(k, i);
      return [{ kind: 'ldabs', size: sizeOf(code), imm: k | 0 }];
    }
    case 0x40: case 0x48: case 0x50:
      return [{ kind: 'ldind', size: sizeOf(code), src: X, imm: k | 0 }];
    case 0xb1:
      return [
        mov64r(X, A),
        { kind: 'ldabs', size: 1, imm: k | 0 },
        { kind: 'alu', width: 32, op: 'and', dst: A, src: { imm: 0xf } },
        { kind: 'alu', width: 32, op: 'lsh', dst: A, src: { imm: 2 } },
        mov64r(TMP, X),
        mov64r(X, A),
        mov64r(A, TMP),
      ];
    case 0x06: return [mov32k(A, k), exit];
    case 0x16: return [exit];
    case 0x02: case 0x03:
      return [{ kind: 'stx', size: 4, dst: FP, src: code === 0x02 ? A : X, off: -(k * 4 + 4) }];
    case 0x60: case 0x61:
      return [ldxw(code === 0x60 ? A : X, FP, -(k * 4 + 4))];
    case 0x00: case 0x01: return [mov32k(code === 0x00 ? A : X, k)];
    case 0x07: return [mov64r(X, A)];
    case 0x87: return [mov64r(A, X)];
    case 0x80: case 0x81: return [ldxw(code === 0x80 ? A : X, CTX, SK_BUFF.len)];
    case 0x05: return [jumpTo(i + 1 + k, (off) => ({ kind: 'ja', long: false, off }))];
  }
  const cond = JMP[code & 0xf0];
  if (cls === 0x05 && cond !== undefined) {
    const out: Pending[] = [];
    let src: Reg | { imm: number };
    if (code & 0x08) src = X;
    else if (k >= 0x80000000) {
      // eBPF sign-extends immediates; compare with a zero-extended copy instead.
      out.push(mov32k(TMP, k));
      src = TMP;
    } else src = { imm: k };
    const j = (c: JmpCond, target: number) => jumpTo(target, (off) => ({ kind: 'jmp', width: 64, cond: c, dst: A, src, off }));
    const inv = INVERTED[cond];
    if (f.jf === 0) out.push(j(cond, i + 1 + f.jt));
    else if (f.jt === 0 && inv) out.push(j(inv, i + 1 + f.jf));
    else out.push(j(cond, i + 1 + f.jt), jumpTo(i + 1 + f.jf, (off) => ({ kind: 'ja', long: false, off })));
    return out;
  }
  throw new CbpfConvertError(`opcode 0x${code.toString(16)} is not a classic BPF instruction`, i);
}

const sizeOf = (code: number): 1 | 2 | 4 => ((code & 0x18) === 0x10 ? 1 : (code & 0x18) === 0x08 ? 2 : 4);

function convertAncillary(k: number, i: number): Insn[] {
  const field = ancillaryField(k);
  const be16: Insn = { kind: 'endian', order: 'be', bits: 16, dst: A };
  switch (field) {
    case 'protocol': return [ldxw(A, CTX, SK_BUFF.protocol), be16];
    case 'pkttype': return [ldxw(A, CTX, SK_BUFF.pkt_type)];
    case 'ifindex': return [ldxw(A, CTX, SK_BUFF.ifindex)];
    case 'mark': return [ldxw(A, CTX, SK_BUFF.mark)];
    case 'queue': return [ldxw(A, CTX, SK_BUFF.queue_mapping)];
    case 'rxhash': return [ldxw(A, CTX, SK_BUFF.hash)];
    case 'vlan_tag': return [ldxw(A, CTX, SK_BUFF.vlan_tci)];
    case 'vlan_tag_present': return [ldxw(A, CTX, SK_BUFF.vlan_present)];
    case 'vlan_tpid': return [ldxw(A, CTX, SK_BUFF.vlan_proto), be16];
    case 'alu_xor_x': return [{ kind: 'alu', width: 32, op: 'xor', dst: A, src: X }];
    case 'cpu': return [{ kind: 'call', helper: BPF_FUNC_get_smp_processor_id }];
    case 'random': return [{ kind: 'call', helper: BPF_FUNC_get_prandom_u32 }];
    case undefined:
      throw new CbpfConvertError(`unknown ancillary load SKF_AD_OFF+${k - SKF_AD_OFF}`, i);
    default:
      throw new CbpfConvertError(`ancillary load '${field}' has no equivalent a socket filter program may use`, i);
  }
}
