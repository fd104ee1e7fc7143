/**
 * Running a classic filter the kernel's way: converted to eBPF
 * (cbpfToEbpf) and run by one of the VM's engines (the interpreter, or the
 * WebAssembly JIT once registered), on packets given as a slice of a larger
 * buffer. The packet is the VM's "packet" region (what ldabs/ldind read) and
 * r1 a `__sk_buff` whose len is the wire length, as `ld #len` wants.
 */
import { DEFAULT_ENGINE, prepare, type Engine, type PreparedProgram, type Region } from '../vm/index.js';
import { cbpfToEbpf } from './to-ebpf.js';
import type { SockFilter } from './insn.js';
import { SK_BUFF, skBuffContext } from './skbuff.js';

export class EbpfFilter {
  readonly #program: PreparedProgram;
  readonly #ctx: Region;
  #packet: Region | undefined;
  /** The engine that runs it (the interpreter when the requested one is not available). */
  readonly engine: Engine;

  constructor(filter: readonly SockFilter[], engine: Engine = DEFAULT_ENGINE) {
    this.#program = prepare(cbpfToEbpf(filter), { engine });
    this.engine = this.#program.engine;
    this.#ctx = this.#program.space.map('ctx', skBuffContext(0), { writable: false });
  }

  /** 0 rejects the packet at buf[start..start+caplen); anything else is the snap length to keep. */
  run(buf: Uint8Array, start = 0, caplen = buf.length - start, wirelen = caplen): number {
    const space = this.#program.space;
    if (this.#packet !== undefined) space.unmap(this.#packet);
    this.#packet = caplen > 0 ? space.map('packet', buf.subarray(start, start + caplen), { writable: false }) : undefined;
    // Views may have been replaced by the map: read them afresh.
    space.view.setUint32(this.#ctx.start + SK_BUFF.len, wirelen >>> 0, true);
    return Number(this.#program.call([this.#ctx.start]).r0 & 0xffffffffn);
  }
}
