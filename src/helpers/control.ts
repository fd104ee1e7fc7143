import { ProgArrayMap, QueueMap, RingBufMap, type VmMap } from '../maps/index.js';
import type { Helper, Region } from '../vm/index.js';
import { MAX_TAIL_CALL_CNT, type HelperHost } from './host.js';
import { mapArg } from './map-helpers.js';

const ENOENT = -2, E2BIG = -7, EINVAL = -22;

/** Linux's BPF_MAX_LOOPS: the most iterations bpf_loop runs. */
export const MAX_LOOPS = 1 << 23;

/**
 * bpf_tail_call: on success the helper ends the running program (halt)
 * and leaves the target in the run state; the runtime then starts the
 * target with the same context, which is what replacing the program does.
 * On failure execution continues, as in the kernel.
 *
 * bpf_loop and bpf_for_each_map_elem call back into the program through
 * HelperContext.callFunction, with the kernel's semantics: a callback
 * returns 0 to go on and anything else to stop; both return the number of
 * calls made.
 */
export function controlHelpers(host: HelperHost): Record<string, Helper> {
  const st = host.state;
  // for_each's key lives in a read-only region of its own per map (the program only reads it).
  const keyRegions = new WeakMap<VmMap, Region>();
  return {
    tail_call: (ctx) => {
      const map = host.mapAt(ctx.argU32(2));
      if (!(map instanceof ProgArrayMap)) return ENOENT;
      const index = ctx.argU32(3);
      if (ctx.arg(3) > 0xffffffffn || index >= map.maxEntries) return ENOENT;
      if (st.tailCalls >= MAX_TAIL_CALL_CNT) return E2BIG;
      const target = map.program(index);
      if (target === undefined) return ENOENT;
      st.tailCalls++;
      st.tailCall = target;
      ctx.halt();
      return 0;
    },
    // long bpf_loop(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags)
    loop: (ctx) => {
      const n = ctx.argU32(1);
      const fn = ctx.arg(2), cbCtx = ctx.arg(3);
      if (ctx.arg(4) !== 0n) return EINVAL;
      if (n > MAX_LOOPS) return E2BIG;
      const args: [number, bigint] = [0, cbCtx];
      for (let i = 0; i < n; i++) {
        args[0] = i;
        if (ctx.callFunction(fn, args) !== 0n) return i + 1;
      }
      return n;
    },
    // long bpf_for_each_map_elem(struct bpf_map *map, void *callback_fn, void *callback_ctx, u64 flags)
    for_each_map_elem: (ctx) => {
      const m = mapArg(host, ctx);
      const handle = m.handle;
      const fn = ctx.arg(2), cbCtx = ctx.arg(3);
      if (ctx.arg(4) !== 0n) return EINVAL;
      if (m instanceof ProgArrayMap || m instanceof QueueMap || m instanceof RingBufMap) return EINVAL;
      let keyRegion = keyRegions.get(m);
      if (keyRegion === undefined || !ctx.space.isMapped(keyRegion)) {
        keyRegion = ctx.space.map(`for_each_key:${m.name}`, Math.max(m.keySize, 1), { writable: false });
        keyRegions.set(m, keyRegion);
      }
      const keyAddr = keyRegion.start;
      let visited = 0;
      // A snapshot of the keys: the callback may delete (hash maps) as in the kernel.
      for (const key of [...m.keys()]) {
        ctx.space.bytes.set(key, keyAddr);
        const value = m.lookupAddr(keyAddr);
        if (value === 0) continue;
        visited++;
        if (ctx.callFunction(fn, [handle, keyAddr, value, cbCtx]) !== 0n) break;
      }
      return visited;
    },
  };
}
