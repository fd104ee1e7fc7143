/**
 * An incremental reader of pcap and pcapng: push bytes in chunks of any
 * size, pull packets as soon as they are complete. The format is detected
 * from the first four bytes. Everything malformed becomes a PcapError with
 * the byte offset and the packet number.
 */
import { ByteQueue } from './byte-queue.js';
import { PcapError } from './errors.js';
import { isKnownLinkType, linkTypeName, normalizeLinkType } from './linktype.js';
import type { CaptureFormat, CaptureInterface, CapturedPacket } from './packet.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** pcapng block types. */
export const BLOCK = { SHB: 0x0a0d0d0a, IDB: 1, PB: 2, SPB: 3, NRB: 4, ISB: 5, EPB: 6 } as const;

export interface ReaderOptions {
  /** Refuse link types missing from the LINKTYPE registry (default true). */
  readonly strictLinkTypes?: boolean;
  /** Largest pcapng block or pcap record accepted, against corrupt lengths (default 256 MiB). */
  readonly maxRecordSize?: number;
}

type State =
  | { kind: 'magic' }
  | { kind: 'pcap'; little: boolean; iface: CaptureInterface }
  | { kind: 'pcapng'; little: boolean; interfaces: CaptureInterface[] };

export class CaptureParser {
  private readonly q = new ByteQueue();
  private state: State = { kind: 'magic' };
  private packets = 0;
  private ended = false;
  private readonly strict: boolean;
  private readonly maxRecord: number;

  constructor(opts: ReaderOptions = {}) {
    this.strict = opts.strictLinkTypes ?? true;
    this.maxRecord = opts.maxRecordSize ?? 256 << 20;
  }

  /** The format, once the first bytes have been seen. */
  get format(): CaptureFormat | undefined {
    return this.state.kind === 'magic' ? undefined : this.state.kind;
  }

  /** The interfaces seen so far (the current pcapng section's, or the pcap file's one). */
  get interfaces(): readonly CaptureInterface[] {
    if (this.state.kind === 'pcap') return [this.state.iface];
    if (this.state.kind === 'pcapng') return this.state.interfaces;
    return [];
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('push after end');
    this.q.push(chunk);
  }

  /** The next complete packet, or undefined until more bytes are pushed. */
  next(): CapturedPacket | undefined {
    for (;;) {
      const s = this.state;
      if (s.kind === 'magic') {
        if (!this.readMagic()) return undefined;
        continue;
      }
      if (s.kind === 'pcap') return this.pcapRecord(s);
      const r = this.pcapngBlock(s);
      if (r === 'more') return undefined;
      if (r !== 'skip') return r;
    }
  }

  /** Call at end of input: throws if the input stopped in the middle of a header, record or block. */
  end(): void {
    this.ended = true;
    const left = this.q.available;
    if (this.state.kind === 'magic') {
      throw new PcapError(left === 0 ? 'empty file, not a capture' : `file too short for a capture header (${left} bytes)`, 0);
    }
    if (this.state.kind === 'pcap' && left > 0) {
      const what = left < 16 ? `${left} bytes left, a record header needs 16` : `${left - 16} of the packet's bytes present, fewer than its captured length`;
      throw new PcapError(`truncated record: ${what}`, this.q.offset, this.packets + 1);
    }
    if (this.state.kind === 'pcapng' && left > 0) {
      throw new PcapError(`truncated block: ${left} bytes left`, this.q.offset, this.packets + 1);
    }
  }

  private fail(reason: string, offset = this.q.offset, packet?: number): never {
    throw new PcapError(reason, offset, packet);
  }

  private readMagic(): boolean {
    if (this.q.available < 4) return false;
    const b = this.q.peek(4);
    const be = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    const le = ((b[3] << 24) | (b[2] << 16) | (b[1] << 8) | b[0]) >>> 0;
    if (be === PCAPNG_SHB) {
      this.state = { kind: 'pcapng', little: true, interfaces: [] };
      return true;
    }
    for (const [magic, little] of [[le, true], [be, false]] as const) {
      if (magic === PCAP_MAGIC_MICRO || magic === PCAP_MAGIC_NANO) {
        if (this.q.available < 24) return false;
        const h = view(this.q.peek(24));
        const major = h.getUint16(4, little);
        const minor = h.getUint16(6, little);
        if (major !== 2) this.fail(`unsupported pcap version ${major}.${minor}`, 4);
        const snaplen = h.getUint32(16, little);
        // The upper bits of the link type field carry FCS length and flags (pcap-savefile.h).
        const linkType = normalizeLinkType(h.getUint32(20, little) & 0x0fffffff);
        this.checkLinkType(linkType, 20);
        this.state = { kind: 'pcap', little, iface: { linkType, snaplen, unitsPerSecond: magic === PCAP_MAGIC_NANO ? 1e9 : 1e6 } };
        this.q.skip(24);
        return true;
      }
    }
    if (be === 0x34cdb2a1 || be === 0x4d3cb2a1 || le === 0xa1b2cd34) this.fail('modified (Kuznetzov) or swapped-nanosecond pcap is not supported', 0);
    return this.fail(`not a pcap or pcapng file (magic 0x${be.toString(16).padStart(8, '0')})`, 0);
  }

  private checkLinkType(linkType: number, offset: number, packet?: number): void {
    if (this.strict && !isKnownLinkType(linkType)) this.fail(`unknown link type ${linkType} (${linkTypeName(linkType)})`, offset, packet);
  }

  private pcapRecord(s: Extract<State, { kind: 'pcap' }>): CapturedPacket | undefined {
    if (this.q.available < 16) return undefined;
    const number = this.packets + 1;
    const offset = this.q.offset;
    const h = view(this.q.peek(16));
    const sec = h.getUint32(0, s.little);
    const frac = h.getUint32(4, s.little);
    const caplen = h.getUint32(8, s.little);
    const wirelen = h.getUint32(12, s.little);
    const snap = s.iface.snaplen;
    if (snap !== 0 && caplen > snap) this.fail(`captured length ${caplen} is larger than the snap length ${snap}`, offset + 8, number);
    if (caplen > this.maxRecord) this.fail(`captured length ${caplen} is too large`, offset + 8, number);
    if (this.q.available < 16 + caplen) {
      if (this.ended) this.fail(`truncated packet: ${caplen} bytes announced`, offset, number);
      return undefined;
    }
    this.q.skip(16);
    const data = this.q.take(caplen);
    this.packets = number;
    return {
      number, data, wirelen, offset, interfaceId: 0, linkType: s.iface.linkType,
      timestamp: { seconds: sec, fraction: frac, unitsPerSecond: s.iface.unitsPerSecond },
    };
  }

  private pcapngBlock(s: Extract<State, { kind: 'pcapng' }>): CapturedPacket | 'more' | 'skip' {
    if (this.q.available < 12) return 'more';
    const offset = this.q.offset;
    const head = this.q.peek(12);
    const hv = view(head);
    let little = s.little;
    const type0 = hv.getUint32(0, true);
    if (type0 === PCAPNG_SHB) {
      const bom = hv.getUint32(8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) little = true;
      else if (bom === 0x4d3c2b1a) little = false;
      else this.fail(`bad byte-order magic 0x${bom.toString(16)} in section header`, offset + 8);
    }
    const type = hv.getUint32(0, little);
    const total = hv.getUint32(4, little);
    const number = this.packets + 1;
    if (total < 12 || total % 4 !== 0) this.fail(`bad block length ${total}`, offset + 4);
    if (total > this.maxRecord) this.fail(`block length ${total} is too large`, offset + 4);
    if (this.q.available < total) return 'more';
    const block = this.q.peek(total);
    const bv = view(block);
    const trailer = bv.getUint32(total - 4, little);
    if (trailer !== total) this.fail(`block length ${total} does not match the trailing length ${trailer}`, offset + total - 4);
    const body = block.subarray(8, total - 4);
    const b = view(body);
    const need = (n: number, what: string) => {
      if (body.length < n) this.fail(`${what} block too short (${total} bytes)`, offset);
    };
    let packet: CapturedPacket | undefined;
    switch (type) {
      case BLOCK.SHB: {
        need(16, 'section header');
        const major = b.getUint16(4, little);
        if (major !== 1) this.fail(`unsupported pcapng version ${major}.${b.getUint16(6, little)}`, offset + 12);
        s.little = little;
        s.interfaces = [];
        break;
      }
      case BLOCK.IDB: {
        need(8, 'interface description');
        const linkType = normalizeLinkType(b.getUint16(0, little));
        this.checkLinkType(linkType, offset + 8);
        const opts = readOptions(body.subarray(8), little, offset + 16, this.fail.bind(this));
        let unitsPerSecond = 1e6;
        let name: string | undefined;
        let tsOffset = 0;
        for (const o of opts) {
          if (o.code === 9 && o.value.length >= 1) {
            const r = o.value[0];
            unitsPerSecond = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** (r & 0x7f);
            if (!Number.isSafeInteger(unitsPerSecond)) this.fail(`timestamp resolution 0x${r.toString(16)} is finer than supported`, offset + 16);
          } else if (o.code === 14 && o.value.length === 8) {
            tsOffset = Number(view(o.value).getBigInt64(0, little));
          } else if (o.code === 2) name = new TextDecoder().decode(o.value);
        }
        s.interfaces.push({ linkType, snaplen: b.getUint32(4, little), unitsPerSecond, ...(name !== undefined ? { name } : {}), ...(tsOffset ? { tsOffset } : {}) });
        break;
      }
      case BLOCK.EPB:
      case BLOCK.PB: {
        need(20, type === BLOCK.EPB ? 'enhanced packet' : 'packet');
        const ifId = type === BLOCK.EPB ? b.getUint32(0, little) : b.getUint16(0, little);
        const tsHigh = b.getUint32(4, little);
        const tsLow = b.getUint32(8, little);
        const caplen = b.getUint32(12, little);
        const wirelen = b.getUint32(16, little);
        const iface = s.interfaces[ifId];
        if (!iface) this.fail(`packet on interface ${ifId}, but the section describes ${s.interfaces.length}`, offset + 8, number);
        if (20 + caplen > body.length) this.fail(`captured length ${caplen} overruns its ${total}-byte block`, offset + 20, number);
        if (iface.snaplen !== 0 && caplen > iface.snaplen) this.fail(`captured length ${caplen} is larger than the snap length ${iface.snaplen}`, offset + 20, number);
        packet = this.makePacket(number, offset, body.subarray(20, 20 + caplen), wirelen, ifId, iface, tsHigh, tsLow);
        break;
      }
      case BLOCK.SPB: {
        need(4, 'simple packet');
        const iface = s.interfaces[0];
        if (!iface) this.fail('simple packet block before any interface description', offset, number);
        const wirelen = b.getUint32(0, little);
        let caplen = Math.min(wirelen, body.length - 4);
        if (iface.snaplen !== 0) caplen = Math.min(caplen, iface.snaplen);
        packet = { ...this.makePacket(number, offset, body.subarray(4, 4 + caplen), wirelen, 0, iface, 0, 0), timestamp: { seconds: 0, fraction: 0, unitsPerSecond: iface.unitsPerSecond } };
        break;
      }
      default:
        break; // name resolution, statistics, custom and unknown blocks carry no packets
    }
    this.q.skip(total);
    if (packet) {
      this.packets = number;
      return packet;
    }
    return 'skip';
  }

  private makePacket(number: number, offset: number, bytes: Uint8Array, wirelen: number, interfaceId: number, iface: CaptureInterface, high: number, low: number): CapturedPacket {
    const ts = BigInt(high) * 0x100000000n + BigInt(low);
    const units = BigInt(iface.unitsPerSecond);
    const seconds = ts / units;
    if (seconds > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('timestamp out of range', offset + 12, number);
    return {
      number, offset, data: bytes.slice(), wirelen, interfaceId, linkType: iface.linkType,
      timestamp: { seconds: Number(seconds) + (iface.tsOffset ?? 0), fraction: Number(ts % units), unitsPerSecond: iface.unitsPerSecond },
    };
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** pcapng options: code, length, value padded to 4 bytes, up to opt_endofopt. */
function readOptions(bytes: Uint8Array, little: boolean, base: number, fail: (r: string, o: number) => never): { code: number; value: Uint8Array }[] {
  const out: { code: number; value: Uint8Array }[] = [];
  const v = view(bytes);
  let p = 0;
  while (p + 4 <= bytes.length) {
    const code = v.getUint16(p, little);
    const len = v.getUint16(p + 2, little);
    if (code === 0) break;
    if (p + 4 + len > bytes.length) fail(`option ${code} of length ${len} overruns its block`, base + p);
    out.push({ code, value: bytes.subarray(p + 4, p + 4 + len) });
    p += 4 + ((len + 3) & ~3);
  }
  return out;
}
