/**
 * Running a classic filter on the VM's engines (the WebAssembly JIT by
 * default, or the interpreter): lowered by cbpfToEbpfDirect, so packet
 * loads are direct bounds-checked loads from r1 = packet, r2 = caplen, and
 * the wire length is the word before the packet. One memory region is
 * mapped once and reused: either a packet (with its wire length in front)
 * is copied in per run, or a whole chunk of a capture file is copied in at
 * once (`load`) and each record runs where it lies (`runAt`: no copy, no
 * allocation, no BigInt per packet).
 */
import type { Insn } from '../isa/index.js';
import { DEFAULT_ENGINE, prepare, type Engine, type PreparedProgram, type Region } from '../vm/index.js';
import type { SockFilter } from './insn.js';
import type { SkbMeta } from './run.js';
import { cbpfToEbpfDirect } from './to-ebpf-direct.js';

export interface EbpfFilterOptions {
  /** Byte order of the wire length before each packet given to runAt (a pcap file's own; default little-endian). */
  readonly wirelenBigEndian?: boolean;
  /** Values of ancillary (SKF_AD_*) loads; none by default, as in a capture file. */
  readonly skb?: SkbMeta;
}

/** The JIT's allocation-free call, when the engine has it (JitProgram.callNumber). */
type NumberCall = (r1: number, r2: number) => number;

/** Room before a packet copied by run(): a pcap record header, whose last word is the wire length. */
const HEAD = 16;

export class EbpfFilter {
  readonly #program: PreparedProgram;
  readonly #call: NumberCall;
  readonly #bigEndian: boolean;
  #region: Region | undefined;
  #bytes: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  /** The eBPF program that runs. */
  readonly insns: readonly Insn[];
  /** The engine that runs it (the interpreter when the requested one is not available). */
  readonly engine: Engine;

  constructor(filter: readonly SockFilter[], engine: Engine = DEFAULT_ENGINE, options: EbpfFilterOptions = {}) {
    this.insns = cbpfToEbpfDirect(filter, options);
    this.#bigEndian = options.wirelenBigEndian ?? false;
    const program = prepare(this.insns, { engine });
    this.#program = program;
    this.engine = program.engine;
    const fast = (program as Partial<{ callNumber: NumberCall }>).callNumber;
    this.#call = typeof fast === 'function'
      ? fast.bind(program)
      : (r1, r2) => Number(program.call([r1, r2]).r0 & 0xffffffffn);
  }

  /**
   * Copy buf[from..to) into the sandbox (one region, grown when too small);
   * returns the address buf[from] now has. Valid until the next load or run.
   */
  load(buf: Uint8Array, from: number, to: number): number {
    const size = to - from;
    const start = this.#room(size);
    this.#bytes.set(buf.subarray(from, to), start);
    return start;
  }

  /**
   * Run on the loaded packet at `address` with `caplen` captured bytes (its
   * wire length in the 4 bytes before it): 0 rejects, anything else is the
   * snap length to keep.
   */
  runAt(address: number, caplen: number): number {
    return this.#call(address, caplen);
  }

  /** 0 rejects the packet at buf[start..start+caplen); anything else is the snap length to keep. */
  run(buf: Uint8Array, start = 0, caplen = buf.length - start, wirelen = caplen): number {
    const at = this.#room(HEAD + caplen) + HEAD;
    this.#view.setUint32(at - 4, wirelen >>> 0, !this.#bigEndian);
    this.#bytes.set(buf.subarray(start, start + caplen), at);
    return this.#call(at, caplen);
  }

  /** The start of a region of at least `size` bytes (mapping a bigger one when needed). */
  #room(size: number): number {
    const space = this.#program.space;
    let r = this.#region;
    if (r === undefined || r.size < size) {
      if (r !== undefined) space.unmap(r);
      // At least 256 KiB + 64 KiB (a chunk of tcpdump -r), doubling: few remaps.
      r = this.#region = space.map('packets', Math.max(size, r === undefined ? 320 << 10 : 2 * r.size), { writable: false });
    }
    // The memory may have grown (new buffer): take views afresh.
    if (this.#bytes.buffer !== space.bytes.buffer) {
      this.#bytes = space.bytes;
      this.#view = space.view;
    }
    return r.start;
  }
}
