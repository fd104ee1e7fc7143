/**
 * The record walk of filterPcapRecords and a classic filter compiled
 * together into one JavaScript function: the filter's code sits inline in
 * the loop over records (cbpfToJsStatements), so filtering a pcap buffer
 * makes no call per packet and V8 optimises the whole loop as one piece.
 * The byte order, the snap length check and the filter are constants of
 * the generated code. This is what makes `bpfkit tcpdump -r` quick.
 */
import { cbpfToJsStatements } from '../cbpf/compile-js.js';
import type { SockFilter } from '../cbpf/insn.js';
import { PcapError } from './errors.js';
import { PCAP_RECORD_HEADER_SIZE, type FilterScanResult, type PcapFileHeader } from './scan.js';

/**
 * filterPcapRecords with the filter built in: visit the complete records of
 * buf[pos..end), putting the offsets of accepted ones in `matches` (the scan
 * stops when it is full). `fileOffset` and `number` place buf in the file,
 * for the PcapError a captured length above the snap length raises.
 */
export type PcapRecordFilter = (
  buf: Uint8Array, pos: number, end: number, matches: Int32Array, fileOffset?: number, number?: number,
) => FilterScanResult;

/** What a compacting walk did: as FilterScanResult, and where the accepted records it moved now end. */
export interface CompactScanResult extends FilterScanResult {
  readonly kept: number;
}

/**
 * A walk that moves the accepted records of buf[pos..end) down to `dest`
 * (default pos; at most pos) as it goes (a run of adjacent ones in one
 * copyWithin), so that afterwards buf[dest..kept) holds them as they were
 * in the file, ready to be written (tcpdump -w output). Rejected records'
 * bytes are overwritten. Errors as PcapRecordFilter's.
 */
export type PcapRecordCompactor = (buf: Uint8Array, pos: number, end: number, fileOffset?: number, number?: number, dest?: number) => CompactScanResult;

type Generated = (buf: Uint8Array, pos: number, end: number, matches: Int32Array | undefined, res: Float64Array, dest: number) => void;

/**
 * The walk's JavaScript: `offsets` puts accepted record offsets in
 * `matches`, `compact` moves accepted records down. res: [next, count,
 * matched, 1 when stopped at a record too large, end of kept records].
 */
function generate(filter: readonly SockFilter[], header: PcapFileHeader, maxRecord: number, mode: 'offsets' | 'compact'): Generated | undefined {
  const body = cbpfToJsStatements(filter, (v) => `verdict = ${v}; break filter;`);
  if (!body) return undefined;
  const snap = header.snaplen === 0 ? maxRecord : Math.min(header.snaplen, maxRecord);
  // Record header fields through a DataView: one load each (measured faster than four byte loads).
  const u32 = (at: number): string => `view.getUint32(pos + ${at}, ${header.littleEndian})`;
  // The wire length is read only by filters that load it (`ld #len`, `ldx #len`).
  const wirelen = /\bwirelen\b/.test(body.code) ? `const wirelen = ${u32(12)};` : '';
  const offsets = mode === 'offsets';
  const source = `
    return function filterRecords(buf, pos, end, matches, res, dest) {
      let count = 0, matched = 0, bad = 0;
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      ${offsets ? 'const room = matches.length;' : 'let kept = dest, runFrom = pos, runTo = pos;'}
      while (end - pos >= ${PCAP_RECORD_HEADER_SIZE}${offsets ? ' && matched < room' : ''}) {
        const caplen = ${u32(8)};
        if (caplen > ${snap}) { bad = 1; break; }
        const start = pos + ${PCAP_RECORD_HEADER_SIZE};
        if (end - start < caplen) break;
        ${wirelen}
        let verdict = 0;
        filter: {
          ${body.locals}
          ${body.code}
        }
        if (verdict !== 0) {
          ${offsets ? 'matches[matched++] = pos;' : `matched++;
          if (pos !== runTo) {
            if (kept !== runFrom) buf.copyWithin(kept, runFrom, runTo);
            kept += runTo - runFrom;
            runFrom = pos;
          }
          runTo = start + caplen;`}
        }
        count++;
        pos = start + caplen;
      }
      ${offsets ? '' : 'if (kept !== runFrom) buf.copyWithin(kept, runFrom, runTo); kept += runTo - runFrom; res[4] = kept;'}
      res[0] = pos; res[1] = count; res[2] = matched; res[3] = bad;
    };`;
  try {
    return new Function(source)() as Generated;
  } catch {
    return undefined; // code generation refused by the host
  }
}

/** The PcapError for the oversized record at buf[next]. */
function tooLarge(buf: Uint8Array, next: number, header: PcapFileHeader, maxRecord: number, fileOffset: number, number: number): PcapError {
  const caplen = new DataView(buf.buffer, buf.byteOffset + next + 8, 4).getUint32(0, header.littleEndian);
  const why = caplen > maxRecord ? 'is too large' : `is larger than the snap length ${header.snaplen}`;
  return new PcapError(`captured length ${caplen} ${why}`, fileOffset + next + 8, number + 1);
}

/**
 * Compile the walk for files with this header, or undefined when the
 * filter has no structured JavaScript form (backward jumps, or programs
 * only the interpreter runs) or the host refuses to generate code.
 */
export function compilePcapRecordFilter(filter: readonly SockFilter[], header: PcapFileHeader, maxRecord = 256 << 20): PcapRecordFilter | undefined {
  const run = generate(filter, header, maxRecord, 'offsets');
  if (!run) return undefined;
  const res = new Float64Array(5);
  return (buf, pos, end, matches, fileOffset = 0, number = 0) => {
    run(buf, pos, end, matches, res, pos);
    if (res[3] !== 0) throw tooLarge(buf, res[0], header, maxRecord, fileOffset, number + res[1]);
    return { next: res[0], count: res[1], matched: res[2] };
  };
}

/** The compacting walk (see PcapRecordCompactor) for files with this header; undefined as for compilePcapRecordFilter. */
export function compilePcapRecordCompactor(filter: readonly SockFilter[], header: PcapFileHeader, maxRecord = 256 << 20): PcapRecordCompactor | undefined {
  const run = generate(filter, header, maxRecord, 'compact');
  if (!run) return undefined;
  const res = new Float64Array(5);
  return (buf, pos, end, fileOffset = 0, number = 0, dest = pos) => {
    run(buf, pos, end, undefined, res, dest);
    if (res[3] !== 0) throw tooLarge(buf, res[0], header, maxRecord, fileOffset, number + res[1]);
    return { next: res[0], count: res[1], matched: res[2], kept: res[4] };
  };
}

/** The largest caplen a walk over records of files with this header accepts. */
export function recordSnaplen(header: PcapFileHeader, maxRecord = 256 << 20): number {
  return header.snaplen === 0 ? maxRecord : Math.min(header.snaplen, maxRecord);
}

/** A record walk done elsewhere (EbpfRecordWalk: the filter and the walk as one eBPF program on the VM). */
export interface RecordWalker {
  walk(buf: Uint8Array, pos: number, end: number, matches: Int32Array): { readonly next: number; readonly count: number; readonly matched: number; readonly tooLarge: boolean };
}

/**
 * A PcapRecordFilter from a walker built for files with this header and
 * recordSnaplen(header, maxRecord): errors as compilePcapRecordFilter's walk.
 */
export function vmPcapRecordFilter(walker: RecordWalker, header: PcapFileHeader, maxRecord = 256 << 20): PcapRecordFilter {
  return (buf, pos, end, matches, fileOffset = 0, number = 0) => {
    const r = walker.walk(buf, pos, end, matches);
    if (r.tooLarge) throw tooLarge(buf, r.next, header, maxRecord, fileOffset, number + r.count);
    return { next: r.next, count: r.count, matched: r.matched };
  };
}

/** A compacting record walk done elsewhere (WasmRecordWalk: the filter and the walk compiled to WebAssembly). */
export interface RecordCompactor {
  compact(buf: Uint8Array, pos: number, end: number, dest: number): { readonly next: number; readonly count: number; readonly matched: number; readonly tooLarge: boolean; readonly kept: number };
}

/** A PcapRecordCompactor from a compactor built for files with this header and recordSnaplen(header, maxRecord). */
export function vmPcapRecordCompactor(walker: RecordCompactor, header: PcapFileHeader, maxRecord = 256 << 20): PcapRecordCompactor {
  return (buf, pos, end, fileOffset = 0, number = 0, dest = pos) => {
    const r = walker.compact(buf, pos, end, dest);
    if (r.tooLarge) throw tooLarge(buf, r.next, header, maxRecord, fileOffset, number + r.count);
    return { next: r.next, count: r.count, matched: r.matched, kept: r.kept };
  };
}
