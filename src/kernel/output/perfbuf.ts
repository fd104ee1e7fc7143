/**
 * Reading a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one PERF_COUNT_SW_BPF_OUTPUT
 * perf event per online CPU, each with its own memory-mapped ring, stored
 * in the map at its CPU's index. All rings are gathered in one epoll fd,
 * which is watched on the Node event loop (no thread per CPU, no busy
 * loop). Samples are delivered as views (copied only when a record wraps
 * around the end of its ring); PERF_RECORD_LOST records are counted.
 * Layout: include/uapi/linux/perf_event.h (struct perf_event_mmap_page).
 */
import { onlineCpus } from '../cpus.js';
import { KernelArgumentError } from '../errors.js';
import { KernelFd } from '../fd.js';
import type { BpfMap } from '../map.js';
import { mmapFd, nativeSys, pollReadable, type NativeMapping, type PollHandle } from '../native.js';
import type { Sys } from '../sys.js';
import { PERF_COUNT_SW, PERF_EVENT_IOC, PERF_SAMPLE_RAW, PERF_TYPE, perfEventOpen } from '../link/perf-event.js';

const PAGE = 4096;
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;
const RECORD_LOST = 2;
const RECORD_SAMPLE = 9;
const EPOLLIN = 1;
const EPOLL_CTL_ADD = 1;

export type SampleHandler = (sample: Uint8Array, cpu: number) => void;

interface Ring {
  cpu: number;
  fd: KernelFd;
  mapping: NativeMapping;
  meta: DataView;
  data: Uint8Array;
  dataView: DataView;
}

export interface PerfBufferOptions {
  /** Pages per CPU ring, a power of two (default 64). */
  readonly pages?: number;
  readonly sys?: Sys;
}

export class PerfBufferReader implements Disposable {
  readonly #rings: Ring[] = [];
  readonly #epoll: KernelFd;
  #poll: PollHandle | undefined;
  #closed = false;
  /** Samples the kernel could not write because a ring was full. */
  lost = 0;
  samples = 0;

  constructor(readonly map: BpfMap, opts: PerfBufferOptions = {}) {
    if (map.type !== 'perf_event_array') throw new KernelArgumentError(`map ${map.name ?? map.type} is not a perf event array`);
    const sys = opts.sys ?? nativeSys;
    const pages = opts.pages ?? 64;
    if (pages <= 0 || (pages & (pages - 1)) !== 0) throw new KernelArgumentError(`perf buffer pages ${pages} is not a power of two`);
    this.#epoll = new KernelFd(sys.call({ kind: 'epoll_create', flags: 0o2000000 }), 'epoll (perf buffer)', sys);
    try {
      for (const cpu of onlineCpus()) {
        if (cpu >= map.maxEntries) continue;
        const fd = new KernelFd(perfEventOpen({
          type: PERF_TYPE.software,
          config: BigInt(PERF_COUNT_SW.bpf_output),
          sampleType: PERF_SAMPLE_RAW,
          samplePeriod: 1n,
          wakeupEvents: 1,
          pid: -1,
          cpu,
        }, sys), `perf buffer CPU ${cpu}`, sys);
        let mapping: NativeMapping;
        try {
          mapping = mmapFd(fd.fd, PAGE * (pages + 1), true);
        } catch (e) {
          fd.close();
          throw e;
        }
        this.#rings.push({
          cpu, fd, mapping,
          meta: new DataView(mapping.buffer, 0, PAGE),
          data: new Uint8Array(mapping.buffer, PAGE, PAGE * pages),
          dataView: new DataView(mapping.buffer, PAGE, PAGE * pages),
        });
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, cpu, true);
        map.updateFd(key, fd.fd);
        sys.call({ kind: 'ioctl', fd: fd.fd, request: PERF_EVENT_IOC.enable, arg: 0 });
        sys.call({ kind: 'epoll_ctl', epfd: this.#epoll.fd, op: EPOLL_CTL_ADD, fd: fd.fd, events: EPOLLIN });
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Hand every available sample to `handler` now; returns how many. */
  consume(handler: SampleHandler): number {
    let n = 0;
    for (const r of this.#rings) n += this.#drain(r, handler);
    this.samples += n;
    return n;
  }

  #drain(r: Ring, handler: SampleHandler): number {
    const size = r.data.length;
    const head = Number(r.meta.getBigUint64(DATA_HEAD, true));
    let tail = Number(r.meta.getBigUint64(DATA_TAIL, true));
    let n = 0;
    while (tail < head) {
      const off = tail % size;
      const rec = this.#bytes(r, off, 8);
      const hv = new DataView(rec.buffer, rec.byteOffset, 8);
      const type = hv.getUint32(0, true);
      const recSize = hv.getUint16(6, true);
      if (recSize < 8) break;
      const body = this.#bytes(r, (off + 8) % size, recSize - 8);
      const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      if (type === RECORD_SAMPLE && body.length >= 4) {
        const rawSize = bv.getUint32(0, true);
        handler(body.subarray(4, 4 + rawSize), r.cpu);
        n++;
      } else if (type === RECORD_LOST && body.length >= 16) {
        this.lost += Number(bv.getBigUint64(8, true));
      }
      tail += recSize;
      r.meta.setBigUint64(DATA_TAIL, BigInt(tail), true);
    }
    return n;
  }

  /** `len` bytes at ring offset `off`: a view, or a copy when they wrap. */
  #bytes(r: Ring, off: number, len: number): Uint8Array {
    const size = r.data.length;
    if (off + len <= size) return r.data.subarray(off, off + len);
    const out = new Uint8Array(len);
    out.set(r.data.subarray(off));
    out.set(r.data.subarray(0, len - (size - off)), size - off);
    return out;
  }

  /** Deliver samples as they arrive, from the event loop. */
  start(handler: SampleHandler): this {
    this.#poll ??= pollReadable(this.#epoll.fd, () => this.consume(handler));
    this.consume(handler);
    // libuv adds the fd to its epoll on the next loop turn; a wakeup that came
    // before then may not be reported, so drain once more after it.
    setImmediate(() => {
      if (!this.#closed) this.consume(handler);
    });
    return this;
  }

  stop(): void {
    this.#poll?.close();
    this.#poll = undefined;
  }

  unref(): this {
    this.#poll?.unref();
    return this;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    for (const r of this.#rings) {
      r.mapping.unmap();
      r.fd.close();
    }
    this.#epoll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
