import type { Region } from '../vm/index.js';
import { ERR, MapDefinitionError } from './errors.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/** bpf_get_stackid flags. */
export const STACKID_FLAG = { SKIP_MASK: 0xff, USER_STACK: 1 << 8, FAST_STACK_CMP: 1 << 9, REUSE_STACKID: 1 << 10 } as const;

/**
 * STACK_TRACE: stack id -> instruction pointers (u64 each, zero-padded).
 * Ids are a hash of the stack into a power-of-two number of buckets, as in
 * the kernel; a different stack in a taken bucket is -EEXIST unless
 * BPF_F_REUSE_STACKID replaces it.
 */
export class StackTraceMap extends VmMap {
  readonly values: Region;
  readonly buckets: number;
  private readonly present: (bigint[] | undefined)[];

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    if (def.keySize !== 4 || def.valueSize === 0 || def.valueSize % 8 !== 0 || def.maxEntries === 0) {
      throw new MapDefinitionError(def.name, 'stack_trace needs a 4-byte key and a value of whole u64 instruction pointers');
    }
    this.buckets = 2 ** Math.ceil(Math.log2(def.maxEntries));
    this.values = ctx.space.map(`map:${def.name}:values`, this.buckets * def.valueSize, { writable: false });
    this.present = new Array<bigint[] | undefined>(this.buckets);
  }

  get size(): number {
    return this.present.filter((p) => p !== undefined).length;
  }

  /** bpf_get_stackid's core: the id of `ips` (stored), or -errno. */
  store(ips: readonly bigint[], flags: number): number {
    const depth = Math.min(ips.length, this.valueSize / 8);
    if (depth === 0) return -ERR.EFAULT;
    const trace = ips.slice(0, depth);
    let h = 0x811c9dc5;
    for (const ip of trace) for (let s = 0n; s < 64n; s += 8n) h = Math.imul(h ^ Number((ip >> s) & 0xffn), 0x01000193);
    const id = (h >>> 0) & (this.buckets - 1);
    const old = this.present[id];
    if (old !== undefined) {
      if (old.length === trace.length && old.every((x, i) => x === trace[i])) return id;
      if ((flags & STACKID_FLAG.REUSE_STACKID) === 0) return -ERR.EEXIST;
    }
    this.present[id] = trace;
    const a = this.values.start + id * this.valueSize;
    this.space.bytes.fill(0, a, a + this.valueSize);
    trace.forEach((ip, i) => this.space.view.setBigUint64(a + 8 * i, ip, true));
    return id;
  }

  lookupAddr(keyAddr: number): number {
    const id = this.space.view.getUint32(keyAddr, true);
    return id < this.buckets && this.present[id] !== undefined ? this.values.start + id * this.valueSize : 0;
  }

  updateAddr(): number {
    return -ERR.EINVAL;
  }

  deleteAddr(keyAddr: number): number {
    const id = this.space.view.getUint32(keyAddr, true);
    if (id >= this.buckets || this.present[id] === undefined) return -ERR.ENOENT;
    this.present[id] = undefined;
    return 0;
  }

  *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.buckets; i++) if (this.present[i] !== undefined) yield new Uint8Array(new Uint32Array([i]).buffer);
  }
}
