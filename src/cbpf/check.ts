/**
 * The kernel's checker for classic BPF (bpf_check_classic and
 * check_load_and_stores in net/core/filter.c): what SO_ATTACH_FILTER,
 * SO_ATTACH_REUSEPORT_CBPF and seccomp accept before any conversion.
 * Errors name the first instruction the kernel would stop at.
 */
import { SKF_AD_OFF, ancillaryField } from './ancillary.js';
import { CbpfCheckError } from './errors.js';
import { BPF_MAXINSNS, BPF_MEMWORDS, type SockFilter } from './insn.js';

/** Opcodes chk_code_allowed accepts (exact 16-bit values). */
export const ALLOWED_CODES: ReadonlySet<number> = new Set([
  // ALU: add sub mul div mod and or xor lsh rsh, with K and X; neg
  ...[0x00, 0x10, 0x20, 0x30, 0x90, 0x50, 0x40, 0xa0, 0x60, 0x70].flatMap((op) => [0x04 | op, 0x0c | op]),
  0x84,
  // LD/LDX
  0x20, 0x28, 0x30, 0x80, 0x40, 0x48, 0x50, 0x00, 0x60, 0x81, 0xb1, 0x01, 0x61,
  // ST, STX, TAX, TXA, RET K, RET A
  0x02, 0x03, 0x07, 0x87, 0x06, 0x16,
  // JA, JEQ/JGE/JGT/JSET with K and X
  0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d,
]);

const isCondJump = (code: number) => code === 0x15 || code === 0x1d || code === 0x25 || code === 0x2d ||
  code === 0x35 || code === 0x3d || code === 0x45 || code === 0x4d;

/** Throw CbpfCheckError where the kernel would return EINVAL; return normally if it would accept. */
export function checkClassic(filter: readonly SockFilter[]): void {
  const flen = filter.length;
  if (flen === 0) throw new CbpfCheckError('empty program', -1);
  if (flen > BPF_MAXINSNS) throw new CbpfCheckError(`${flen} instructions, more than the limit of ${BPF_MAXINSNS}`, -1);
  for (let pc = 0; pc < flen; pc++) {
    const { code, jt, jf } = filter[pc];
    const k = filter[pc].k >>> 0;
    const fail = (why: string): never => {
      throw new CbpfCheckError(why, pc);
    };
    if (!ALLOWED_CODES.has(code)) fail(`opcode 0x${code.toString(16)} is not allowed`);
    switch (code) {
      case 0x34: case 0x94:
        if (k === 0) fail(`${code === 0x34 ? 'division' : 'modulo'} by constant zero`);
        break;
      case 0x64: case 0x74:
        if (k >= 32) fail(`shift by ${k}, 32 or more`);
        break;
      case 0x60: case 0x61: case 0x02: case 0x03:
        if (k >= BPF_MEMWORDS) fail(`scratch memory index ${k} out of range 0..${BPF_MEMWORDS - 1}`);
        break;
      case 0x05:
        if (k >= flen - pc - 1) fail(`jump by ${k} goes past the end of the program`);
        break;
      case 0x20: case 0x28: case 0x30:
        if (k >= SKF_AD_OFF && ancillaryField(k) === undefined) fail(`unknown ancillary load SKF_AD_OFF+${k - SKF_AD_OFF}`);
        break;
      default:
        if (isCondJump(code) && (pc + jt + 1 >= flen || pc + jf + 1 >= flen)) {
          fail(`jump target ${pc + 1 + Math.max(jt, jf)} is past the end of the program`);
        }
    }
  }
  const last = filter[flen - 1].code;
  if (last !== 0x06 && last !== 0x16) throw new CbpfCheckError('the last instruction is not a return', flen - 1);
  checkLoadsAndStores(filter);
}

/** Every read of M[k] must follow a write of M[k] on every path (check_load_and_stores). */
function checkLoadsAndStores(filter: readonly SockFilter[]): void {
  const flen = filter.length;
  const masks = new Uint16Array(flen).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < flen; pc++) {
    valid &= masks[pc];
    const { code, jt, jf } = filter[pc];
    const k = filter[pc].k >>> 0;
    switch (code) {
      case 0x02: case 0x03:
        valid |= 1 << k;
        break;
      case 0x60: case 0x61:
        if (!(valid & (1 << k))) throw new CbpfCheckError(`M[${k}] may be read before it is written`, pc);
        break;
      case 0x05:
        masks[pc + 1 + k] &= valid;
        valid = 0xffff;
        break;
      default:
        if (isCondJump(code)) {
          masks[pc + 1 + jt] &= valid;
          masks[pc + 1 + jf] &= valid;
          valid = 0xffff;
        }
    }
  }
}

/** True when the kernel would accept the program. */
export function isValidClassic(filter: readonly SockFilter[]): boolean {
  try {
    checkClassic(filter);
    return true;
  } catch (e) {
    if (e instanceof CbpfCheckError) return false;
    throw e;
  }
}
