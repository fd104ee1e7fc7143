/**
 * Runs a classic BPF filter on a seccomp_data as the kernel's seccomp does.
 *
 * Seccomp filters may only load aligned 32-bit words of seccomp_data, which
 * the kernel reads in the task's native byte order. The general classic BPF
 * interpreter (src/cbpf, Linux dialect) loads big-endian words from a packet,
 * so we hand it an image of seccomp_data in which every 32-bit word is stored
 * big-endian with the value a native load would see.
 */
import { checkClassic, runCbpf, type SockFilter } from '../cbpf/index.js';
import { type Endian, OFFSET_ARCH, OFFSET_ARGS, OFFSET_IP, OFFSET_NR, SECCOMP_DATA_SIZE, type SeccompData } from './data.js';
import { SeccompFilterError } from './errors.js';

/**
 * What seccomp_check_filter() adds to the classic checker: loads are words of
 * seccomp_data only (no packet bytes, halfwords, indirect loads or ancillary
 * data). Throws SeccompFilterError (or CbpfCheckError) where the kernel says EINVAL.
 */
export function checkSeccompFilter(filter: readonly SockFilter[]): void {
  checkClassic(filter);
  filter.forEach((f, i) => {
    const k = f.k >>> 0;
    switch (f.code) {
      case 0x20: // ld [k]
        if (k >= SECCOMP_DATA_SIZE || k % 4 !== 0) throw new SeccompFilterError(i, `ld [${k}]: seccomp_data loads must be aligned words below ${SECCOMP_DATA_SIZE}`);
        break;
      case 0x28: case 0x30: case 0x40: case 0x48: case 0x50: case 0xb1:
        throw new SeccompFilterError(i, `opcode 0x${f.code.toString(16)} is not allowed in seccomp filters`);
    }
  });
}

// Splitting a bigint into 32-bit words through a typed-array pair is far cheaper than BigInt arithmetic.
const scratch64 = new BigUint64Array(1);
const scratch32 = new Uint32Array(scratch64.buffer);
const hostLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = hostLittle ? 0 : 1;
const HI = 1 - LO;
const LINUX = { dialect: 'linux' } as const;

/** The 64-byte image runCbpf reads: word i holds what `ld [4*i]` loads under `endian`. */
export function seccompWordImage(data: SeccompData, endian: Endian): Uint8Array {
  const out = new Uint8Array(SECCOMP_DATA_SIZE);
  fillImage(new DataView(out.buffer), data, endian);
  return out;
}

function fillImage(view: DataView, data: SeccompData, endian: Endian): void {
  view.setUint32(OFFSET_NR, data.nr >>> 0);
  view.setUint32(OFFSET_ARCH, data.arch >>> 0);
  const first = endian === 'little' ? LO : HI;
  const second = endian === 'little' ? HI : LO;
  const put = (off: number, v: bigint) => {
    scratch64[0] = v; // wraps modulo 2^64 like the kernel's u64
    view.setUint32(off, scratch32[first]);
    view.setUint32(off + 4, scratch32[second]);
  };
  put(OFFSET_IP, data.instructionPointer);
  for (let i = 0; i < 6; i++) put(OFFSET_ARGS + 8 * i, data.args[i] ?? 0n);
}

// runFilter reuses one image: allocating an ArrayBuffer per call costs more than running the filter.
const image = new Uint8Array(SECCOMP_DATA_SIZE);
const imageView = new DataView(image.buffer);

/** The filter's 32-bit return value for `data`. The filter should have passed checkSeccompFilter. */
export function runFilter(filter: readonly SockFilter[], data: SeccompData, endian: Endian = 'little'): number {
  fillImage(imageView, data, endian);
  return runCbpf(filter, image, LINUX) >>> 0;
}
