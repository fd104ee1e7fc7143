import type { Region } from '../vm/index.js';
import { MapDefinitionError } from './errors.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/** Header bytes before each sample (BPF_RINGBUF_HDR_SZ). */
export const RINGBUF_HDR_SZ = 8;
/** bpf_ringbuf_query flags. */
export const RINGBUF_QUERY = { AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3 } as const;

interface Record {
  readonly pos: number;
  /** Bytes of ring the record takes: header + sample, rounded up to 8. */
  readonly len: number;
  /** Address of the sample (after the header). */
  readonly addr: number;
  readonly size: number;
  state: 'busy' | 'committed' | 'discarded';
}

/**
 * RINGBUF: a multi-producer ring of variable-size samples. Positions run
 * as in the kernel (reserve fails when the live records would span more
 * than the ring); the data region is twice the ring so every record is
 * contiguous, as the kernel's double mapping makes it. Samples are consumed
 * in order, stopping at one still reserved.
 */
export class RingBufMap extends VmMap {
  readonly data: Region;
  private readonly records: Record[] = [];
  private prod = 0;
  private cons = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx, 0);
    const n = def.maxEntries;
    if (def.keySize !== 0 || def.valueSize !== 0) throw new MapDefinitionError(def.name, 'ringbuf maps have no key or value size');
    if (n < 4096 || (n & (n - 1)) !== 0 || n % 4096 !== 0) {
      throw new MapDefinitionError(def.name, `ringbuf size ${n} must be a power of 2 and a multiple of the 4096-byte page`);
    }
    this.data = ctx.space.map(`map:${def.name}:data`, 2 * n);
  }

  get size(): number {
    return this.records.length;
  }

  lookupAddr(): number {
    return 0;
  }

  updateAddr(): number {
    return this.unsupported();
  }

  deleteAddr(): number {
    return this.unsupported();
  }

  *keys(): IterableIterator<Uint8Array> {}

  /** bpf_ringbuf_reserve: address of a sample of `size` bytes, or 0 when the ring is full. */
  reserve(size: number): number {
    const len = (size + RINGBUF_HDR_SZ + 7) & ~7;
    if (len > this.maxEntries) return 0;
    // As the kernel: the producer may not run more than size - 1 bytes ahead.
    if (this.prod + len - this.cons > this.maxEntries - 1) return 0;
    const off = this.prod % this.maxEntries;
    const rec: Record = { pos: this.prod, len, addr: this.data.start + off + RINGBUF_HDR_SZ, size, state: 'busy' };
    const v = this.space.view;
    // Header as the kernel writes it: length with the busy bit, page offset.
    v.setUint32(rec.addr - RINGBUF_HDR_SZ, (size | 0x80000000) >>> 0, true);
    v.setUint32(rec.addr - 4, off, true);
    this.records.push(rec);
    this.prod += len;
    return rec.addr;
  }

  /** Whether `addr` is a sample reserved and not yet submitted or discarded. */
  owns(addr: number): boolean {
    return this.records.some((r) => r.addr === addr && r.state === 'busy');
  }

  /** bpf_ringbuf_submit / bpf_ringbuf_discard of a reserved sample; false when `addr` is not one. */
  commit(addr: number, discard: boolean): boolean {
    const rec = this.records.find((r) => r.addr === addr && r.state === 'busy');
    if (rec === undefined) return false;
    rec.state = discard ? 'discarded' : 'committed';
    this.space.view.setUint32(addr - RINGBUF_HDR_SZ, (rec.size | (discard ? 0x40000000 : 0)) >>> 0, true);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    return true;
  }

  /** bpf_ringbuf_query. */
  query(flag: number): bigint {
    switch (flag) {
      case RINGBUF_QUERY.AVAIL_DATA: return BigInt(this.prod - this.cons);
      case RINGBUF_QUERY.RING_SIZE: return BigInt(this.maxEntries);
      case RINGBUF_QUERY.CONS_POS: return BigInt(this.cons);
      case RINGBUF_QUERY.PROD_POS: return BigInt(this.prod);
      default: return 0n;
    }
  }

  /** Take every sample ready to read, in order (stops at one still reserved). */
  consume(): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (this.records.length > 0 && this.records[0].state !== 'busy') {
      const r = this.records.shift()!;
      if (r.state === 'committed') out.push(this.space.bytes.slice(r.addr, r.addr + r.size));
      this.cons = r.pos + r.len;
    }
    return out;
  }

  /** End the async iteration once the queued samples are read. */
  close(): void {
    this.closed = true;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Samples as they are submitted, until close(). */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const batch = this.consume();
      for (const s of batch) yield s;
      if (batch.length === 0) {
        if (this.closed) return;
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    }
  }
}
