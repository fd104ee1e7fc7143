import type { AddressSpace, Region } from '../vm/index.js';

/**
 * A packet buffer in the VM's address space: `start` .. `limit` is the
 * whole frame the program may grow into, data_meta <= data <= data_end lie
 * inside it. Addresses are absolute (what ctx->data gives the program).
 * One region is reused across packets of similar size, so streaming runs
 * allocate nothing per packet.
 */
export class PacketBuffer {
  region: Region | undefined;
  /** Absolute addresses. */
  meta = 0;
  data = 0;
  end = 0;
  /** Lowest address data may move down to, and highest data_end may move up to. */
  floor = 0;
  limit = 0;
  /** The range earlier runs may have written (everything else in the region is still zero). */
  private dirtyLo = 0;
  private dirtyHi = 0;

  constructor(readonly space: AddressSpace, readonly name: string) {}

  /**
   * Place `bytes` with `headroom` bytes before and room up to `tailroom`
   * after. `exact` maps a region of exactly the packet's size with no
   * headroom, as legacy packet loads need (they bound-check on the region).
   */
  load(bytes: Uint8Array, headroom: number, tailroom: number, exact: boolean): void {
    const need = exact ? bytes.length : headroom + bytes.length + tailroom;
    let r = this.region;
    const fits = r !== undefined && this.space.isMapped(r) && (exact ? r.size === need : r.size >= need && r.size <= 4 * need + 8192);
    const b = this.space.bytes;
    if (!fits) {
      if (r !== undefined && this.space.isMapped(r)) this.space.unmap(r);
      r = this.region = this.space.map(this.name, exact ? need : Math.max(need, 4096));
    } else if (!exact && this.dirtyHi > this.dirtyLo) {
      // Only what earlier runs touched needs zeroing: a fresh frame is all zeros, as the kernel's is.
      b.fill(0, this.dirtyLo, this.dirtyHi);
    }
    const region = r!;
    const head = exact ? 0 : headroom;
    b.set(bytes, region.start + head);
    this.floor = region.start;
    this.data = this.meta = region.start + head;
    this.end = this.data + bytes.length;
    this.limit = exact ? this.end : region.start + Math.min(region.size, head + bytes.length + tailroom);
    this.dirtyLo = this.data;
    this.dirtyHi = this.end;
  }

  /** Note the current pointers as possibly written (call after moving them). */
  touch(): void {
    if (this.meta < this.dirtyLo) this.dirtyLo = this.meta;
    if (this.end > this.dirtyHi) this.dirtyHi = this.end;
  }

  get length(): number {
    return this.end - this.data;
  }

  /** A copy of data .. data_end. */
  contents(): Uint8Array {
    return this.space.bytes.slice(this.data, this.end);
  }
}
