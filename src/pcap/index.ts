/**
 * Capture files: pcap (microsecond and nanosecond, either byte order) and
 * pcapng (section, interface, enhanced, simple and obsolete packet blocks;
 * many interfaces, each with its link type and timestamp resolution).
 * Readers stream: chunks in, packets out, with flat memory. Writers produce
 * files tcpdump reads back. A seeded packet generator makes varied test
 * traffic. Formats: https://www.tcpdump.org/manpages/pcap-savefile.5.html and
 * the pcapng draft (draft-ietf-opsawg-pcapng).
 */
export { PcapError } from './errors.js';
export * from './linktype.js';
export { timestampNanos, formatTimestamp, type Timestamp, type CaptureInterface, type CapturedPacket, type CaptureFormat } from './packet.js';
export { CaptureParser, BLOCK, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, PCAPNG_SHB, PCAPNG_BYTE_ORDER_MAGIC, type ReaderOptions } from './parser.js';
export { readCapture, parseCapture, readCaptureSync, type ByteSource, type ByteStreamLike } from './reader.js';
export {
  PcapWriter, PcapngWriter, writePcap, writePcapng,
  type PacketToWrite, type PcapWriteOptions, type PcapngWriteOptions, type PcapngInterfaceOptions,
} from './writer.js';
export { generatePackets, GENERATOR_LINK_TYPES, type GeneratedPacket } from './generate.js';
export { pcapFileHeader, scanPcapRecords, filterPcapRecords, type InPlaceFilter, type FilterScanResult, PCAP_HEADER_SIZE, PCAP_RECORD_HEADER_SIZE, type PcapFileHeader, type RecordVisitor, type ScanResult } from './scan.js';
export {
  compilePcapRecordFilter, compilePcapRecordCompactor, vmPcapRecordFilter, vmPcapRecordCompactor,
  type PcapRecordFilter, type PcapRecordCompactor, type CompactScanResult, type RecordWalker, type RecordCompactor,
} from './filter-scan.js';
