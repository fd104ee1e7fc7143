/**
 * Reading a BPF_MAP_TYPE_RINGBUF map: the consumer page (read-write), the
 * producer page and the data area (read-only, mapped twice back to back by
 * the kernel so a record never wraps) are memory-mapped; records are
 * handed out as zero-copy views. The map's fd is watched on the Node event
 * loop (libuv poll through koffi: no thread, no busy loop).
 * Layout: kernel/bpf/ringbuf.c, include/uapi/linux/bpf.h (BPF_RINGBUF_*).
 */
import { KernelArgumentError } from '../errors.js';
import type { BpfMap } from '../map.js';
import { mmapFd, pollReadable, type NativeMapping, type PollHandle } from '../native.js';

const PAGE = 4096;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8;

function readPos(v: DataView): number {
  return v.getUint32(4, true) * 0x100000000 + v.getUint32(0, true);
}

/** High half first: the kernel only ever sees a position at or behind the real one. */
function writePos(v: DataView, pos: number): void {
  const hi = Math.floor(pos / 0x100000000);
  if (v.getUint32(4, true) !== hi) {
    v.setUint32(0, 0, true);
    v.setUint32(4, hi, true);
  }
  v.setUint32(0, pos >>> 0, true);
}

/** Called with each record; the view is only valid during the call (copy it to keep it). */
export type RecordHandler = (record: Uint8Array) => void;

export class RingBufferReader implements Disposable, AsyncIterable<Uint8Array> {
  readonly #consumer: NativeMapping;
  readonly #producer: NativeMapping;
  readonly #cons: DataView;
  readonly #prod: DataView;
  readonly #data: Uint8Array;
  readonly #dataView: DataView;
  readonly #mask: number;
  #poll: PollHandle | undefined;
  #handler: RecordHandler | undefined;
  #closed = false;
  /** Records consumed so far. */
  records = 0;

  constructor(readonly map: BpfMap) {
    if (map.type !== 'ringbuf') throw new KernelArgumentError(`map ${map.name ?? map.type} is not a ring buffer`);
    const size = map.maxEntries;
    this.#consumer = mmapFd(map.fd, PAGE, true, 0);
    try {
      this.#producer = mmapFd(map.fd, PAGE + 2 * size, false, PAGE);
    } catch (e) {
      this.#consumer.unmap();
      throw e;
    }
    this.#cons = new DataView(this.#consumer.buffer);
    this.#prod = new DataView(this.#producer.buffer, 0, PAGE);
    this.#data = new Uint8Array(this.#producer.buffer, PAGE, 2 * size);
    this.#dataView = new DataView(this.#producer.buffer, PAGE, 2 * size);
    this.#mask = size - 1;
  }

  /**
   * Hand every available record to `handler` now; returns how many. The
   * consumer position advances after each record, so the kernel can reuse
   * its space as soon as the handler returns.
   */
  consume(handler: RecordHandler, max = Infinity): number {
    const data = this.#data;
    return this.consumeAt((_v, off, size) => handler(data.subarray(off, off + size)), max);
  }

  /**
   * The allocation-free form of consume(): each record as (view of the
   * whole data area, byte offset, size). For hot paths that decode fields
   * in place.
   */
  consumeAt(handler: (data: DataView, offset: number, size: number) => void, max = Infinity): number {
    if (this.#closed) return 0;
    // Positions are u64 counters; read and written as two u32 halves (Numbers, no BigInt).
    let cons = readPos(this.#cons);
    let prod = readPos(this.#prod);
    let n = 0;
    let sinceStore = 0;
    try {
      while (n < max) {
        if (cons >= prod) {
          // Re-check once before stopping: the producer may have moved on.
          prod = readPos(this.#prod);
          if (cons >= prod) break;
        }
        const off = cons & this.#mask;
        const len = this.#dataView.getUint32(off, true);
        if (len & BUSY) break;
        const size = len & ~(BUSY | DISCARD);
        cons += (size + HDR + 7) & ~7;
        if (!(len & DISCARD)) {
          handler(this.#dataView, off + HDR, size);
          n++;
        }
        // Hand space back to the producer regularly, not only at the end.
        if (++sinceStore === 256) {
          writePos(this.#cons, cons);
          sinceStore = 0;
        }
      }
    } finally {
      writePos(this.#cons, cons);
    }
    this.records += n;
    return n;
  }

  /** Deliver records to `handler` as they arrive, from the event loop. */
  start(handler: RecordHandler): this {
    this.#handler = handler;
    this.#poll ??= pollReadable(this.map.fd, () => {
      if (this.#handler) this.consume(this.#handler);
    });
    this.consume(handler);
    return this;
  }

  /** Stop watching (records stay in the ring). */
  stop(): void {
    this.#poll?.close();
    this.#poll = undefined;
    this.#handler = undefined;
  }

  /** Let the process exit while watching. */
  unref(): this {
    this.#poll?.unref();
    return this;
  }

  /** Records as copies, until close(). */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const queue: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    this.start((r) => {
      queue.push(r.slice());
      wake?.();
    });
    try {
      while (!this.#closed) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          this.#wakeOnClose = resolve;
        });
        wake = undefined;
      }
      while (queue.length > 0) yield queue.shift()!;
    } finally {
      this.stop();
    }
  }

  #wakeOnClose: (() => void) | undefined;

  /** Unmap and stop; the map itself stays open (the caller owns it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    this.#producer.unmap();
    this.#consumer.unmap();
    this.#wakeOnClose?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
