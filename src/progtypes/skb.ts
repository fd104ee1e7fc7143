import type { AddressSpace, Region } from '../vm/index.js';
import { PacketBuffer } from './packet.js';

/** struct __sk_buff: field offsets as in linux/bpf.h (checked against kernel BTF by the tests). */
export const SK_BUFF = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28,
  priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68, tc_classid: 72, data: 76,
  data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96, remote_ip6: 100, local_ip6: 116,
  remote_port: 132, local_port: 136, data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160, gso_segs: 164,
  sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184, size: 192,
} as const;

/** tc verdicts (TC_ACT_*), by value. */
const TC_ACTS: Record<number, string> = {
  [-1]: 'TC_ACT_UNSPEC', 0: 'TC_ACT_OK', 1: 'TC_ACT_RECLASSIFY', 2: 'TC_ACT_SHOT', 3: 'TC_ACT_PIPE', 4: 'TC_ACT_STOLEN',
  5: 'TC_ACT_QUEUED', 6: 'TC_ACT_REPEAT', 7: 'TC_ACT_REDIRECT', 8: 'TC_ACT_TRAP',
};

export function tcActionName(r0: number): string {
  return TC_ACTS[r0 | 0] ?? `TC_ACT_UNKNOWN(${r0 | 0})`;
}

/** Where skb->data starts: the Ethernet header (tc, packet sockets) or the network header (BPF_PROG_TEST_RUN of socket filters and cgroup skb). */
export type SkbStart = 'l2' | 'l3';

export interface SkbRunOptions {
  readonly start?: SkbStart;
  readonly mark?: number;
  readonly priority?: number;
  readonly ifindex?: number;
  readonly ingressIfindex?: number;
  /** Initial cb[0..4]. */
  readonly cb?: readonly number[];
}

/** Fields the program may have changed, read back after a run. */
export interface SkbFieldsOut {
  readonly mark: number;
  readonly priority: number;
  readonly tcIndex: number;
  readonly tcClassid: number;
  readonly cb: number[];
}

const ETH_HLEN = 14;

/**
 * The socket-buffer context of socket filters, tc and cgroup skb programs:
 * `struct __sk_buff` filled as the kernel's BPF_PROG_TEST_RUN fills it on
 * the loopback device (protocol and packet type from eth_type_trans, the
 * addresses of the IP header), with data and data_end holding the packet's
 * real addresses. The packet region is exactly the packet (skb->data .. +len)
 * so legacy packet loads (ld_abs) bound-check against skb->len.
 */
export class SkbContext {
  readonly packet: PacketBuffer;
  readonly ctx: Region;
  private frame: Uint8Array = new Uint8Array(0);
  private startOff = 0;
  hash = 0;

  constructor(readonly space: AddressSpace) {
    this.packet = new PacketBuffer(space, 'packet');
    this.ctx = space.map('__sk_buff', SK_BUFF.size);
  }

  /** Load a frame (starting with its Ethernet header); returns the context's address. */
  load(frame: Uint8Array, opts: SkbRunOptions = {}): number {
    const l3 = opts.start === 'l3' && frame.length >= ETH_HLEN;
    this.frame = frame;
    this.startOff = l3 ? ETH_HLEN : 0;
    this.packet.load(l3 ? frame.subarray(ETH_HLEN) : frame, 0, 0, true);
    this.hash = 0;
    const b = this.space.bytes, v = this.space.view, c = this.ctx.start;
    b.fill(0, c, c + SK_BUFF.size);
    const p = this.packet;
    const proto = ethProtocol(frame);
    v.setUint32(c + SK_BUFF.len, p.length, true);
    v.setUint32(c + SK_BUFF.pkt_type, packetType(frame), true);
    v.setUint32(c + SK_BUFF.mark, opts.mark ?? 0, true);
    v.setUint32(c + SK_BUFF.protocol, ((proto & 0xff) << 8) | (proto >>> 8), true);
    v.setUint32(c + SK_BUFF.priority, opts.priority ?? 0, true);
    v.setUint32(c + SK_BUFF.ingress_ifindex, opts.ingressIfindex ?? 0, true);
    v.setUint32(c + SK_BUFF.ifindex, opts.ifindex ?? 1, true);
    (opts.cb ?? []).slice(0, 5).forEach((x, i) => v.setUint32(c + SK_BUFF.cb + 4 * i, x, true));
    v.setUint32(c + SK_BUFF.wire_len, frame.length, true);
    if (proto === 0x0800 && frame.length >= ETH_HLEN + 20) {
      v.setUint32(c + SK_BUFF.family, 2, true);
      b.set(frame.subarray(ETH_HLEN + 16, ETH_HLEN + 20), c + SK_BUFF.remote_ip4);
      b.set(frame.subarray(ETH_HLEN + 12, ETH_HLEN + 16), c + SK_BUFF.local_ip4);
    } else if (proto === 0x86dd && frame.length >= ETH_HLEN + 40) {
      v.setUint32(c + SK_BUFF.family, 10, true);
      b.set(frame.subarray(ETH_HLEN + 24, ETH_HLEN + 40), c + SK_BUFF.remote_ip6);
      b.set(frame.subarray(ETH_HLEN + 8, ETH_HLEN + 24), c + SK_BUFF.local_ip6);
    }
    this.sync();
    return c;
  }

  /** Write the packet pointers (and len) into __sk_buff. */
  sync(): void {
    const v = this.space.view, c = this.ctx.start, p = this.packet;
    v.setUint32(c + SK_BUFF.data, p.data, true);
    v.setUint32(c + SK_BUFF.data_end, p.end, true);
    v.setUint32(c + SK_BUFF.data_meta, p.data, true);
    v.setUint32(c + SK_BUFF.len, p.length, true);
    v.setUint32(c + SK_BUFF.hash, this.hash, true);
  }

  /** The frame after the run: the bytes before skb->data (an l3 start) stay as they were. */
  frameAfter(): Uint8Array {
    const body = this.packet.contents();
    if (this.startOff === 0) return body;
    return this.withHeader(body);
  }

  /** The frame after the run without copying when skb->data is the frame's start (valid until the next run). */
  frameView(): Uint8Array {
    const p = this.packet;
    if (this.startOff === 0) return this.space.bytes.subarray(p.data, p.end);
    return this.withHeader(p.contents());
  }

  private withHeader(body: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.startOff + body.length);
    out.set(this.frame.subarray(0, this.startOff));
    out.set(body, this.startOff);
    return out;
  }

  fieldsOut(): SkbFieldsOut {
    const v = this.space.view, c = this.ctx.start;
    const u = (o: number) => v.getUint32(c + o, true);
    return {
      mark: u(SK_BUFF.mark), priority: u(SK_BUFF.priority), tcIndex: u(SK_BUFF.tc_index), tcClassid: u(SK_BUFF.tc_classid),
      cb: [0, 1, 2, 3, 4].map((i) => u(SK_BUFF.cb + 4 * i)),
    };
  }
}

/** skb->protocol as eth_type_trans sets it (host order here). */
export function ethProtocol(frame: Uint8Array): number {
  if (frame.length < ETH_HLEN) return 0;
  const t = (frame[12] << 8) | frame[13];
  if (t >= 0x0600) return t;
  if (frame.length >= 16 && frame[14] === 0xff && frame[15] === 0xff) return 0x0001; // ETH_P_802_3
  return 0x0004; // ETH_P_802_2
}

/**
 * skb->pkt_type as eth_type_trans sets it on the loopback device, whose
 * address and broadcast address are both all-zero: PACKET_HOST for the
 * all-zero destination, PACKET_MULTICAST for any group address (ff:ff:..
 * included, since it is not lo's broadcast address), else PACKET_OTHERHOST.
 */
export function packetType(frame: Uint8Array): number {
  if (frame.length < 6) return 0;
  let zero = true;
  for (let i = 0; i < 6; i++) if (frame[i] !== 0) zero = false;
  if (zero) return 0;
  return (frame[0] & 1) !== 0 ? 2 : 3;
}
