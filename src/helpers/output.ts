import { PerfEventArrayMap, RingBufMap } from '../maps/index.js';
import { HelperArgumentError, type Helper } from '../vm/index.js';
import type { HelperHost } from './host.js';

const EINVAL = -22, EAGAIN = -11, EFAULT = -14;
const CTXLEN_SHIFT = 32n;

/** bpf_perf_event_output and the ring buffer helpers. */
export function outputHelpers(host: HelperHost): Record<string, Helper> {
  const ringbufOf = (addr: number): RingBufMap => {
    for (const r of host.ringbufs) if (r.owns(addr)) return r;
    throw new HelperArgumentError(`0x${addr.toString(16)} is not a reserved ring buffer sample`);
  };
  return {
    perf_event_output: (ctx) => {
      const map = host.mapAt(ctx.argU32(2));
      if (!(map instanceof PerfEventArrayMap)) return EINVAL;
      const flags = ctx.arg(3);
      if ((flags >> 52n) !== 0n) return EINVAL;
      const ctxLen = Number((flags >> CTXLEN_SHIFT) & 0xfffffn);
      const size = ctx.argU32(5);
      const src = ctx.argAddr(4, size, 'read');
      const sample = new Uint8Array(size + ctxLen);
      sample.set(ctx.space.bytes.subarray(src, src + size));
      if (ctxLen > 0) {
        // The skb and xdp variants append the packet's first ctxLen bytes.
        const p = host.state.skb?.packet ?? host.state.xdp?.packet;
        if (p === undefined || ctxLen > p.length) return EFAULT;
        sample.set(ctx.space.bytes.subarray(p.data, p.data + ctxLen), size);
      }
      return map.outputBytes(Number(flags & 0xffffffffn), sample);
    },
    ringbuf_output: (ctx) => {
      const map = host.mapAt(ctx.argU32(1));
      if (!(map instanceof RingBufMap)) return EINVAL;
      const size = ctx.argU32(3);
      const src = ctx.argAddr(2, size, 'read');
      if ((ctx.arg(4) & ~3n) !== 0n) return EINVAL;
      const dst = map.reserve(size);
      if (dst === 0) return EAGAIN;
      ctx.space.bytes.copyWithin(dst, src, src + size);
      map.commit(dst, false);
      return 0;
    },
    ringbuf_reserve: (ctx) => {
      const map = host.mapAt(ctx.argU32(1));
      if (!(map instanceof RingBufMap)) return 0;
      if (ctx.arg(3) !== 0n) return 0;
      return map.reserve(ctx.argU32(2));
    },
    ringbuf_submit: (ctx) => {
      const a = ctx.argU32(1);
      ringbufOf(a).commit(a, false);
      return 0;
    },
    ringbuf_discard: (ctx) => {
      const a = ctx.argU32(1);
      ringbufOf(a).commit(a, true);
      return 0;
    },
    ringbuf_query: (ctx) => {
      const map = host.mapAt(ctx.argU32(1));
      if (!(map instanceof RingBufMap)) return 0;
      return map.query(Number(ctx.arg(2) & 0xffn));
    },
  };
}
