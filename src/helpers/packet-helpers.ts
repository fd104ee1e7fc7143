import type { Helper, HelperContext } from '../vm/index.js';
import { csumFrom32to16, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, csumSub } from './csum.js';
import type { HelperHost } from './host.js';

const EFAULT = -14, EINVAL = -22;
const BPF_F_RECOMPUTE_CSUM = 1, BPF_F_INVALIDATE_HASH = 2;
const BPF_F_HDR_FIELD_MASK = 0xf, BPF_F_PSEUDO_HDR = 0x10, BPF_F_MARK_MANGLED_0 = 0x20, BPF_F_MARK_ENFORCE = 0x40, BPF_F_IPV6 = 0x80;
const CSUM_MANGLED_0 = 0xffff;
const XDP_ABORTED = 0, XDP_REDIRECT = 4, TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7, BPF_F_INGRESS = 1;

/**
 * Packet helpers: skb load/store, checksum updates (as with ip_summed =
 * CHECKSUM_NONE, which is what BPF_PROG_TEST_RUN builds), XDP head, tail
 * and metadata adjustment, and redirects.
 */
export function packetHelpers(host: HelperHost): Record<string, Helper> {
  const st = host.state;
  /** skb->data and skb->len of the current packet (skb or xdp). */
  const pkt = (): { data: number; len: number } | undefined => {
    const p = st.skb?.packet ?? st.xdp?.packet;
    return p === undefined ? undefined : { data: p.data, len: p.length };
  };
  const loadBytes: Helper = (ctx) => {
    const len = ctx.argU32(4);
    const to = ctx.argAddr(3, len, 'write');
    const off = ctx.argU32(2);
    const p = pkt();
    if (p === undefined || off > 0x7fffffff || off + len > p.len) {
      ctx.space.bytes.fill(0, to, to + len);
      return EFAULT;
    }
    ctx.space.bytes.copyWithin(to, p.data + off, p.data + off + len);
    return 0;
  };
  const storeBytes = (ctx: HelperContext, flagsAllowed: number): number => {
    const len = ctx.argU32(4);
    const from = ctx.argAddr(3, len, 'read');
    const off = ctx.argU32(2);
    if ((Number(ctx.arg(5) & 0xffffffffn) & ~flagsAllowed) !== 0 || ctx.arg(5) > 0xffffffffn) return EINVAL;
    const p = pkt();
    if (p === undefined || off > 0x7fffffff || off + len > p.len) return EFAULT;
    ctx.space.bytes.copyWithin(p.data + off, from, from + len);
    if ((ctx.argU32(5) & BPF_F_INVALIDATE_HASH) !== 0 && st.skb) {
      st.skb.hash = 0;
      st.skb.sync();
    }
    return 0;
  };
  /** Address of the 16-bit checksum at `off`, or an errno. */
  const csumField = (ctx: HelperContext): number => {
    const off = ctx.argU32(2);
    const p = pkt();
    if (ctx.arg(2) > 0xffffn || (off & 1) !== 0 || p === undefined || off + 2 > p.len) return EFAULT;
    return p.data + off;
  };
  return {
    skb_load_bytes: loadBytes,
    xdp_load_bytes: loadBytes,
    skb_store_bytes: (ctx) => storeBytes(ctx, BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH),
    xdp_store_bytes: (ctx) => storeBytes(ctx, 0),
    l3_csum_replace: (ctx) => {
      const flags = ctx.arg(5);
      if ((flags & ~BigInt(BPF_F_HDR_FIELD_MASK)) !== 0n) return EINVAL;
      const a = csumField(ctx);
      if (a < 0) return a;
      const v = ctx.space.view;
      const sum = v.getUint16(a, true);
      const from = ctx.arg(3), to = ctx.arg(4);
      switch (Number(flags)) {
        case 0:
          if (from !== 0n) return EINVAL;
          v.setUint16(a, csumReplaceByDiff(sum, Number(to & 0xffffffffn)), true);
          return 0;
        case 2: v.setUint16(a, csumReplace2(sum, Number(from & 0xffffn), Number(to & 0xffffn)), true); return 0;
        case 4: v.setUint16(a, csumReplace4(sum, Number(from & 0xffffffffn), Number(to & 0xffffffffn)), true); return 0;
        default: return EINVAL;
      }
    },
    l4_csum_replace: (ctx) => {
      const flags = ctx.arg(5);
      const known = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6;
      if ((flags & ~BigInt(known)) !== 0n) return EINVAL;
      const f = Number(flags);
      const a = csumField(ctx);
      if (a < 0) return a;
      const v = ctx.space.view;
      const sum = v.getUint16(a, true);
      const mmzero = (f & BPF_F_MARK_MANGLED_0) !== 0;
      if (mmzero && (f & BPF_F_MARK_ENFORCE) === 0 && sum === 0) return 0;
      const from = ctx.arg(3), to = ctx.arg(4);
      let r: number;
      switch (f & BPF_F_HDR_FIELD_MASK) {
        case 0:
          if (from !== 0n) return EINVAL;
          r = csumReplaceByDiff(sum, Number(to & 0xffffffffn));
          break;
        case 2: r = csumReplace4(sum, Number(from & 0xffffn), Number(to & 0xffffn)); break;
        case 4: r = csumReplace4(sum, Number(from & 0xffffffffn), Number(to & 0xffffffffn)); break;
        default: return EINVAL;
      }
      if (mmzero && r === 0) r = CSUM_MANGLED_0;
      v.setUint16(a, r, true);
      return 0;
    },
    csum_diff: (ctx) => {
      // Linux >= 6.13: no size checks beyond the verifier's, and the result folded to 16 bits on every arch.
      const fromSize = ctx.argU32(2), toSize = ctx.argU32(4);
      const seed = ctx.argU32(5);
      const b = ctx.space.bytes;
      const from = fromSize > 0 ? ctx.argAddr(1, fromSize, 'read') : 0;
      const to = toSize > 0 ? ctx.argAddr(3, toSize, 'read') : 0;
      if (fromSize > 0 && toSize > 0) return csumFrom32to16(csumSub(csumPartial(b, to, toSize, seed), csumPartial(b, from, fromSize, 0)));
      if (toSize > 0) return csumFrom32to16(csumPartial(b, to, toSize, seed));
      if (fromSize > 0) return csumFrom32to16(~csumPartial(b, from, fromSize, ~seed >>> 0) >>> 0);
      return seed;
    },
    get_hash_recalc: () => {
      const s = st.skb;
      if (s === undefined) return 0;
      // Not the kernel's flow dissector hash: a stable hash of the headers.
      const p = s.packet;
      let h = 0x811c9dc5;
      for (let i = p.data; i < Math.min(p.end, p.data + 54); i++) h = Math.imul(h ^ s.space.bytes[i], 0x01000193);
      s.hash = (h >>> 0) || 1;
      s.sync();
      return s.hash;
    },
    set_hash_invalid: () => {
      if (st.skb) {
        st.skb.hash = 0;
        st.skb.sync();
      }
      return 0;
    },
    redirect: (ctx) => {
      const flags = Number(ctx.arg(2) & 0xffffffffn);
      const isXdp = st.programType === 'xdp';
      if (isXdp ? ctx.arg(2) !== 0n : (flags & ~BPF_F_INGRESS) !== 0) return isXdp ? XDP_ABORTED : TC_ACT_SHOT;
      st.redirect = { ifindex: ctx.argU32(1), flags };
      return isXdp ? XDP_REDIRECT : TC_ACT_REDIRECT;
    },
    redirect_map: (ctx) => {
      const map = host.mapAt(ctx.argU32(1));
      const flags = Number(ctx.arg(3) & 0xffffffffn);
      const key = ctx.argU32(2);
      if (map === undefined) return flags & 3;
      const k = new Uint8Array(map.keySize === 0 ? 4 : map.keySize);
      new DataView(k.buffer).setUint32(0, key, true);
      if (map.keySize === 4 && !map.has(k)) return flags & 3;
      st.redirect = { ifindex: key, flags };
      return XDP_REDIRECT;
    },
    xdp_adjust_head: (ctx) => st.xdp?.adjustHead(ctx.argI32(2)) ?? EINVAL,
    xdp_adjust_tail: (ctx) => st.xdp?.adjustTail(ctx.argI32(2)) ?? EINVAL,
    xdp_adjust_meta: (ctx) => st.xdp?.adjustMeta(ctx.argI32(2)) ?? EINVAL,
    xdp_get_buff_len: () => st.xdp?.packet.length ?? 0,
  };
}
