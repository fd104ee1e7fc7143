import type { Region } from '../vm/index.js';
import { ERR, MapDefinitionError } from './errors.js';
import { MAP_FLAG, roundUp8, UPDATE } from './flags.js';
import type { MapLayout } from './layout.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/**
 * ARRAY and PERCPU_ARRAY: every index exists and starts zeroed; values are
 * 8-byte aligned slots in one region (global data maps are one-slot arrays
 * whose bytes the program addresses directly). Delete is -EINVAL.
 */
export class ArrayMap extends VmMap {
  readonly percpu: boolean;
  readonly stride: number;
  readonly slotSize: number;
  readonly values: Region;

  constructor(def: MapDefinition, ctx: MapContext, initial?: Uint8Array) {
    const percpu = def.type === 'percpu_array';
    const stride = roundUp8(def.valueSize);
    super(def, ctx, percpu ? stride * ctx.cpus : def.valueSize);
    if (def.keySize !== 4) throw new MapDefinitionError(def.name, `${def.type} needs a 4-byte key, not ${def.keySize}`);
    if (def.valueSize === 0 || def.maxEntries === 0) throw new MapDefinitionError(def.name, `${def.type} needs non-zero value size and max_entries`);
    this.percpu = percpu;
    this.stride = stride;
    this.slotSize = percpu ? stride * ctx.cpus : stride;
    this.values = ctx.space.map(`map:${def.name}:values`, this.slotSize * def.maxEntries, {
      writable: (def.flags & MAP_FLAG.RDONLY_PROG) === 0,
    });
    if (initial !== undefined) ctx.space.bytes.set(initial.subarray(0, def.valueSize), this.values.start);
  }

  override get hostValueSize(): number {
    return this.percpu ? this.slotSize : this.valueSize;
  }

  get size(): number {
    return this.maxEntries;
  }

  /** Where code generators find the values (per-CPU arrays have none: their lookups depend on the current CPU). */
  get layout(): MapLayout | undefined {
    if (this.percpu) return undefined;
    return { kind: 'array', handle: this.handle, valueSize: this.valueSize, maxEntries: this.maxEntries, values: this.values.start, slotSize: this.slotSize };
  }

  lookupAddr(keyAddr: number): number {
    const i = this.space.view.getUint32(keyAddr, true);
    if (i >= this.maxEntries) return 0;
    return this.values.start + i * this.slotSize + (this.percpu ? this.ctx.cpu() * this.stride : 0);
  }

  protected override hostLocate(keyAddr: number): number {
    const i = this.space.view.getUint32(keyAddr, true);
    return i >= this.maxEntries ? 0 : this.values.start + i * this.slotSize;
  }

  protected override readHostValue(addr: number): Uint8Array {
    return this.space.bytes.slice(addr, addr + this.hostValueSize);
  }

  private check(keyAddr: number, flags: number): number {
    if (((flags & ~UPDATE.F_LOCK) >>> 0) > UPDATE.EXIST || (flags & UPDATE.F_LOCK) !== 0) return -ERR.EINVAL;
    const i = this.space.view.getUint32(keyAddr, true);
    if (i >= this.maxEntries) return -ERR.E2BIG;
    if (flags === UPDATE.NOEXIST) return -ERR.EEXIST;
    return i;
  }

  updateAddr(keyAddr: number, valueAddr: number, flags: number): number {
    const i = this.check(keyAddr, flags);
    if (i < 0) return i;
    const dst = this.values.start + i * this.slotSize + (this.percpu ? this.ctx.cpu() * this.stride : 0);
    this.space.bytes.copyWithin(dst, valueAddr, valueAddr + this.valueSize);
    return 0;
  }

  protected override hostUpdate(keyAddr: number, value: Uint8Array, flags: number): number {
    const i = this.check(keyAddr, flags);
    if (i < 0) return i;
    this.space.bytes.set(value, this.values.start + i * this.slotSize);
    return 0;
  }

  deleteAddr(): number {
    return -ERR.EINVAL;
  }

  *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.maxEntries; i++) {
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, i, true);
      yield k;
    }
  }

  /** The live bytes of slot `index` (all CPUs for per-CPU arrays). */
  slot(index: number): Uint8Array {
    const a = this.values.start + index * this.slotSize;
    return this.space.bytes.subarray(a, a + this.hostValueSize);
  }
}
