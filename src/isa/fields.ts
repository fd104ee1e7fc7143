/**
 * Raw field access to one 8-byte slot: opcode, dst (low nibble), src (high
 * nibble), signed 16-bit offset, signed 32-bit immediate, little-endian.
 */
export interface RawInsn {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export function readRaw(bytes: Uint8Array, slot: number): RawInsn {
  const p = slot * 8;
  const regs = bytes[p + 1];
  return {
    opcode: bytes[p],
    dst: regs & 0x0f,
    src: regs >> 4,
    off: ((bytes[p + 2] | (bytes[p + 3] << 8)) << 16) >> 16,
    imm: bytes[p + 4] | (bytes[p + 5] << 8) | (bytes[p + 6] << 16) | (bytes[p + 7] << 24),
  };
}

export function writeRaw(bytes: Uint8Array, slot: number, r: RawInsn): void {
  const p = slot * 8;
  bytes[p] = r.opcode;
  bytes[p + 1] = (r.dst & 0x0f) | ((r.src & 0x0f) << 4);
  bytes[p + 2] = r.off & 0xff;
  bytes[p + 3] = (r.off >> 8) & 0xff;
  bytes[p + 4] = r.imm & 0xff;
  bytes[p + 5] = (r.imm >> 8) & 0xff;
  bytes[p + 6] = (r.imm >> 16) & 0xff;
  bytes[p + 7] = (r.imm >>> 24) & 0xff;
}
