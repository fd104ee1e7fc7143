/**
 * Writing pcap and pcapng. The writers are incremental (a header, then one
 * record per packet) so large captures can be written as a stream;
 * `writePcap` and `writePcapng` build a whole file in memory.
 */
import { PcapError } from './errors.js';
import { LINKTYPE } from './linktype.js';
import { BLOCK, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, PCAPNG_BYTE_ORDER_MAGIC } from './parser.js';
import type { Timestamp } from './packet.js';

/** A packet to write; the timestamp defaults to 0 and the wire length to the data's length. */
export interface PacketToWrite {
  readonly data: Uint8Array;
  readonly wirelen?: number;
  readonly timestamp?: Timestamp;
  /** pcapng only: index into the interfaces given to the writer. */
  readonly interfaceId?: number;
}

export interface PcapWriteOptions {
  readonly linkType?: number;
  /** Default 262144, tcpdump's. */
  readonly snaplen?: number;
  /** 'micro' (default) or 'nano' timestamps. */
  readonly precision?: 'micro' | 'nano';
  /** Byte order of the file (default little-endian). */
  readonly bigEndian?: boolean;
}

/** Convert a timestamp to whole seconds and a fraction in the given units (rounding down). */
function toUnits(t: Timestamp | undefined, units: number): { seconds: number; fraction: number } {
  if (!t) return { seconds: 0, fraction: 0 };
  if (t.unitsPerSecond === units) return { seconds: t.seconds, fraction: t.fraction };
  return { seconds: t.seconds, fraction: Number((BigInt(t.fraction) * BigInt(units)) / BigInt(t.unitsPerSecond)) };
}

export class PcapWriter {
  private count = 0;
  private offset = 24;
  readonly snaplen: number;
  readonly linkType: number;
  private readonly units: number;
  private readonly little: boolean;

  constructor(private readonly opts: PcapWriteOptions = {}) {
    this.snaplen = opts.snaplen ?? 262144;
    this.linkType = opts.linkType ?? LINKTYPE.EN10MB;
    this.units = opts.precision === 'nano' ? 1e9 : 1e6;
    this.little = !opts.bigEndian;
  }

  /** The 24-byte file header. */
  header(): Uint8Array {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    v.setUint32(0, this.opts.precision === 'nano' ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, this.little);
    v.setUint16(4, 2, this.little);
    v.setUint16(6, 4, this.little);
    v.setUint32(16, this.snaplen, this.little);
    v.setUint32(20, this.linkType, this.little);
    return b;
  }

  /** One record: 16-byte header and the data. */
  packet(p: PacketToWrite): Uint8Array {
    this.count++;
    if (this.snaplen !== 0 && p.data.length > this.snaplen) {
      throw new PcapError(`packet of ${p.data.length} bytes is larger than the snap length ${this.snaplen}`, this.offset, this.count);
    }
    const b = new Uint8Array(16 + p.data.length);
    const v = new DataView(b.buffer);
    const { seconds, fraction } = toUnits(p.timestamp, this.units);
    v.setUint32(0, seconds, this.little);
    v.setUint32(4, fraction, this.little);
    v.setUint32(8, p.data.length, this.little);
    v.setUint32(12, p.wirelen ?? p.data.length, this.little);
    b.set(p.data, 16);
    this.offset += b.length;
    return b;
  }
}

export interface PcapngInterfaceOptions {
  readonly linkType: number;
  readonly snaplen?: number;
  /** Timestamp units per second: a power of 10 or of 2 (default 1e6). */
  readonly unitsPerSecond?: number;
  readonly name?: string;
}

export interface PcapngWriteOptions {
  readonly interfaces?: readonly PcapngInterfaceOptions[];
  readonly bigEndian?: boolean;
  /** Block type for packets: enhanced (default), simple (no timestamp, interface 0), or the obsolete packet block. */
  readonly packetBlock?: 'epb' | 'spb' | 'pb';
}

function tsresol(units: number): number {
  for (let n = 0; n < 128; n++) {
    if (10 ** n === units) return n;
    if (2 ** n === units) return 0x80 | n;
  }
  throw new PcapError(`timestamp units ${units} per second are not a power of 10 or 2`, 0);
}

export class PcapngWriter {
  private count = 0;
  private offset = 0;
  private readonly little: boolean;
  readonly interfaces: readonly Required<Omit<PcapngInterfaceOptions, 'name'>>[];

  constructor(private readonly opts: PcapngWriteOptions = {}) {
    this.little = !opts.bigEndian;
    this.interfaces = (opts.interfaces ?? [{ linkType: LINKTYPE.EN10MB }]).map((i) => ({
      linkType: i.linkType, snaplen: i.snaplen ?? 262144, unitsPerSecond: i.unitsPerSecond ?? 1e6,
    }));
  }

  private block(type: number, body: Uint8Array): Uint8Array {
    const padded = (body.length + 3) & ~3;
    const total = 12 + padded;
    const b = new Uint8Array(total);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, this.little);
    v.setUint32(4, total, this.little);
    b.set(body, 8);
    v.setUint32(total - 4, total, this.little);
    this.offset += total;
    return b;
  }

  /** The section header and one interface description per interface. */
  header(): Uint8Array {
    const shb = new Uint8Array(16);
    const sv = new DataView(shb.buffer);
    sv.setUint32(0, PCAPNG_BYTE_ORDER_MAGIC, this.little);
    sv.setUint16(4, 1, this.little);
    sv.setUint16(6, 0, this.little);
    sv.setBigInt64(8, -1n, this.little); // section length not given
    const parts = [this.block(BLOCK.SHB, shb)];
    this.interfaces.forEach((iface, i) => {
      const name = this.opts.interfaces?.[i]?.name;
      const nameBytes = name !== undefined ? new TextEncoder().encode(name) : undefined;
      const optLen = (nameBytes ? 4 + ((nameBytes.length + 3) & ~3) : 0) + (iface.unitsPerSecond !== 1e6 ? 8 : 0) + 4;
      const body = new Uint8Array(8 + optLen);
      const v = new DataView(body.buffer);
      v.setUint16(0, iface.linkType, this.little);
      v.setUint32(4, iface.snaplen, this.little);
      let p = 8;
      if (nameBytes) {
        v.setUint16(p, 2, this.little);
        v.setUint16(p + 2, nameBytes.length, this.little);
        body.set(nameBytes, p + 4);
        p += 4 + ((nameBytes.length + 3) & ~3);
      }
      if (iface.unitsPerSecond !== 1e6) {
        v.setUint16(p, 9, this.little);
        v.setUint16(p + 2, 1, this.little);
        body[p + 4] = tsresol(iface.unitsPerSecond);
        p += 8;
      }
      // opt_endofopt: four zero bytes already there.
      parts.push(this.block(BLOCK.IDB, body));
    });
    return concatBytes(parts);
  }

  /** One packet block. */
  packet(p: PacketToWrite): Uint8Array {
    this.count++;
    const kind = this.opts.packetBlock ?? 'epb';
    const ifId = kind === 'spb' ? 0 : p.interfaceId ?? 0;
    const iface = this.interfaces[ifId];
    if (!iface) throw new PcapError(`interface ${ifId} was not declared`, this.offset, this.count);
    if (iface.snaplen !== 0 && p.data.length > iface.snaplen) {
      throw new PcapError(`packet of ${p.data.length} bytes is larger than the snap length ${iface.snaplen}`, this.offset, this.count);
    }
    const wirelen = p.wirelen ?? p.data.length;
    if (kind === 'spb') {
      if (wirelen !== p.data.length && p.data.length !== iface.snaplen) {
        throw new PcapError('a simple packet block cannot hold a truncated packet unless it is truncated at the snap length', this.offset, this.count);
      }
      const body = new Uint8Array(4 + p.data.length);
      new DataView(body.buffer).setUint32(0, wirelen, this.little);
      body.set(p.data, 4);
      return this.block(BLOCK.SPB, body);
    }
    const body = new Uint8Array(20 + p.data.length);
    const v = new DataView(body.buffer);
    const { seconds, fraction } = toUnits(p.timestamp, iface.unitsPerSecond);
    const ts = BigInt(seconds) * BigInt(iface.unitsPerSecond) + BigInt(fraction);
    if (kind === 'epb') v.setUint32(0, ifId, this.little);
    else v.setUint16(0, ifId, this.little);
    v.setUint32(4, Number(ts >> 32n), this.little);
    v.setUint32(8, Number(ts & 0xffffffffn), this.little);
    v.setUint32(12, p.data.length, this.little);
    v.setUint32(16, wirelen, this.little);
    body.set(p.data, 20);
    return this.block(kind === 'epb' ? BLOCK.EPB : BLOCK.PB, body);
  }
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A whole pcap file. */
export function writePcap(packets: Iterable<PacketToWrite>, opts: PcapWriteOptions = {}): Uint8Array {
  const w = new PcapWriter(opts);
  const parts = [w.header()];
  for (const p of packets) parts.push(w.packet(p));
  return concatBytes(parts);
}

/** A whole pcapng file (one section). */
export function writePcapng(packets: Iterable<PacketToWrite>, opts: PcapngWriteOptions = {}): Uint8Array {
  const w = new PcapngWriter(opts);
  const parts = [w.header()];
  for (const p of packets) parts.push(w.packet(p));
  return concatBytes(parts);
}
