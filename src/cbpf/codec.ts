/**
 * The wire format of `struct sock_filter`: 8 bytes per instruction in the
 * host's byte order: u16 code, u8 jt, u8 jf, u32 k. Little-endian unless
 * told otherwise (filters exported on s390x or big-endian ppc64 are big-endian).
 */
import { CbpfError } from './errors.js';
import type { SockFilter } from './insn.js';

export const SOCK_FILTER_SIZE = 8;

export interface SockFilterCodecOptions {
  /** The filter's host was big-endian (s390x, ppc64, sparc64...); default false. */
  readonly bigEndian?: boolean;
}

export function decodeSockFilter(bytes: Uint8Array, opts: SockFilterCodecOptions = {}): SockFilter[] {
  const little = !opts.bigEndian;
  if (bytes.length % SOCK_FILTER_SIZE !== 0) {
    throw new CbpfError(`${bytes.length} bytes is not a whole number of 8-byte sock_filter instructions`, Math.floor(bytes.length / SOCK_FILTER_SIZE));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SockFilter[] = [];
  for (let p = 0; p < bytes.length; p += SOCK_FILTER_SIZE) {
    out.push({ code: view.getUint16(p, little), jt: bytes[p + 2], jf: bytes[p + 3], k: view.getUint32(p + 4, little) });
  }
  return out;
}

export function encodeSockFilter(filter: readonly SockFilter[], opts: SockFilterCodecOptions = {}): Uint8Array {
  const little = !opts.bigEndian;
  const bytes = new Uint8Array(filter.length * SOCK_FILTER_SIZE);
  const view = new DataView(bytes.buffer);
  filter.forEach((f, i) => {
    validateFields(f, i);
    const p = i * SOCK_FILTER_SIZE;
    view.setUint16(p, f.code, little);
    bytes[p + 2] = f.jt;
    bytes[p + 3] = f.jf;
    view.setUint32(p + 4, f.k >>> 0, little);
  });
  return bytes;
}

/** Fields must fit their C types; k may be given signed (-1) or unsigned. */
export function validateFields(f: SockFilter, index: number): void {
  const okInt = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;
  if (!okInt(f.code, 0xffff)) throw new CbpfError(`code ${f.code} does not fit in 16 bits`, index);
  if (!okInt(f.jt, 0xff)) throw new CbpfError(`jt ${f.jt} does not fit in 8 bits`, index);
  if (!okInt(f.jf, 0xff)) throw new CbpfError(`jf ${f.jf} does not fit in 8 bits`, index);
  if (!Number.isInteger(f.k) || f.k < -0x80000000 || f.k > 0xffffffff) throw new CbpfError(`k ${f.k} does not fit in 32 bits`, index);
}
