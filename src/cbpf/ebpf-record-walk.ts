/**
 * A classic filter and the walk over a capture's records as ONE eBPF
 * program, run by the VM's engines (the WebAssembly JIT by default): the
 * eBPF twin of src/pcap/filter-scan's JavaScript walk. The records (pcap
 * layout: a 16-byte header whose caplen is at 8 and wire length at 12, in
 * the file's byte order, then the bytes) are copied into the VM's memory a
 * chunk at a time (or read there in the first place: `buffer`), and the
 * program loops over them with the filter's code
 * (cbpfToEbpfBody) inline, writing the offsets of accepted records to
 * memory: one call into the engine per chunk, none per packet.
 *
 * The memory region: a 32-byte block of results and arguments, the offsets
 * of accepted records (MAX_ROOM words), then the chunk.
 */
import type { Insn, Reg } from '../isa/index.js';
import { DEFAULT_ENGINE, prepare, type Engine, type PreparedProgram, type Region } from '../vm/index.js';
import type { SockFilter } from './insn.js';
import type { SkbMeta } from './run.js';
import { cbpfToEbpfBody } from './to-ebpf-direct.js';

export interface RecordWalkOptions {
  /** The file's records are big-endian (caplen and wire length). */
  readonly bigEndian?: boolean;
  /** A record whose caplen is larger stops the walk (RecordWalkResult.tooLarge). */
  readonly snaplen: number;
  /** Values of ancillary (SKF_AD_*) loads; none by default, as in a capture file. */
  readonly skb?: SkbMeta;
}

/** Where a walk stopped, as filterPcapRecords reports it. */
export interface RecordWalkResult {
  /** Offset in the buffer of the first record not walked. */
  readonly next: number;
  readonly count: number;
  readonly matched: number;
  /** The record at `next` has a caplen above the snap length. */
  readonly tooLarge: boolean;
}

/** Most accepted offsets one call collects. */
export const MAX_ROOM = 4096;
/** Most records one run walks: keeps a run's instruction count within the budget. */
const MAX_RECORDS = 16384;

// Layout of the region (byte offsets from its start).
const NEXT = 0;
const COUNT = 4;
const MATCHED = 8;
const STOP = 12; // why the run stopped: see Stop
const ROOM = 16; // argument: offsets wanted at most
const START = 20; // argument: where the records start in the data area
const MATCHES = 32;
const DATA = MATCHES + 4 * MAX_ROOM;
const HEADER = 16;

/** Why a run stopped (the STOP word): the end of the records or of the room, a record too large, MAX_RECORDS walked. */
const Stop = { End: 0, TooLarge: 1, Records: 2, Room: 3 } as const;

const BASE: Reg = 6;
const CUR: Reg = 8;
const END: Reg = 9;
const COUNTER: Reg = 5;
/** Stack slot of the number of matches (below the filter's M[]). */
const MATCHED_SLOT = -72;

type Label = 'loop' | 'skip' | 'bad' | 'many' | 'full' | 'done';
type Piece = Insn | { readonly label: Label; readonly make: (off: number) => Insn } | { readonly at: Label };

const mov64 = (dst: Reg, src: Reg): Insn => ({ kind: 'alu', width: 64, op: 'mov', dst, src });
const add64k = (dst: Reg, imm: number): Insn => ({ kind: 'alu', width: 64, op: 'add', dst, src: { imm } });
const sub64 = (dst: Reg, src: Reg): Insn => ({ kind: 'alu', width: 64, op: 'sub', dst, src });
const ldxw = (dst: Reg, src: Reg, off: number): Insn => ({ kind: 'ldx', size: 4, signExtend: false, dst, src, off });
const stxw = (dst: Reg, off: number, src: Reg): Insn => ({ kind: 'stx', size: 4, dst, src, off });
const jump = (label: Label, make: (off: number) => Insn): Piece => ({ label, make });
const ja = (label: Label): Piece => jump(label, (off) => ({ kind: 'ja', long: false, off }));

/**
 * The walk program: r1 = the region, r2 = the length in bytes of the
 * records, which start at byte START of the data area. Offsets it reports
 * (NEXT, MATCHES) are from the start of the data area.
 */
export function recordWalkProgram(filter: readonly SockFilter[], opts: RecordWalkOptions): Insn[] {
  const snap = Math.min(Math.max(0, Math.floor(opts.snaplen)), 0x7fffffff);
  const swap = (dst: Reg): Insn[] => (opts.bigEndian ? [{ kind: 'endian', order: 'be', bits: 32, dst }] : []);
  const pieces: Piece[] = [
    mov64(BASE, 1),
    ldxw(CUR, 1, START), { kind: 'alu', width: 64, op: 'add', dst: CUR, src: 1 }, add64k(CUR, DATA),
    mov64(END, CUR), { kind: 'alu', width: 64, op: 'add', dst: END, src: 2 },
    { kind: 'alu', width: 32, op: 'mov', dst: COUNTER, src: { imm: 0 } },
    { kind: 'st', size: 4, dst: 10, off: MATCHED_SLOT, imm: 0 },
    { at: 'loop' },
    // A whole record header left?
    mov64(3, END), sub64(3, CUR),
    jump('done', (off) => ({ kind: 'jmp', width: 64, cond: 'jlt', dst: 3, src: { imm: HEADER }, off })),
    ldxw(4, 10, MATCHED_SLOT), ldxw(3, BASE, ROOM),
    jump('full', (off) => ({ kind: 'jmp', width: 64, cond: 'jge', dst: 4, src: 3, off })),
    jump('many', (off) => ({ kind: 'jmp', width: 64, cond: 'jge', dst: COUNTER, src: { imm: MAX_RECORDS }, off })),
    ldxw(2, CUR, 8), ...swap(2),
    jump('bad', (off) => ({ kind: 'jmp', width: 64, cond: 'jgt', dst: 2, src: { imm: snap }, off })),
    mov64(1, CUR), add64k(1, HEADER),
    // The whole record's bytes left?
    mov64(3, END), sub64(3, 1),
    jump('done', (off) => ({ kind: 'jmp', width: 64, cond: 'jlt', dst: 3, src: 2, off })),
    ...cbpfToEbpfBody(filter, { wirelenBigEndian: opts.bigEndian, skb: opts.skb }),
    jump('skip', (off) => ({ kind: 'jmp', width: 64, cond: 'jeq', dst: 0, src: { imm: 0 }, off })),
    ldxw(4, 10, MATCHED_SLOT),
    mov64(3, 4), { kind: 'alu', width: 64, op: 'lsh', dst: 3, src: { imm: 2 } }, { kind: 'alu', width: 64, op: 'add', dst: 3, src: BASE },
    mov64(0, CUR), sub64(0, BASE), add64k(0, -DATA),
    stxw(3, MATCHES, 0),
    add64k(4, 1), stxw(10, MATCHED_SLOT, 4),
    { at: 'skip' },
    add64k(COUNTER, 1),
    mov64(CUR, 1), { kind: 'alu', width: 64, op: 'add', dst: CUR, src: 2 },
    ja('loop'),
    { at: 'bad' },
    { kind: 'st', size: 4, dst: BASE, off: STOP, imm: Stop.TooLarge },
    ja('done'),
    { at: 'full' },
    { kind: 'st', size: 4, dst: BASE, off: STOP, imm: Stop.Room },
    ja('done'),
    { at: 'many' },
    { kind: 'st', size: 4, dst: BASE, off: STOP, imm: Stop.Records },
    { at: 'done' },
    mov64(0, CUR), sub64(0, BASE), add64k(0, -DATA),
    stxw(BASE, NEXT, 0),
    stxw(BASE, COUNT, COUNTER),
    ldxw(4, 10, MATCHED_SLOT), stxw(BASE, MATCHED, 4),
    { kind: 'exit' },
  ];
  // Resolve labels: a body's own jumps are already relative, so only ours need positions.
  const at = new Map<Label, number>();
  let n = 0;
  for (const p of pieces) {
    if ('at' in p) at.set(p.at, n);
    else n++;
  }
  const out: Insn[] = [];
  for (const p of pieces) {
    if ('at' in p) continue;
    out.push('label' in p ? p.make(at.get(p.label)! - out.length - 1) : p);
  }
  return out;
}

/** A filter's record walk prepared on an engine, with its memory region. */
export class EbpfRecordWalk {
  readonly #program: PreparedProgram;
  readonly #call: (r1: number, r2: number) => number;
  #region: Region | undefined;
  #bytes: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  readonly insns: readonly Insn[];
  /** The engine that runs it (the interpreter when the requested one is not available). */
  readonly engine: Engine;

  constructor(filter: readonly SockFilter[], engine: Engine = DEFAULT_ENGINE, options: RecordWalkOptions) {
    this.insns = recordWalkProgram(filter, options);
    // Enough for MAX_RECORDS records through the longest path of the filter (forward jumps only).
    const budget = (MAX_RECORDS + 1) * (this.insns.length + 8) + 64;
    const program = prepare(this.insns, { engine, budget });
    this.#program = program;
    this.engine = program.engine;
    const fast = (program as Partial<{ callNumber: (r1: number, r2: number) => number }>).callNumber;
    this.#call = typeof fast === 'function' ? fast.bind(program) : (r1, r2) => Number(program.call([r1, r2]).r0 & 0xffffffffn);
  }

  /**
   * Walk the complete records of buf[pos..end), putting the offsets of
   * accepted ones in `matches` (it stops when that is full, or at a record
   * whose caplen is above the snap length).
   */
  walk(buf: Uint8Array, pos: number, end: number, matches: Int32Array): RecordWalkResult {
    const room = matches.length;
    let count = 0;
    let matched = 0;
    for (;;) {
      const size = end - pos;
      // Records already in the data area (read there: see buffer()) are walked where they are.
      const inPlace = this.#isData(buf);
      const base = inPlace ? this.#region!.start : this.#room(size);
      const view = this.#view;
      // Offsets the program reports are from the data area's start: buf[0] in place, buf[pos] when copied.
      const shift = inPlace ? 0 : pos;
      if (!inPlace) this.#bytes.set(buf.subarray(pos, end), base + DATA);
      view.setUint32(base + STOP, Stop.End, true);
      view.setUint32(base + ROOM, Math.min(room - matched, MAX_ROOM), true);
      view.setUint32(base + START, pos - shift, true);
      this.#call(base, size);
      const got = view.getUint32(base + MATCHED, true);
      for (let i = 0; i < got; i++) matches[matched + i] = shift + view.getInt32(base + MATCHES + 4 * i, true);
      matched += got;
      count += view.getUint32(base + COUNT, true);
      const stop = view.getUint32(base + STOP, true);
      pos = shift + view.getUint32(base + NEXT, true);
      // Go on after MAX_RECORDS records, or when MAX_ROOM offsets filled but `matches` has room for more.
      if (stop !== Stop.Records && (stop !== Stop.Room || matched === room)) return { next: pos, count, matched, tooLarge: stop === Stop.TooLarge };
    }
  }

  /**
   * A buffer of at least `size` bytes inside the VM's memory, holding the
   * first `keep` bytes of `from` (the previous buffer): records read into it
   * are walked where they lie, with no copy. Any buffer it returned before,
   * and any view of the VM's memory, may be invalid afterwards.
   */
  buffer(size: number, from?: Uint8Array, keep = 0): Uint8Array {
    const kept = from === undefined || keep === 0 ? undefined : from.slice(0, keep);
    const start = this.#room(size) + DATA;
    if (kept) this.#bytes.set(kept, start);
    return this.#bytes.subarray(start, this.#region!.start + this.#region!.size);
  }

  /** buf is the data area of the current region (from buffer()), still valid. */
  #isData(buf: Uint8Array): boolean {
    const r = this.#region;
    return r !== undefined && buf.buffer === this.#bytes.buffer && buf.byteOffset === r.start + DATA && this.#bytes.buffer === this.#program.space.bytes.buffer;
  }

  /** The start of a region with room for `size` bytes of records (mapping a bigger one when needed). */
  #room(size: number): number {
    const space = this.#program.space;
    let r = this.#region;
    if (r === undefined || r.size < DATA + size) {
      if (r !== undefined) space.unmap(r);
      // At least a chunk of tcpdump -r (256 KiB + 64 KiB), doubling: few remaps.
      r = this.#region = space.map('records', DATA + Math.max(size, r === undefined ? 320 << 10 : 2 * (r.size - DATA)));
    }
    // The memory may have grown (new buffer): take views afresh.
    if (this.#bytes.buffer !== space.bytes.buffer) {
      this.#bytes = space.bytes;
      this.#view = space.view;
    }
    return r.start;
  }
}
