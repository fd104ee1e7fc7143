/**
 * `struct seccomp_data`, the record a seccomp filter reads:
 *
 *     struct seccomp_data {
 *       int   nr;                    // offset 0
 *       __u32 arch;                  // offset 4, AUDIT_ARCH_*
 *       __u64 instruction_pointer;   // offset 8
 *       __u64 args[6];               // offset 16 + 8 * i
 *     };                             // 64 bytes
 *
 * A filter can only load aligned 32-bit words (`ld [k]`), in the task's
 * native byte order, so a 64-bit field is two words whose order depends on
 * the architecture's endianness.
 */
export interface SeccompData {
  /** System call number, as an unsigned 32-bit value (negative numbers wrap). */
  readonly nr: number;
  /** AUDIT_ARCH_* of the calling convention. */
  readonly arch: number;
  readonly instructionPointer: bigint;
  /** Six 64-bit arguments; missing ones read as 0. */
  readonly args: readonly bigint[];
}

export type Endian = 'little' | 'big';

export const SECCOMP_DATA_SIZE = 64;
export const OFFSET_NR = 0;
export const OFFSET_ARCH = 4;
export const OFFSET_IP = 8;
export const OFFSET_ARGS = 16;

const MASK64 = (1n << 64n) - 1n;

/** Offsets of the low and high words of args[index] for a given byte order. */
export function argWordOffsets(index: number, endian: Endian): { lo: number; hi: number } {
  const base = OFFSET_ARGS + 8 * index;
  return endian === 'little' ? { lo: base, hi: base + 4 } : { lo: base + 4, hi: base };
}

/**
 * The value `ld [offset]` sees, or undefined for an offset seccomp rejects
 * (unaligned or past the end).
 */
export function loadWord(data: SeccompData, offset: number, endian: Endian): number | undefined {
  if (offset % 4 !== 0 || offset < 0 || offset >= SECCOMP_DATA_SIZE) return undefined;
  if (offset === OFFSET_NR) return data.nr >>> 0;
  if (offset === OFFSET_ARCH) return data.arch >>> 0;
  const field = offset < OFFSET_ARGS ? data.instructionPointer : data.args[(offset - OFFSET_ARGS) >> 3] ?? 0n;
  const v = BigInt.asUintN(64, field & MASK64);
  const firstWord = (offset & 4) === 0;
  const low = firstWord === (endian === 'little');
  return Number(low ? v & 0xffffffffn : v >> 32n);
}

/** The 64 bytes of `struct seccomp_data` in the given byte order. */
export function encodeSeccompData(data: SeccompData, endian: Endian): Uint8Array {
  const out = new Uint8Array(SECCOMP_DATA_SIZE);
  const view = new DataView(out.buffer);
  const le = endian === 'little';
  view.setUint32(OFFSET_NR, data.nr >>> 0, le);
  view.setUint32(OFFSET_ARCH, data.arch >>> 0, le);
  view.setBigUint64(OFFSET_IP, BigInt.asUintN(64, data.instructionPointer), le);
  for (let i = 0; i < 6; i++) view.setBigUint64(OFFSET_ARGS + 8 * i, BigInt.asUintN(64, data.args[i] ?? 0n), le);
  return out;
}
