import { ElfError } from './errors.js';

/**
 * Bounds-checked reads over the file in the object's byte order. Every read
 * of the ELF goes through here, so malformed input becomes an ElfError with
 * the offset instead of a RangeError from deep inside.
 */
export class ByteReader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  check(offset: number, size: number, what: string, section?: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new ElfError(`${what} (${size} bytes) extends past the end of the file (${this.bytes.length} bytes)`, Math.max(0, Math.min(offset, this.bytes.length)), section);
    }
  }

  u8(o: number): number {
    this.check(o, 1, 'read');
    return this.view.getUint8(o);
  }
  u16(o: number): number {
    this.check(o, 2, 'read');
    return this.view.getUint16(o, this.littleEndian);
  }
  u32(o: number): number {
    this.check(o, 4, 'read');
    return this.view.getUint32(o, this.littleEndian);
  }
  i32(o: number): number {
    this.check(o, 4, 'read');
    return this.view.getInt32(o, this.littleEndian);
  }
  u64(o: number): bigint {
    this.check(o, 8, 'read');
    return this.view.getBigUint64(o, this.littleEndian);
  }
  i64(o: number): bigint {
    this.check(o, 8, 'read');
    return this.view.getBigInt64(o, this.littleEndian);
  }
  /** A 64-bit field that must fit a JS number (file offsets and sizes). */
  u64n(o: number, what: string): number {
    const v = this.u64(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} 0x${v.toString(16)} is too large`, o);
    return Number(v);
  }
  slice(offset: number, size: number, what: string, section?: string): Uint8Array {
    this.check(offset, size, what, section);
    return this.bytes.subarray(offset, offset + size);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** A NUL-terminated string at `offset` in a string table. */
export function readCString(table: Uint8Array, offset: number, what: string, tableOffset: number, section?: string): string {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= table.length) {
    if (offset === 0 && table.length === 0) return '';
    throw new ElfError(`${what}: string offset ${offset} is outside the string table (${table.length} bytes)`, tableOffset, section);
  }
  const end = table.indexOf(0, offset);
  if (end < 0) throw new ElfError(`${what}: string at ${offset} is not NUL-terminated`, tableOffset + offset, section);
  return decoder.decode(table.subarray(offset, end));
}
