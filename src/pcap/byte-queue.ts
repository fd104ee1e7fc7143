/**
 * Bytes that arrive in chunks of any size, read in records that may span
 * chunks. Only the unread part is kept, so memory stays flat while a large
 * capture streams through.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // read position in chunks[0]
  private size = 0;
  /** File offset of the next unread byte. */
  offset = 0;

  get available(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The next n bytes without consuming them (a view when they lie in one chunk, else a copy). */
  peek(n: number): Uint8Array {
    if (n > this.size) throw new RangeError(`peek(${n}) with ${this.size} available`);
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let pos = this.head;
    for (const c of this.chunks) {
      const take = Math.min(n - filled, c.length - pos);
      out.set(c.subarray(pos, pos + take), filled);
      filled += take;
      pos = 0;
      if (filled === n) break;
    }
    return out;
  }

  skip(n: number): void {
    if (n > this.size) throw new RangeError(`skip(${n}) with ${this.size} available`);
    this.size -= n;
    this.offset += n;
    while (n > 0) {
      const c = this.chunks[0];
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Consume n bytes and return a copy that owns its memory. */
  take(n: number): Uint8Array {
    const v = this.peek(n);
    const copy = v.buffer === this.chunks[0]?.buffer ? v.slice() : v;
    this.skip(n);
    return copy;
  }
}
