/**
 * Internet checksum arithmetic as the kernel's csum_* functions do it on a
 * little-endian machine: 32-bit partial sums with end-around carry, folded
 * to 16 bits and complemented. Values are the raw memory contents read as
 * little-endian integers, so byte order works out as it does in the kernel.
 */

/** csum_add: 32-bit one's-complement addition. */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return (s > 0xffffffff ? s - 0xffffffff : s) >>> 0;
}

export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** csum_fold: fold a 32-bit partial sum to 16 bits and complement it. */
export function csumFold(c: number): number {
  let s = c >>> 0;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * csum_partial: the 32-bit one's-complement sum of `len` bytes as
 * little-endian 32-bit words (a short last word zero-padded), plus `seed`.
 * Equal to the kernel's modulo 0xffff, which is all a folded result sees.
 */
export function csumPartial(bytes: Uint8Array, at: number, len: number, seed: number): number {
  let s = seed >>> 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const w = (bytes[at + i] | (bytes[at + i + 1] << 8) | (bytes[at + i + 2] << 16) | (bytes[at + i + 3] << 24)) >>> 0;
    s = csumAdd(s, w);
  }
  if (i < len) {
    let w = 0;
    for (let k = 0; i + k < len; k++) w |= bytes[at + i + k] << (8 * k);
    s = csumAdd(s, w >>> 0);
  }
  return s;
}

/** csum_from32to16: fold to 16 bits without complementing. */
export function csumFrom32to16(c: number): number {
  const s = c >>> 0;
  const r = (s + (((s >>> 16) | (s << 16)) >>> 0)) >>> 0;
  return r >>> 16;
}

function csum16Add(c: number, addend: number): number {
  const res = (c + addend) & 0xffff;
  return (res + (res < (addend & 0xffff) ? 1 : 0)) & 0xffff;
}

/** csum_replace2 on a stored checksum `sum`: the new checksum. */
export function csumReplace2(sum: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~sum & 0xffff, ~from & 0xffff), to & 0xffff) & 0xffff;
}

/** csum_replace4 (and inet_proto_csum_replace4 without CHECKSUM_PARTIAL). */
export function csumReplace4(sum: number, from: number, to: number): number {
  return csumFold(csumAdd(csumSub(~sum >>> 0, from >>> 0), to >>> 0));
}

/** csum_replace_by_diff. */
export function csumReplaceByDiff(sum: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~sum >>> 0));
}
