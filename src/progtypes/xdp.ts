import type { AddressSpace, Region } from '../vm/index.js';
import { PacketBuffer } from './packet.js';

/** XDP verdicts (enum xdp_action). */
export const XDP_ACTIONS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'] as const;
export type XdpAction = (typeof XDP_ACTIONS)[number];

export function xdpActionName(r0: number): string {
  return XDP_ACTIONS[r0] ?? `XDP_UNKNOWN(${r0})`;
}

/** XDP_PACKET_HEADROOM, and the skb_shared_info the kernel keeps at the end of a frame. */
export const XDP_HEADROOM = 256;
export const XDP_FRAME_SIZE = 4096;
export const XDP_SHINFO_SIZE = 320;
/** sizeof(struct xdp_frame): the kernel keeps it at the start of the headroom. */
export const XDP_FRAME_STRUCT = 40;

/** struct xdp_md: offsets of its u32 fields. */
export const XDP_MD = { data: 0, data_end: 4, data_meta: 8, ingress_ifindex: 12, rx_queue_index: 16, egress_ifindex: 20, size: 24 } as const;

export interface XdpRunOptions {
  readonly ingressIfindex?: number;
  readonly rxQueueIndex?: number;
}

/**
 * The XDP context: a frame with 256 bytes of headroom (as the kernel's
 * BPF_PROG_TEST_RUN gives) and `struct xdp_md` whose data, data_end and
 * data_meta fields hold the real addresses (below 2^32, so the program's
 * 32-bit loads yield usable pointers, which is what the kernel's rewrite of
 * those loads achieves).
 */
export class XdpContext {
  readonly packet: PacketBuffer;
  readonly ctx: Region;

  constructor(readonly space: AddressSpace) {
    this.packet = new PacketBuffer(space, 'xdp-frame');
    this.ctx = space.map('xdp_md', XDP_MD.size, { writable: false });
  }

  load(bytes: Uint8Array, opts: XdpRunOptions = {}): number {
    const tail = Math.max(0, XDP_FRAME_SIZE - XDP_HEADROOM - XDP_SHINFO_SIZE - bytes.length);
    this.packet.load(bytes, XDP_HEADROOM, tail, false);
    const v = this.space.view, c = this.ctx.start;
    v.setUint32(c + XDP_MD.ingress_ifindex, opts.ingressIfindex ?? 1, true);
    v.setUint32(c + XDP_MD.rx_queue_index, opts.rxQueueIndex ?? 0, true);
    v.setUint32(c + XDP_MD.egress_ifindex, 0, true);
    this.sync();
    return c;
  }

  /** Write the packet pointers into xdp_md. */
  sync(): void {
    const v = this.space.view, c = this.ctx.start, p = this.packet;
    p.touch();
    v.setUint32(c + XDP_MD.data, p.data, true);
    v.setUint32(c + XDP_MD.data_end, p.end, true);
    v.setUint32(c + XDP_MD.data_meta, p.meta, true);
  }

  /** bpf_xdp_adjust_head: 0 or -EINVAL. */
  adjustHead(delta: number): number {
    const p = this.packet;
    const data = p.data + delta;
    // The kernel keeps at least ETH_HLEN bytes and the metadata in front of data.
    const metaLen = p.data - p.meta;
    if (data < p.floor + XDP_FRAME_STRUCT + metaLen || data > p.end - 14) return -22;
    if (metaLen > 0) this.space.bytes.copyWithin(data - metaLen, p.meta, p.data);
    p.meta = data - metaLen;
    p.data = data;
    this.sync();
    return 0;
  }

  /** bpf_xdp_adjust_tail: 0 or -EINVAL. Growing zeroes the new bytes, as the kernel does. */
  adjustTail(delta: number): number {
    const p = this.packet;
    const end = p.end + delta;
    if (end > p.limit || end < p.data + 14) return -22;
    if (delta > 0) this.space.bytes.fill(0, p.end, end);
    p.end = end;
    this.sync();
    return 0;
  }

  /** bpf_xdp_adjust_meta: 0, -EINVAL or -EACCES. */
  adjustMeta(delta: number): number {
    const p = this.packet;
    const meta = p.meta + delta;
    const len = p.data - meta;
    if (meta < p.floor + XDP_FRAME_STRUCT || meta > p.data) return -22;
    if ((len & 3) !== 0 || len > 255) return -13;
    p.meta = meta;
    this.sync();
    return 0;
  }
}
