/**
 * A classic BPF interpreter with libpcap's semantics (bpf_filter.c): a load
 * outside the captured bytes makes the filter return 0, division by a zero X
 * returns 0, `ld #len` is the wire length. Linux's ancillary loads
 * (SKF_AD_*) read the optional skb metadata.
 *
 * The two dialects differ only where C leaves room: libpcap gives 0 for
 * shifts of 32 or more, Linux (which runs cBPF as 32-bit eBPF) shifts by the
 * count modulo 32; Linux lets X + k wrap around and maps the negative
 * SKF_NET_OFF / SKF_LL_OFF offsets onto the network and link headers.
 */
import { SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF, ancillaryField } from './ancillary.js';
import { CbpfError } from './errors.js';
import { BPF_MEMWORDS, type SockFilter } from './insn.js';

/** What the socket buffer knows about a packet besides its bytes (Linux's skb fields). */
export interface SkbMeta {
  /** skb->protocol as a host-order EtherType (0x0800 for IPv4). */
  readonly protocol?: number;
  /** PACKET_HOST (0), PACKET_BROADCAST (1), PACKET_MULTICAST (2), PACKET_OTHERHOST (3), PACKET_OUTGOING (4). */
  readonly pkttype?: number;
  readonly ifindex?: number;
  readonly mark?: number;
  readonly queue?: number;
  /** dev->type, an ARPHRD_* value (1: Ethernet, 772: loopback). */
  readonly hatype?: number;
  readonly rxhash?: number;
  readonly cpu?: number;
  readonly vlanTci?: number;
  readonly vlanPresent?: boolean;
  readonly vlanTpid?: number;
  /** Offset of the transport payload (SKF_AD_PAY_OFFSET). */
  readonly payOffset?: number;
  /** Offsets of the network and link headers, for SKF_NET_OFF and SKF_LL_OFF loads. */
  readonly networkOffset?: number;
  readonly macOffset?: number;
  /** Source of SKF_AD_RANDOM; defaults to Math.random. */
  readonly random?: () => number;
}

export interface CbpfRunOptions {
  /** Length of the packet on the wire (`ld #len`); defaults to the captured length. */
  readonly wirelen?: number;
  readonly skb?: SkbMeta;
  /** 'libpcap' (default) or 'linux'; see the module comment. */
  readonly dialect?: 'libpcap' | 'linux';
}

/** Scratch memory, reused across runs (runs never nest: nothing here calls back into runCbpf). */
const scratch = new Uint32Array(BPF_MEMWORDS);

/** Map a Linux negative offset onto the packet, or -1 when nothing is there (always, for libpcap). */
function linuxOffset(off: number, linux: boolean, skb: SkbMeta): number {
  if (off < 0x80000000) return off;
  if (!linux) return -1;
  if (off >= SKF_NET_OFF && off < SKF_AD_OFF) return skb.networkOffset === undefined ? -1 : off - SKF_NET_OFF + skb.networkOffset;
  if (off >= SKF_LL_OFF && off < SKF_NET_OFF) return off - SKF_LL_OFF + (skb.macOffset ?? 0);
  return -1;
}

/** Big-endian load of size bytes at off, or -1 when out of bounds. */
function load(packet: Uint8Array, off: number, size: number): number {
  if (off < 0 || off + size > packet.length) return -1;
  if (size === 1) return packet[off];
  if (size === 2) return (packet[off] << 8) | packet[off + 1];
  return ((packet[off] << 24) | (packet[off + 1] << 16) | (packet[off + 2] << 8) | packet[off + 3]) >>> 0;
}

function ancillary(k: number, skb: SkbMeta, packet: Uint8Array, A: number, X: number): number {
  const field = ancillaryField(k);
  switch (field) {
    case 'protocol': return (skb.protocol ?? 0) & 0xffff;
    case 'pkttype': return (skb.pkttype ?? 0) & 7;
    case 'ifindex': return (skb.ifindex ?? 0) >>> 0;
    case 'mark': return (skb.mark ?? 0) >>> 0;
    case 'queue': return (skb.queue ?? 0) & 0xffff;
    case 'hatype': return (skb.hatype ?? 0) & 0xffff;
    case 'rxhash': return (skb.rxhash ?? 0) >>> 0;
    case 'cpu': return (skb.cpu ?? 0) >>> 0;
    case 'alu_xor_x': return (A ^ X) >>> 0;
    case 'vlan_tag': return (skb.vlanTci ?? 0) & 0xffff;
    case 'vlan_tag_present': return skb.vlanPresent ? 1 : 0;
    case 'vlan_tpid': return (skb.vlanTpid ?? 0) & 0xffff;
    case 'pay_offset': return (skb.payOffset ?? 0) >>> 0;
    case 'random': return Math.floor((skb.random ?? Math.random)() * 0x100000000) >>> 0;
    case 'nlattr': case 'nlattr_nest': return netlinkAttr(packet, A, X, field === 'nlattr_nest');
    default: return -1;
  }
}

function shift(a: number, n: number, left: boolean, linux: boolean): number {
  if (n >= 32) {
    if (!linux) return 0;
    n &= 31;
  }
  return (left ? a << n : a >>> n) >>> 0;
}

const NO_SKB: SkbMeta = {};

/** Run a filter on one packet: 0 rejects it, anything else is the snap length to keep. */
export function runCbpf(filter: readonly SockFilter[], packet: Uint8Array, opts: CbpfRunOptions = {}): number {
  const wirelen = opts.wirelen ?? packet.length;
  const skb = opts.skb ?? NO_SKB;
  const linux = opts.dialect === 'linux';
  const mem = scratch.fill(0);
  let A = 0;
  let X = 0;

  for (let pc = 0; pc < filter.length; pc++) {
    const f = filter[pc];
    const k = f.k >>> 0;
    let v: number;
    if ((f.code === 0x60 || f.code === 0x61 || f.code === 0x02 || f.code === 0x03) && k >= BPF_MEMWORDS) {
      throw new CbpfError(`scratch memory index ${k} out of range`, pc);
    }
    switch (f.code) {
      case 0x06: return k;
      case 0x16: return A;
      case 0x20: case 0x28: case 0x30: {
        const size = f.code === 0x20 ? 4 : f.code === 0x28 ? 2 : 1;
        v = k >= SKF_AD_OFF ? ancillary(k, skb, packet, A, X) : load(packet, linuxOffset(k, linux, skb), size);
        if (v < 0) return 0;
        A = v;
        break;
      }
      case 0x40: case 0x48: case 0x50: {
        const size = f.code === 0x40 ? 4 : f.code === 0x48 ? 2 : 1;
        const off = linux ? linuxOffset((X + k) >>> 0, true, skb) : X + k;
        v = load(packet, off, size);
        if (v < 0) return 0;
        A = v;
        break;
      }
      case 0x80: A = wirelen >>> 0; break;
      case 0x81: X = wirelen >>> 0; break;
      case 0x00: A = k; break;
      case 0x01: X = k; break;
      case 0x60: A = mem[k]; break;
      case 0x61: X = mem[k]; break;
      case 0x02: mem[k] = A; break;
      case 0x03: mem[k] = X; break;
      case 0xb1:
        v = load(packet, linuxOffset(k, linux, skb), 1);
        if (v < 0) return 0;
        X = (v & 0xf) << 2;
        break;
      case 0x05:
        if (k >= filter.length - pc - 1) throw new CbpfError(`jump by ${k} goes past the end of the program`, pc);
        pc += k;
        break;
      case 0x15: pc += A === k ? f.jt : f.jf; break;
      case 0x25: pc += A > k ? f.jt : f.jf; break;
      case 0x35: pc += A >= k ? f.jt : f.jf; break;
      case 0x45: pc += (A & k) !== 0 ? f.jt : f.jf; break;
      case 0x1d: pc += A === X ? f.jt : f.jf; break;
      case 0x2d: pc += A > X ? f.jt : f.jf; break;
      case 0x3d: pc += A >= X ? f.jt : f.jf; break;
      case 0x4d: pc += (A & X) !== 0 ? f.jt : f.jf; break;
      case 0x04: A = (A + k) >>> 0; break;
      case 0x14: A = (A - k) >>> 0; break;
      case 0x24: A = Math.imul(A, k) >>> 0; break;
      case 0x34: if (k === 0) return 0; A = Math.floor(A / k) >>> 0; break;
      case 0x94: if (k === 0) return 0; A = (A % k) >>> 0; break;
      case 0x54: A = (A & k) >>> 0; break;
      case 0x44: A = (A | k) >>> 0; break;
      case 0xa4: A = (A ^ k) >>> 0; break;
      case 0x64: A = shift(A, k, true, linux); break;
      case 0x74: A = shift(A, k, false, linux); break;
      case 0x0c: A = (A + X) >>> 0; break;
      case 0x1c: A = (A - X) >>> 0; break;
      case 0x2c: A = Math.imul(A, X) >>> 0; break;
      case 0x3c: if (X === 0) return 0; A = Math.floor(A / X) >>> 0; break;
      case 0x9c: if (X === 0) return 0; A = (A % X) >>> 0; break;
      case 0x5c: A = (A & X) >>> 0; break;
      case 0x4c: A = (A | X) >>> 0; break;
      case 0xac: A = (A ^ X) >>> 0; break;
      case 0x6c: A = shift(A, X, true, linux); break;
      case 0x7c: A = shift(A, X, false, linux); break;
      case 0x84: A = -A >>> 0; break;
      case 0x07: X = A; break;
      case 0x87: A = X; break;
      default:
        throw new CbpfError(`opcode 0x${f.code.toString(16)} is not a classic BPF instruction`, pc);
    }
  }
  throw new CbpfError('execution ran past the last instruction', filter.length);
}

/**
 * SKF_AD_NLATTR(_NEST): offset of the netlink attribute of type X in the
 * attribute stream at offset A (or nested inside the attribute at A), 0 if absent.
 */
function netlinkAttr(p: Uint8Array, a: number, x: number, nested: boolean): number {
  const rd16 = (o: number) => p[o] | (p[o + 1] << 8);
  if (p.length < 4 || a > p.length - 4) return 0;
  let start = a;
  let end = p.length;
  if (nested) {
    const len = rd16(a);
    if (len < 4 || len > p.length - a) return 0;
    start = a + 4;
    end = a + len;
  }
  for (let o = start; o + 4 <= end; ) {
    const len = rd16(o);
    if (len < 4 || len > end - o) return 0;
    if ((rd16(o + 2) & 0x3fff) === x) return o;
    o += (len + 3) & ~3;
  }
  return 0;
}
