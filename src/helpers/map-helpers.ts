import { BloomFilterMap, QueueMap, type VmMap } from '../maps/index.js';
import { HelperArgumentError, type Helper, type HelperContext } from '../vm/index.js';
import type { HelperHost } from './host.js';

const EINVAL = -22;

/** The map whose pointer is in r1 (no BigInt on this hot path). */
function mapArg(host: HelperHost, ctx: HelperContext): VmMap {
  let m: VmMap | undefined;
  try {
    m = host.mapAt(ctx.argNumber(1));
  } catch {
    m = undefined;
  }
  if (m === undefined) throw new HelperArgumentError(`r1 (0x${ctx.arg(1).toString(16)}) is not a map`);
  return m;
}

/** A u64 flags argument as a number; anything above 32 bits becomes 0xffffffff, which every map refuses. */
function flagsArg(ctx: HelperContext, n: 3 | 4): number {
  try {
    const f = ctx.argNumber(n);
    return f > 0xffffffff ? 0xffffffff : f;
  } catch {
    return 0xffffffff;
  }
}

/** bpf_map_lookup_elem, update, delete, push, pop, peek. */
export function mapHelpers(host: HelperHost): Record<string, Helper> {
  return {
    map_lookup_elem: (ctx) => {
      const m = mapArg(host, ctx);
      return m.lookupAddr(ctx.argAddr(2, m.keySize, 'read'));
    },
    map_update_elem: (ctx) => {
      const m = mapArg(host, ctx);
      const k = m.keySize === 0 ? 0 : ctx.argAddr(2, m.keySize, 'read');
      return m.updateAddr(k, ctx.argAddr(3, m.valueSize, 'read'), flagsArg(ctx, 4));
    },
    map_delete_elem: (ctx) => {
      const m = mapArg(host, ctx);
      return m.deleteAddr(ctx.argAddr(2, m.keySize, 'read'));
    },
    map_push_elem: (ctx) => {
      const m = mapArg(host, ctx);
      const v = ctx.argAddr(2, m.valueSize, 'read');
      const flags = flagsArg(ctx, 3);
      if (m instanceof QueueMap || m instanceof BloomFilterMap) return m.pushAddr(v, flags);
      return EINVAL;
    },
    map_pop_elem: (ctx) => {
      const m = mapArg(host, ctx);
      if (!(m instanceof QueueMap)) return EINVAL;
      return m.popAddr(ctx.argAddr(2, m.valueSize, 'write'), true);
    },
    map_peek_elem: (ctx) => {
      const m = mapArg(host, ctx);
      if (m instanceof QueueMap) return m.popAddr(ctx.argAddr(2, m.valueSize, 'write'), false);
      if (m instanceof BloomFilterMap) return m.peekAddr(ctx.argAddr(2, m.valueSize, 'read'));
      return EINVAL;
    },
  };
}

export { mapArg };
