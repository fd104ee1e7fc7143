/**
 * Deterministic, varied packets for tests and examples: the same seed gives
 * the same packets everywhere. Covers Ethernet (unicast, broadcast,
 * multicast), 802.1Q VLAN and stacked QinQ, MPLS, PPPoE (session and
 * discovery), ARP, RARP, LLC/STP, LLDP, IPv4 with options and fragments,
 * IPv6 with extension headers, TCP with flags and options, UDP, ICMP,
 * ICMPv6, IGMP, SCTP, GRE; on Ethernet, Linux cooked (SLL, SLL2), raw IP
 * (RAW, IPV4, IPV6) and BSD loopback (NULL, LOOP) links. About one packet in
 * twelve is captured short of its wire length, as a small snap length would.
 */
import { LINKTYPE } from './linktype.js';

export interface GeneratedPacket {
  /** The captured bytes. */
  readonly data: Uint8Array;
  /** Length on the wire (larger than data.length for truncated captures). */
  readonly wirelen: number;
}

/** The link types generatePackets can produce. */
export const GENERATOR_LINK_TYPES: readonly number[] = [
  LINKTYPE.EN10MB, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.RAW, LINKTYPE.IPV4, LINKTYPE.IPV6,
  LINKTYPE.NULL, LINKTYPE.LOOP,
];

/** mulberry32: tiny, seedable and well mixed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A byte list with big-endian writers (plain arrays: small typed arrays are slow to allocate). */
class Bytes {
  private readonly a: number[] = [];
  get length(): number {
    return this.a.length;
  }
  u8(v: number): this {
    this.a.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    this.a.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u32(v: number): this {
    this.a.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.a.push(b[i]);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.a);
  }
}

const ETH = { IPV4: 0x0800, ARP: 0x0806, RARP: 0x8035, VLAN: 0x8100, QINQ: 0x88a8, QINQ_OLD: 0x9100, IPV6: 0x86dd, MPLS: 0x8847, MPLS_MC: 0x8848, PPPOE_DISC: 0x8863, PPPOE_SESS: 0x8864, LLDP: 0x88cc } as const;

/** One generator state: the random source and helpers that draw from it. */
class Gen {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  randomBytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const r = this.next();
      b[i] = r;
      if (i + 1 < n) b[i + 1] = r >>> 8;
      if (i + 2 < n) b[i + 2] = r >>> 16;
      if (i + 3 < n) b[i + 3] = r >>> 24;
    }
    return b;
  }
  payload(): Uint8Array {
    const r = this.int(10);
    return this.randomBytes(r < 4 ? 0 : r < 8 ? this.int(64) : 64 + this.int(1300));
  }

  mac(): number[] {
    const r = this.int(10);
    if (r === 0) return [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    if (r === 1) return [0x01, 0x00, 0x5e, this.int(0x80), this.int(256), this.int(256)];
    if (r === 2) return [0x33, 0x33, 0, 0, this.int(256), this.int(256)];
    if (r === 3) return [0x01, 0x80, 0xc2, 0, 0, this.pick([0, 0x0e])];
    const m = Array.from(this.randomBytes(6));
    m[0] &= 0xfe; // unicast
    return m;
  }
  ipv4(): number[] {
    switch (this.int(9)) {
      case 0: return [10, this.int(256), this.int(256), 1 + this.int(254)];
      case 1: return [192, 168, this.int(4), 1 + this.int(254)];
      case 2: return [127, 0, 0, 1];
      case 3: return [255, 255, 255, 255];
      case 4: return [224 + this.int(16), this.int(256), this.int(256), this.int(256)];
      case 5: return [192, 168, this.int(4), 255];
      case 6: return [172, 16 + this.int(16), this.int(256), this.int(256)];
      default: return [1 + this.int(223), this.int(256), this.int(256), this.int(256)];
    }
  }
  ipv6(): number[] {
    switch (this.int(6)) {
      case 0: return [0xfe, 0x80, 0, 0, 0, 0, 0, 0, ...this.randomBytes(8)];
      case 1: return [0xff, 0x02, ...new Array(12).fill(0), 0, this.pick([1, 2, 0x16])];
      case 2: return [...new Array(15).fill(0), 1];
      case 3: return [0x20, 0x01, 0x0d, 0xb8, ...this.randomBytes(12)];
      case 4: return [0xff, 0x05, ...this.randomBytes(14)];
      default: return [0x20 + this.int(16), ...this.randomBytes(15)];
    }
  }
  port(): number {
    return this.chance(0.6) ? this.pick([20, 21, 22, 23, 25, 53, 67, 68, 80, 110, 123, 137, 143, 161, 179, 443, 514, 993, 1194, 2049, 3306, 5353, 8080]) : this.int(65536);
  }

  tcp(): Uint8Array {
    const b = new Bytes();
    const opts = new Bytes();
    if (this.chance(0.5)) {
      if (this.chance(0.7)) opts.u8(2).u8(4).u16(this.pick([536, 1460, 8960]));
      if (this.chance(0.5)) opts.u8(1).u8(3).u8(3).u8(this.int(15));
      if (this.chance(0.5)) opts.u8(4).u8(2);
      if (this.chance(0.5)) opts.u8(1).u8(1).u8(8).u8(10).u32(this.next()).u32(this.next());
      while (opts.length % 4) opts.u8(this.chance(0.5) ? 1 : 0);
    }
    const flags = this.pick([0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x19, 0x29, 0xc2, 0x01, 0x3f, 0x00, this.int(256)]);
    b.u16(this.port()).u16(this.port()).u32(this.next()).u32(this.next());
    b.u8(((5 + opts.length / 4) << 4) | (this.chance(0.05) ? 1 : 0)).u8(flags).u16(this.int(65536)).u16(this.next()).u16(flags & 0x20 ? this.int(65536) : 0);
    return b.bytes(opts.done()).bytes(this.payload()).done();
  }
  udp(): Uint8Array {
    const payload = this.payload();
    return new Bytes().u16(this.port()).u16(this.port()).u16(8 + payload.length).u16(this.next()).bytes(payload).done();
  }
  icmp(): Uint8Array {
    const [type, code] = this.pick([[8, 0], [0, 0], [3, this.int(16)], [11, 0], [5, 1], [13, 0], [4, 0]]);
    const b = new Bytes().u8(type).u8(code).u16(this.next()).u16(this.next()).u16(this.next());
    if (type === 3 || type === 11) b.bytes(this.ipv4Header(this.pick([6, 17]), 8, 0, 0)).bytes(this.randomBytes(8));
    else b.bytes(this.payload());
    return b.done();
  }
  icmp6(): Uint8Array {
    const type = this.pick([128, 129, 1, 2, 3, 133, 134, 135, 136, 143, 130]);
    const b = new Bytes().u8(type).u8(type < 4 ? this.int(7) : 0).u16(this.next());
    if (type === 135 || type === 136) b.u32(type === 136 ? 0x60000000 : 0).bytes(this.ipv6());
    else if (type === 143) b.u16(0).u16(1).u8(this.pick([3, 4])).u8(0).u16(0).bytes([0xff, 0x02, ...new Array(13).fill(0), 0xfb]);
    else b.u32(this.next()).bytes(this.payload());
    return b.done();
  }
  igmp(): Uint8Array {
    const type = this.pick([0x11, 0x12, 0x16, 0x17, 0x22]);
    const b = new Bytes().u8(type).u8(type === 0x11 ? 100 : 0).u16(this.next());
    if (type === 0x22) b.u16(0).u16(1).u8(this.pick([1, 2, 3, 4])).u8(0).u16(0).bytes([239, 1, 2, this.int(256)]);
    else b.bytes(type === 0x11 && this.chance(0.5) ? [0, 0, 0, 0] : [224 + this.int(16), 0, 0, this.int(256)]);
    return b.done();
  }
  sctp(): Uint8Array {
    const b = new Bytes().u16(this.port()).u16(this.port()).u32(this.next()).u32(this.next());
    const chunk = this.pick([0, 1, 2, 3, 4, 5, 6]);
    const value = this.randomBytes(4 + this.int(20));
    b.u8(chunk).u8(this.int(8)).u16(4 + value.length).bytes(value);
    while (b.length % 4) b.u8(0);
    return b.done();
  }
  gre(): Uint8Array {
    const inner = this.ipv4Packet(1);
    return new Bytes().u16(0).u16(ETH.IPV4).bytes(inner).done();
  }

  /** A transport segment and its IP protocol number. */
  transport(v6: boolean, depth: number): [number, Uint8Array] {
    const r = this.int(20);
    if (r < 7) return [6, this.tcp()];
    if (r < 12) return [17, this.udp()];
    if (r < 14) return v6 ? [58, this.icmp6()] : [1, this.icmp()];
    if (r < 15) return v6 ? [58, this.icmp6()] : [2, this.igmp()];
    if (r < 16) return [132, this.sctp()];
    if (r < 17 && depth === 0) return [47, this.gre()];
    if (r < 18) return [this.pick([50, 51, 89, 103, 112]), this.randomBytes(8 + this.int(40))];
    if (r < 19 && depth === 0 && !v6) return [41, this.ipv6Packet(1)];
    return v6 ? [58, this.icmp6()] : [1, this.icmp()];
  }

  ipv4Header(proto: number, payloadLen: number, optWords: number, frag: number): Uint8Array {
    const b = new Bytes();
    const ihl = 5 + optWords;
    b.u8(0x40 | ihl).u8(this.pick([0, 0, 0x10, 0xb8, this.int(256)])).u16(ihl * 4 + payloadLen).u16(this.int(65536));
    b.u16(frag).u8(this.pick([1, 64, 64, 128, 255])).u8(proto).u16(0).bytes(this.ipv4()).bytes(this.ipv4());
    for (let w = 0; w < optWords; w++) {
      if (w === 0) b.u8(this.pick([0x94, 0x07, 0x44, 0x01])).u8(4).u16(0); // router alert, record route, timestamp...
      else b.u32(0x01010101);
    }
    const h = b.done();
    let sum = 0;
    for (let i = 0; i < h.length; i += 2) sum += (h[i] << 8) | h[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    h[10] = c >> 8;
    h[11] = c & 0xff;
    return h;
  }
  ipv4Packet(depth = 0): Uint8Array {
    const optWords = this.chance(0.1) ? 1 + this.int(3) : 0;
    const fr = this.int(12);
    if (fr === 0 || fr === 1) {
      // A fragment: first (MF, offset 0) or a later one carrying no transport header.
      const later = fr === 1;
      const payload = later ? this.randomBytes(8 + this.int(200)) : this.transport(false, depth)[1];
      const proto = later ? this.pick([6, 17, 1]) : 17;
      const frag = later ? (this.chance(0.5) ? 0x2000 : 0) | (1 + this.int(0x1fff)) : 0x2000;
      return new Bytes().bytes(this.ipv4Header(proto, payload.length, optWords, frag)).bytes(payload).done();
    }
    const [proto, payload] = this.transport(false, depth);
    const frag = this.chance(0.5) ? 0x4000 : 0;
    return new Bytes().bytes(this.ipv4Header(proto, payload.length, optWords, frag)).bytes(payload).done();
  }
  ipv6Packet(depth = 0): Uint8Array {
    const [proto, payload] = this.transport(true, depth);
    // Extension header chain, built back to front.
    const chain = this.chance(0.3) ? Array.from({ length: 1 + this.int(3) }, () => this.pick([0, 43, 44, 60])) : [];
    if (chain.includes(0)) chain.sort((a, b) => (a === 0 ? -1 : b === 0 ? 1 : 0)); // hop-by-hop comes first
    let next = proto;
    let body = payload;
    for (let i = chain.length - 1; i >= 0; i--) {
      const t = chain[i];
      const h = new Bytes().u8(next);
      if (t === 44) h.u8(0).u16((this.int(100) << 3) | (this.chance(0.5) ? 1 : 0)).u32(this.next());
      else if (t === 43) h.u8(2).u8(this.pick([0, 2, 4])).u8(1).u32(0).bytes(this.ipv6());
      else h.u8(0).u8(1).u8(4).u32(0); // PadN
      body = new Bytes().bytes(h.done()).bytes(body).done();
      next = t;
    }
    return new Bytes().u32(0x60000000 | this.int(0x100000)).u16(body.length).u8(next).u8(this.pick([1, 64, 255])).bytes(this.ipv6()).bytes(this.ipv6()).bytes(body).done();
  }
  arp(rarp: boolean): Uint8Array {
    const op = rarp ? this.pick([3, 4]) : this.pick([1, 2]);
    return new Bytes().u16(1).u16(ETH.IPV4).u8(6).u8(4).u16(op).bytes(this.mac()).bytes(this.ipv4()).bytes(this.mac()).bytes(this.ipv4()).done();
  }
  /** An IP packet of either version, with its EtherType. */
  ip(): [number, Uint8Array] {
    return this.chance(0.6) ? [ETH.IPV4, this.ipv4Packet()] : [ETH.IPV6, this.ipv6Packet()];
  }
  /** A network-layer payload for Ethernet with its EtherType, including tags and tunnels. */
  network(allowTags: boolean): [number, Uint8Array] {
    const r = this.int(40);
    if (r < 22 || !allowTags) return this.int(10) < 8 || !allowTags ? this.ip() : this.chance(0.7) ? [ETH.ARP, this.arp(false)] : [ETH.RARP, this.arp(true)];
    if (r < 26) {
      // 802.1Q, sometimes stacked (QinQ).
      const [type, inner] = this.chance(0.8) ? this.ip() : [ETH.ARP, this.arp(false)];
      const tci = (this.int(8) << 13) | this.int(4096);
      const tagged = new Bytes().u16(tci).u16(type).bytes(inner).done();
      if (this.chance(0.4)) return [this.pick([ETH.QINQ, ETH.QINQ_OLD, ETH.VLAN]), new Bytes().u16(this.int(4096)).u16(ETH.VLAN).bytes(tagged).done()];
      return [ETH.VLAN, tagged];
    }
    if (r < 29) {
      const [type, inner] = this.ip();
      const labels = 1 + this.int(3);
      const b = new Bytes();
      for (let i = 0; i < labels; i++) b.u32((this.int(1 << 20) << 12) | (this.int(8) << 9) | (i === labels - 1 ? 0x100 : 0) | this.pick([1, 64, 255]));
      void type;
      return [this.chance(0.9) ? ETH.MPLS : ETH.MPLS_MC, b.bytes(inner).done()];
    }
    if (r < 32) {
      const [type, inner] = this.ip();
      const ppp = type === ETH.IPV4 ? 0x0021 : 0x0057;
      return [ETH.PPPOE_SESS, new Bytes().u8(0x11).u8(0).u16(this.int(65536)).u16(inner.length + 2).u16(ppp).bytes(inner).done()];
    }
    if (r < 33) return [ETH.PPPOE_DISC, new Bytes().u8(0x11).u8(this.pick([0x09, 0x07, 0x19, 0x65, 0xa7])).u16(0).u16(4).u16(0x0101).u16(0).done()];
    if (r < 34) return [ETH.LLDP, new Bytes().u16(0x0207).u8(4).bytes(this.mac()).u16(0x0403).u8(5).u16(this.int(100)).u16(0).done()];
    if (r < 36) {
      // 802.3 length field + LLC: spanning tree BPDU or SNAP.
      const llc = this.chance(0.6)
        ? new Bytes().u8(0x42).u8(0x42).u8(0x03).u16(0).u8(0).u8(0).bytes(this.randomBytes(32)).done()
        : new Bytes().u8(0xaa).u8(0xaa).u8(0x03).u8(0).u8(0).u8(0).u16(ETH.IPV4).bytes(this.ipv4Packet()).done();
      return [llc.length, llc];
    }
    return [this.pick([0x88b5, 0x0842, 0x22f0, 0x88e5, 0x8915, this.int(65536) | 0x600]), this.randomBytes(this.int(80))];
  }

  ethernet(): Uint8Array {
    const [type, payload] = this.network(true);
    const frame = new Bytes().bytes(this.mac()).bytes(this.mac()).u16(type).bytes(payload);
    while (frame.length < 60 && this.chance(0.5)) frame.u8(0); // padding to the minimum frame size
    return frame.done();
  }
  sllPktType(): number {
    return this.pick([0, 0, 1, 2, 3, 4, 4]);
  }
  linuxSll(): Uint8Array {
    const [type, payload] = this.network(false);
    const hatype = this.pick([1, 1, 772]);
    return new Bytes().u16(this.sllPktType()).u16(hatype).u16(6).bytes(this.mac()).u16(0).u16(type).bytes(payload).done();
  }
  linuxSll2(): Uint8Array {
    const [type, payload] = this.network(false);
    return new Bytes().u16(type).u16(0).u32(1 + this.int(8)).u16(this.pick([1, 1, 772])).u8(this.sllPktType()).u8(6).bytes(this.mac()).u16(0).bytes(payload).done();
  }
  bsdLoopback(networkOrder: boolean): Uint8Array {
    const [type, payload] = this.ip();
    const family = type === ETH.IPV4 ? 2 : this.pick([24, 28, 30]);
    const b = new Bytes();
    if (networkOrder) b.u32(family);
    else b.u8(family).u8(0).u8(0).u8(0); // host order, little-endian
    return b.bytes(payload).done();
  }

  frame(linkType: number): Uint8Array {
    switch (linkType) {
      case LINKTYPE.EN10MB: return this.ethernet();
      case LINKTYPE.LINUX_SLL: return this.linuxSll();
      case LINKTYPE.LINUX_SLL2: return this.linuxSll2();
      case LINKTYPE.RAW: return this.ip()[1];
      case LINKTYPE.IPV4: return this.ipv4Packet();
      case LINKTYPE.IPV6: return this.ipv6Packet();
      case LINKTYPE.NULL: return this.bsdLoopback(false);
      case LINKTYPE.LOOP: return this.bsdLoopback(true);
      default: throw new RangeError(`generatePackets: link type ${linkType} is not one of ${GENERATOR_LINK_TYPES.join(', ')}`);
    }
  }
}

/**
 * `count` packets for a link type from a seed. The same (seed, count,
 * linkType) always gives the same packets. Packets are produced lazily.
 */
export function* generatePackets(seed: number, count: number, linkType: number = LINKTYPE.EN10MB): Generator<GeneratedPacket, void, undefined> {
  if (!GENERATOR_LINK_TYPES.includes(linkType)) {
    throw new RangeError(`generatePackets: link type ${linkType} is not one of ${GENERATOR_LINK_TYPES.join(', ')}`);
  }
  const g = new Gen(prng(seed ^ Math.imul(linkType + 1, 0x9e3779b1)));
  for (let i = 0; i < count; i++) {
    const frame = g.frame(linkType);
    if (frame.length > 20 && g.chance(1 / 12)) {
      yield { data: frame.slice(0, 14 + g.int(frame.length - 14)), wirelen: frame.length };
    } else {
      yield { data: frame, wirelen: frame.length };
    }
  }
}
