/**
 * `bpfkit tcpdump`: compile pcap filter expressions the way tcpdump does
 * (`-d`, `-dd`, `-ddd`, `-O`, `-y`, `-s`), and filter capture files
 * (`-r in.pcap [-w out.pcap]`), printing how many packets matched. The
 * -w output is byte for byte what tcpdump -r -w writes. Filters run with
 * libpcap's semantics, backward jumps (protochain) included; a filter that
 * loops on a packet (where libpcap would spin forever) rejects it, with a
 * warning naming the packet.
 *
 * `-r` on a classic pcap file is raced against tcpdump itself: the file is
 * read in 256 KiB chunks into one buffer, and the filter, compiled together
 * with the walk over the records to WebAssembly (src/cbpf/wasm-record-walk;
 * the buffer is the module's memory), or to JavaScript where WebAssembly is
 * refused (src/pcap/filter-scan), runs where the records lie; with -w the
 * walk also moves the accepted records together, and they are written a
 * MiB at a time. Nothing is allocated per packet. With --engine jit (or
 * interp) the filter and the walk over records are one eBPF program
 * (src/cbpf/ebpf-record-walk), run once per chunk, the file being read
 * straight into the VM's memory. bin/bpfkit.js starts this command from a
 * bundle with V8's code cache (scripts/bundle-commands.ts).
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
// Imported file by file, and the eBPF engines on demand: start-up time is part of what `-r` is measured on.
import { CbpfLoopError } from '../../cbpf/errors.js';
import { dumpFilter, type DumpLevel } from '../../cbpf/image.js';
import type { SockFilter } from '../../cbpf/insn.js';
import { prepareCbpf } from '../../cbpf/run.js';
import {
  filterPcapRecords, LINKTYPE, linkTypeFromName, linkTypeName, parseCapture, pcapFileHeader, PcapWriter,
  PCAP_HEADER_SIZE, PCAP_RECORD_HEADER_SIZE, type InPlaceFilter, type PcapFileHeader,
} from '../../pcap/index.js';
import { compileFilter, type LinkType } from '../../pcap/filter/index.js';
import {
  compilePcapRecordCompactor, compilePcapRecordFilter, recordSnaplen, vmPcapRecordCompactor, vmPcapRecordFilter, type PcapRecordCompactor, type PcapRecordFilter,
} from '../../pcap/filter-scan.js';
import { compileWasmRecordWalk } from '../../cbpf/wasm-record-walk.js';
import type { Engine } from '../../vm/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage:
  bpfkit tcpdump [-d|-dd|-ddd] [-O] [-y LINKTYPE] [-s SNAPLEN] [-i IFACE] EXPRESSION...
  bpfkit tcpdump -r IN.pcap [-w OUT.pcap] [--engine cbpf|interp|jit] [-O] [-d|-dd|-ddd] EXPRESSION...

Options:
  -d, -dd, -ddd  print the compiled filter as tcpdump does (default -d when not reading a file)
  -O             do not run the optimizer
  -y LINKTYPE    link type: EN10MB (default), RAW, LINUX_SLL, LINUX_SLL2, NULL, LOOP
  -s SNAPLEN     snapshot length returned for accepted packets (default 262144)
  -i IFACE       compile for a live Linux capture, as tcpdump -i IFACE -d does (VLAN tags from skb
                 metadata, inbound/outbound/ifindex from SKF_AD_* data); nothing is captured
  -r FILE        read packets from a pcap or pcapng file and count those the filter accepts
  -w FILE        with -r: write the accepted packets to FILE (pcap, as tcpdump -w writes it)
  --engine E     with -r: run the classic filter itself (cbpf, the default and the fastest: compiled
                 with the walk over the records to WebAssembly, or to JavaScript where WebAssembly
                 is refused, or interpreted), or converted to eBPF (direct, bounds-checked
                 packet loads), on the VM's interpreter (interp) or WebAssembly JIT (jit).
                 Filters that jump backwards (protochain) always run as classic BPF.
`;

/** The VM's engines, by name (a Record, so a new Engine fails to typecheck until listed). */
const VM_ENGINES: Record<Engine, true> = { interp: true, jit: true };
const isEngine = (name: string): name is Engine => Object.hasOwn(VM_ENGINES, name);

const SUPPORTED: Record<number, LinkType> = {
  [LINKTYPE.EN10MB]: 'EN10MB',
  [LINKTYPE.RAW]: 'RAW',
  [LINKTYPE.LINUX_SLL]: 'LINUX_SLL',
  [LINKTYPE.LINUX_SLL2]: 'LINUX_SLL2',
  [LINKTYPE.NULL]: 'NULL',
  [LINKTYPE.LOOP]: 'LOOP',
};

interface Options {
  level?: DumpLevel;
  optimize: boolean;
  linkType?: number;
  snaplen?: number;
  read?: string;
  write?: string;
  live: boolean;
  engine: Engine | 'cbpf';
  expr: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { optimize: true, live: false, engine: 'cbpf', expr: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-d': o.level = 1; break;
      case '-dd': o.level = 2; break;
      case '-ddd': o.level = 3; break;
      case '-O': o.optimize = false; break;
      case '-y': {
        const v = value();
        const lt = linkTypeFromName(v);
        if (lt === undefined || SUPPORTED[lt] === undefined) {
          throw new UsageError(`unsupported link type '${v}' (supported: ${Object.values(SUPPORTED).join(', ')})`);
        }
        o.linkType = lt;
        break;
      }
      case '-s': {
        const v = value();
        const n = Number(v);
        if (!/^[0-9]+$/.test(v) || n > 0xffffffff) throw new UsageError(`invalid snaplen '${v}'`);
        o.snaplen = n === 0 ? 262144 : n;
        break;
      }
      case '-r': o.read = value(); break;
      case '-i': value(); o.live = true; break;
      case '-w': o.write = value(); break;
      case '--engine': {
        const v = value();
        if (v !== 'cbpf' && !isEngine(v)) throw new UsageError(`unknown engine '${v}' (cbpf, interp or jit)`);
        o.engine = v;
        break;
      }
      case '--':
        o.expr.push(...argv.slice(i + 1));
        i = argv.length;
        break;
      default:
        if (a.startsWith('-') && a.length > 1 && o.expr.length === 0) throw new UsageError(`unknown option '${a}'\n\n${USAGE}`);
        o.expr.push(a);
    }
  }
  if (o.write && !o.read) throw new UsageError('-w needs -r (bpfkit does not capture live traffic)');
  if (o.live && o.read) throw new UsageError('-i and -r cannot be used together');
  return o;
}

function compileFor(o: Options, linkType: number, snaplen: number): SockFilter[] {
  const name = SUPPORTED[linkType];
  if (!name) throw new UsageError(`link type ${linkTypeName(linkType)} is not supported by the filter compiler`);
  return compileFilter(o.expr.join(' '), { linkType: name, optimize: o.optimize, snaplen, live: o.live });
}

/** Backward jumps (protochain) are libpcap-only: the kernel's rules, and the VM's lowering, refuse them. */
const loops = (filter: readonly SockFilter[]): boolean => filter.some((f) => f.code === 0x05 && f.k >= 0x80000000);

/**
 * The filter as a function on packet bytes in place. A filter that loops
 * (protochain on a malformed header; libpcap would spin forever) rejects the
 * packet, and the packet's number goes to `looped` (calls are one per packet, in order).
 */
async function runnerFor(filter: readonly SockFilter[], engine: Engine | 'cbpf', looped: number[]): Promise<InPlaceFilter> {
  if (engine !== 'cbpf' && !loops(filter)) {
    const { EbpfFilter } = await import('../../cbpf/ebpf-filter.js');
    const e = new EbpfFilter(filter, engine);
    return (buf, start, caplen, wirelen) => e.run(buf, start, caplen, wirelen);
  }
  const run = prepareCbpf(filter, { dialect: 'libpcap' }).asFunction();
  if (!loops(filter)) return run;
  let calls = 0;
  return (buf, start, caplen, wirelen) => {
    calls++;
    try {
      return run(buf, start, caplen, wirelen);
    } catch (e) {
      if (!(e instanceof CbpfLoopError)) throw e;
      looped.push(calls);
      return 0;
    }
  };
}

/** The record walks a filtering uses; `compact` when one moving accepted records as it goes exists. */
interface RecordWalks {
  readonly scan: PcapRecordFilter;
  readonly compact?: PcapRecordCompactor;
  /**
   * Where to read the file (EbpfRecordWalk.buffer: the VM's memory, so the
   * walk copies nothing): a buffer of at least `size` bytes holding the first
   * `keep` bytes of `from`. A plain Uint8Array when absent.
   */
  readonly buffer?: (size: number, from: Uint8Array | undefined, keep: number) => Uint8Array;
}

/**
 * The record walk with the filter: for the classic engine, compiled with
 * the filter inline (no call per packet; with -w of a file written as is,
 * the walk also moves the accepted records together), to WebAssembly whose
 * memory the file is read into, else to JavaScript; for the VM's engines,
 * the walk and the filter as one eBPF program; for filters that loop
 * (protochain), filterPcapRecords calling the cBPF interpreter.
 */
async function recordWalksFor(
  filter: readonly SockFilter[], engine: Engine | 'cbpf', header: PcapFileHeader, looped: number[], writing: boolean,
): Promise<RecordWalks> {
  const wasm = engine === 'cbpf' ? compileWasmRecordWalk(filter, { littleEndian: header.littleEndian, snaplen: recordSnaplen(header) }) : undefined;
  if (wasm) {
    return {
      scan: vmPcapRecordFilter(wasm, header),
      compact: writing && verbatim(header) ? vmPcapRecordCompactor(wasm, header) : undefined,
      buffer: (size, from, keep) => wasm.buffer(size, from, keep),
    };
  }
  const scan = engine === 'cbpf' ? compilePcapRecordFilter(filter, header) : undefined;
  if (scan) return { scan, compact: writing && verbatim(header) ? compilePcapRecordCompactor(filter, header) : undefined };
  if (engine !== 'cbpf' && !loops(filter)) {
    // The filter and the walk over records as one eBPF program, run on a chunk of records at a time.
    const { EbpfRecordWalk } = await import('../../cbpf/ebpf-record-walk.js');
    const walk = new EbpfRecordWalk(filter, engine, { bigEndian: !header.littleEndian, snaplen: recordSnaplen(header) });
    return { scan: vmPcapRecordFilter(walk, header), buffer: (size, from, keep) => walk.buffer(size, from, keep) };
  }
  const run = await runnerFor(filter, engine, looped);
  return { scan: (buf, pos, end, matches, fileOffset, number) => filterPcapRecords(buf, pos, end, header, run, matches, fileOffset, number) };
}

/** Records of this file are copied to -w output as they are (tcpdump -w writes little-endian microseconds). */
const verbatim = (header: PcapFileHeader): boolean => header.littleEndian && !header.nano;

/** Buffered writes of whole records to a file descriptor. */
class RecordSink {
  private readonly buf = new Uint8Array(1 << 20);
  private used = 0;
  constructor(private readonly fd: number) {}

  write(bytes: Uint8Array, start: number, length: number): void {
    if (this.used + length > this.buf.length) this.flush();
    if (length > this.buf.length) {
      writeAll(this.fd, bytes, start, length);
      return;
    }
    const out = this.buf;
    let o = this.used;
    // A view per record costs more than copying a small record byte by byte.
    if (length >= 512) out.set(bytes.subarray(start, start + length), o);
    else for (let i = start, e = start + length; i < e; i++) out[o++] = bytes[i];
    this.used += length;
  }

  flush(): void {
    writeAll(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
}

function writeAll(fd: number, bytes: Uint8Array, start: number, length: number): void {
  while (length > 0) {
    const n = writeSync(fd, bytes, start, length);
    start += n;
    length -= n;
  }
}

interface FilterCounts {
  matched: number;
  total: number;
  /** File offset of a truncated last record, where reading stopped. */
  truncatedAt?: number;
}

/**
 * The records of a classic pcap file, filtered chunk by chunk where they
 * lie in the read buffer. Accepted records are copied to the output
 * unchanged when the file is little-endian with microseconds (what tcpdump
 * -w writes), and re-encoded otherwise.
 */
class PcapFiltering {
  readonly counts: FilterCounts = { matched: 0, total: 0 };
  /** Bytes of accepted records at the front of the buffer, not yet written (a compacting walk's output). */
  held = 0;
  private readonly sink: RecordSink | undefined;
  private readonly verbatim: boolean;
  private readonly writer: PcapWriter;
  private readonly matches = new Int32Array(4096);
  private readonly scan: PcapRecordFilter;
  private readonly compact: PcapRecordCompactor | undefined;

  constructor(private readonly header: PcapFileHeader, walks: RecordWalks, private readonly outFd: number | undefined) {
    this.sink = outFd === undefined ? undefined : new RecordSink(outFd);
    this.verbatim = verbatim(header);
    this.scan = walks.scan;
    this.compact = outFd === undefined || !this.verbatim ? undefined : walks.compact;
    this.writer = new PcapWriter({ linkType: header.rawLinkType, snaplen: header.snaplen });
    if (this.sink) {
      this.sink.write(this.writer.header(), 0, PCAP_HEADER_SIZE);
      if (this.verbatim) this.sink.flush();
    }
  }

  /**
   * Filter the complete records of buf[from..to) (buf[0] is at `fileOffset`
   * in the file); returns where the first incomplete one starts. Accepted
   * records move down to `from` (copyWithin: no allocation; a run of
   * adjacent ones in one copy) and are written at once.
   */
  chunk(buf: Uint8Array, from: number, to: number, fileOffset: number): number {
    const { counts, matches, sink } = this;
    if (this.compact) {
      // Accepted records join those held at the front.
      const r = this.compact(buf, from, to, fileOffset, counts.total, this.held);
      counts.total += r.count;
      counts.matched += r.matched;
      // Accepted records wait at the front of buf (the next chunk is read after them): fewer, larger writes.
      this.held = r.kept;
      if (r.kept >= HOLD) this.release(buf);
      return r.next;
    }
    let pos = from;
    let kept = from;
    let runFrom = from;
    let runTo = from;
    for (;;) {
      const r = this.scan(buf, pos, to, matches, fileOffset, counts.total);
      counts.total += r.count;
      counts.matched += r.matched;
      if (sink) {
        for (let i = 0; i < r.matched; i++) {
          const rec = matches[i];
          if (!this.verbatim) {
            this.emit(buf, rec);
            continue;
          }
          if (rec !== runTo) {
            if (kept !== runFrom) buf.copyWithin(kept, runFrom, runTo);
            kept += runTo - runFrom;
            runFrom = rec;
          }
          runTo = rec + PCAP_RECORD_HEADER_SIZE + readU32(buf, rec + 8, true);
        }
      }
      const done = r.next === pos || r.matched < matches.length;
      pos = r.next;
      if (done) break;
    }
    if (kept !== runFrom) buf.copyWithin(kept, runFrom, runTo);
    kept += runTo - runFrom;
    if (kept > from) writeAll(this.outFd!, buf, from, kept - from);
    return pos;
  }

  /** Write the accepted records waiting at buf[0..held). */
  release(buf: Uint8Array): void {
    if (this.held > 0) writeAll(this.outFd!, buf, 0, this.held);
    this.held = 0;
  }

  /** The end of the file, `left` bytes of a partial record before it (tcpdump stops there too). */
  finish(left: number, fileOffset: number): FilterCounts {
    if (left > 0) this.counts.truncatedAt = fileOffset;
    this.sink?.flush();
    return this.counts;
  }

  private emit(buf: Uint8Array, rec: number): void {
    const little = this.header.littleEndian;
    const caplen = readU32(buf, rec + 8, little);
    const record = this.writer.packet({
      data: buf.subarray(rec + PCAP_RECORD_HEADER_SIZE, rec + PCAP_RECORD_HEADER_SIZE + caplen),
      wirelen: readU32(buf, rec + 12, little),
      timestamp: { seconds: readU32(buf, rec, little), fraction: readU32(buf, rec + 4, little), unitsPerSecond: this.header.nano ? 1e9 : 1e6 },
    });
    this.sink!.write(record, 0, record.length);
  }
}

/**
 * Bytes per read: few system calls, and small enough that the chunk the
 * kernel just copied is still in the CPU's cache while it is filtered
 * (256 KiB measured faster than 64 KiB and than 1 MiB).
 */
const CHUNK = 256 << 10;
/**
 * Accepted records collected at the front of the buffer before they are
 * written (when the walk compacts): one write per MiB rather than one per chunk.
 */
const HOLD = 1 << 20;
/**
 * File bytes are read to buffer offsets congruent to their file offsets
 * modulo this: the kernel copies from the page cache several times faster
 * when source and destination are aligned alike (measured: 25 ms of CPU for
 * 156 MB, against up to 80 ms at some relative offsets).
 */
const ALIGN = 64;
/** Room in front of a chunk for the partial record left from the previous one. */
const HEAD_ROOM = 64 << 10;

/**
 * Classic pcap, the fast path: synchronous reads into one buffer, filtered
 * in place; the partial record at the end of a chunk moves to the front
 * before the next read (the buffer grows for a record longer than the head
 * room). Measured on 2 busy cores, reading ahead on libuv's thread pool
 * (overlapping the kernel's copies with the filtering) cost more CPU time
 * and more wall time than these plain reads.
 */
function filterPcap(fd: number, header: PcapFileHeader, walks: RecordWalks, outFd: number | undefined): FilterCounts {
  const filtering = new PcapFiltering(header, walks, outFd);
  const allocate = walks.buffer ?? ((size: number, from: Uint8Array | undefined, keep: number) => {
    const bytes = new Uint8Array(size);
    if (from !== undefined) bytes.set(from.subarray(0, keep));
    return bytes;
  });
  let buf = allocate(HOLD + HEAD_ROOM + CHUNK, undefined, 0);
  // buf[0..start): accepted records waiting to be written (filtering.held), perhaps a gap after them.
  let start = PCAP_HEADER_SIZE % ALIGN;
  let end = start;
  let fileOffset = PCAP_HEADER_SIZE; // file offset of buf[start]
  try {
    for (;;) {
      if (buf.length - end < CHUNK) buf = allocate(Math.max(2 * buf.length, end + CHUNK), buf, end);
      const n = readSync(fd, buf, end, CHUNK, null);
      if (n === 0) {
        filtering.release(buf);
        return filtering.finish(end - start, fileOffset);
      }
      end += n;
      const pos = filtering.chunk(buf, start, end, fileOffset - start);
      fileOffset += pos - start;
      // The partial record goes after the held records, or up to 63 bytes further so that
      // every byte sits at the same offset modulo 64 as in the file (see ALIGN).
      const held = filtering.held;
      const to = held + (((fileOffset - held) % ALIGN) + ALIGN) % ALIGN;
      buf.copyWithin(to, pos, end);
      end = to + end - pos;
      start = to;
    }
  } catch (e) {
    // What was accepted before the bad record is written, as before it.
    filtering.release(buf);
    throw e;
  }
}

const readU32 = (b: Uint8Array, o: number, little: boolean): number =>
  little ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0 : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** pcapng (or anything else CaptureParser reads): packets as objects, written as pcap. */
function filterOther(bytes: Uint8Array, run: InPlaceFilter, linkType: number, snaplen: number, outFd: number | undefined): FilterCounts {
  const counts: FilterCounts = { matched: 0, total: 0 };
  const sink = outFd === undefined ? undefined : new RecordSink(outFd);
  const writer = new PcapWriter({ linkType, snaplen });
  if (sink) sink.write(writer.header(), 0, PCAP_HEADER_SIZE);
  for (const p of parseCapture(bytes)) {
    if (p.linkType !== linkType) continue;
    counts.total++;
    if (run(p.data, 0, p.data.length, p.wirelen) === 0) continue;
    counts.matched++;
    if (sink) {
      const record = writer.packet({ data: p.data, wirelen: p.wirelen, timestamp: p.timestamp });
      sink.write(record, 0, record.length);
    }
  }
  sink?.flush();
  return counts;
}

function readHead(fd: number): Uint8Array {
  const head = new Uint8Array(PCAP_HEADER_SIZE);
  let got = 0;
  for (let n = -1; n !== 0 && got < head.length; got += n) n = readSync(fd, head, got, head.length - got, null);
  return head.subarray(0, got);
}

export default async function tcpdump(argv: string[], io: CommandIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  const o = parseArgs(argv);
  if (!o.read) {
    const filter = compileFor(o, o.linkType ?? LINKTYPE.EN10MB, o.snaplen ?? 262144);
    io.stdout(dumpFilter(filter, o.level ?? 1));
    return 0;
  }
  const fd = openSync(o.read, 'r');
  let counts: FilterCounts;
  const looped: number[] = [];
  try {
    const header = pcapFileHeader(readHead(fd));
    let linkType: number;
    let bytes: Uint8Array | undefined;
    let snaplen = o.snaplen ?? 262144;
    if (header) {
      // Like tcpdump, the file decides the link type and the snapshot length.
      linkType = header.linkType;
      snaplen = o.snaplen ?? (header.snaplen || 262144);
    } else {
      bytes = new Uint8Array(readFileSync(o.read));
      linkType = parseCapture(bytes).next().value?.linkType ?? o.linkType ?? LINKTYPE.EN10MB;
    }
    const filter = compileFor(o, linkType, snaplen);
    if (o.level !== undefined) {
      io.stdout(dumpFilter(filter, o.level));
      return 0;
    }
    const outFd = o.write === undefined ? undefined : openSync(o.write, 'w');
    try {
      counts = header
        ? filterPcap(fd, header, await recordWalksFor(filter, o.engine, header, looped, outFd !== undefined), outFd)
        : filterOther(bytes!, await runnerFor(filter, o.engine, looped), linkType, snaplen, outFd);
    } finally {
      if (outFd !== undefined) closeSync(outFd);
    }
  } finally {
    closeSync(fd);
  }
  for (const n of looped.slice(0, 10)) {
    io.stderr(`packet ${n}: the filter loops (libpcap would never finish it); packet rejected\n`);
  }
  if (looped.length > 10) io.stderr(`... and ${looped.length - 10} more looping packets\n`);
  io.stdout(`${counts.matched} of ${counts.total} packets matched\n`);
  if (counts.truncatedAt !== undefined) {
    // As tcpdump: the packets before it are filtered and written, and the exit status says the file is damaged.
    io.stderr(`packet ${counts.total + 1}: truncated record at byte ${counts.truncatedAt}\n`);
    return 1;
  }
  return 0;
}
