/**
 * The fast path for classic pcap files: walk the records of a buffer in
 * place, handing out offsets rather than packet objects, so filtering a
 * large capture allocates nothing per packet. CaptureParser remains the
 * general reader (pcapng, streams, packets as objects); this is for tools
 * that read a pcap file in big chunks, as `tcpdump -r` does.
 */
import { PcapError } from './errors.js';
import { normalizeLinkType } from './linktype.js';
import { PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './parser.js';

/** What the 24-byte header of a classic pcap file says. */
export interface PcapFileHeader {
  readonly littleEndian: boolean;
  readonly nano: boolean;
  readonly snaplen: number;
  readonly linkType: number;
  /** The raw link type field, with the FCS bits kept (what tcpdump -w copies). */
  readonly rawLinkType: number;
}

export const PCAP_HEADER_SIZE = 24;
export const PCAP_RECORD_HEADER_SIZE = 16;

/** The header of a classic pcap file, or undefined when the bytes do not start one (pcapng, or too short). */
export function pcapFileHeader(bytes: Uint8Array): PcapFileHeader | undefined {
  if (bytes.length < PCAP_HEADER_SIZE) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, PCAP_HEADER_SIZE);
  for (const little of [true, false]) {
    const magic = v.getUint32(0, little);
    if (magic !== PCAP_MAGIC_MICRO && magic !== PCAP_MAGIC_NANO) continue;
    if (v.getUint16(4, little) !== 2) throw new PcapError(`unsupported pcap version ${v.getUint16(4, little)}.${v.getUint16(6, little)}`, 4);
    const rawLinkType = v.getUint32(20, little);
    return {
      littleEndian: little, nano: magic === PCAP_MAGIC_NANO, snaplen: v.getUint32(16, little),
      linkType: normalizeLinkType(rawLinkType & 0x0fffffff), rawLinkType,
    };
  }
  return undefined;
}

/** Called for each record: its offset in the buffer (the 16-byte header; data follows), caplen and wirelen. */
export type RecordVisitor = (record: number, caplen: number, wirelen: number) => void;

/** Where a scan stopped: `next` is the offset of the first incomplete record; `count` the records visited. */
export interface ScanResult {
  readonly next: number;
  readonly count: number;
}

/**
 * Visit the complete records of buf[pos..end). `fileOffset` is the file
 * offset of buf[0] and `number` the number of records before this buffer,
 * for error messages. A captured length above the snap length (when not 0)
 * or above `maxRecord` is a PcapError.
 */
export function scanPcapRecords(
  buf: Uint8Array, pos: number, end: number, header: PcapFileHeader, visit: RecordVisitor,
  fileOffset = 0, number = 0, maxRecord = 256 << 20,
): ScanResult {
  const little = header.littleEndian;
  const snap = header.snaplen === 0 ? maxRecord : Math.min(header.snaplen, maxRecord);
  let count = 0;
  while (end - pos >= PCAP_RECORD_HEADER_SIZE) {
    const caplen = little
      ? (buf[pos + 8] | (buf[pos + 9] << 8) | (buf[pos + 10] << 16) | (buf[pos + 11] << 24)) >>> 0
      : ((buf[pos + 8] << 24) | (buf[pos + 9] << 16) | (buf[pos + 10] << 8) | buf[pos + 11]) >>> 0;
    if (caplen > snap) {
      const why = caplen > maxRecord ? 'is too large' : `is larger than the snap length ${header.snaplen}`;
      throw new PcapError(`captured length ${caplen} ${why}`, fileOffset + pos + 8, number + count + 1);
    }
    if (end - pos - PCAP_RECORD_HEADER_SIZE < caplen) break;
    const wirelen = little
      ? (buf[pos + 12] | (buf[pos + 13] << 8) | (buf[pos + 14] << 16) | (buf[pos + 15] << 24)) >>> 0
      : ((buf[pos + 12] << 24) | (buf[pos + 13] << 16) | (buf[pos + 14] << 8) | buf[pos + 15]) >>> 0;
    visit(pos, caplen, wirelen);
    count++;
    pos += PCAP_RECORD_HEADER_SIZE + caplen;
  }
  return { next: pos, count };
}

/** A packet filter run in place: 0 rejects the packet at buf[start..start+caplen), anything else keeps it. */
export type InPlaceFilter = (buf: Uint8Array, start: number, caplen: number, wirelen: number) => number;

/** Where a filtering scan stopped: as ScanResult, plus how many record offsets it put in `matches`. */
export interface FilterScanResult extends ScanResult {
  readonly matched: number;
}

/**
 * scanPcapRecords with the filter run inline: the offsets of accepted
 * records go to `matches` (at most its length: the scan stops there), so
 * the hot loop makes no call but the filter's.
 */
export function filterPcapRecords(
  buf: Uint8Array, pos: number, end: number, header: PcapFileHeader, filter: InPlaceFilter, matches: Int32Array,
  fileOffset = 0, number = 0, maxRecord = 256 << 20,
): FilterScanResult {
  const shift = header.littleEndian ? [0, 8, 16, 24] : [24, 16, 8, 0];
  const [s0, s1, s2, s3] = shift;
  const snap = header.snaplen === 0 ? maxRecord : Math.min(header.snaplen, maxRecord);
  let count = 0;
  let matched = 0;
  const room = matches.length;
  while (end - pos >= PCAP_RECORD_HEADER_SIZE && matched < room) {
    const caplen = ((buf[pos + 8] << s0) | (buf[pos + 9] << s1) | (buf[pos + 10] << s2) | (buf[pos + 11] << s3)) >>> 0;
    if (caplen > snap) {
      const why = caplen > maxRecord ? 'is too large' : `is larger than the snap length ${header.snaplen}`;
      throw new PcapError(`captured length ${caplen} ${why}`, fileOffset + pos + 8, number + count + 1);
    }
    const data = pos + PCAP_RECORD_HEADER_SIZE;
    if (end - data < caplen) break;
    const wirelen = ((buf[pos + 12] << s0) | (buf[pos + 13] << s1) | (buf[pos + 14] << s2) | (buf[pos + 15] << s3)) >>> 0;
    if (filter(buf, data, caplen, wirelen) !== 0) matches[matched++] = pos;
    count++;
    pos = data + caplen;
  }
  return { next: pos, count, matched };
}
