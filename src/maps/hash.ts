import type { Region } from '../vm/index.js';
import { ERR, MapDefinitionError } from './errors.js';
import { MAP_FLAG, roundUp8, UPDATE } from './flags.js';
import { keyRep, type KeyRep } from './key.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/**
 * HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH. Values live in one
 * region of fixed slots (as the kernel preallocates them); a JS Map from the
 * encoded key to the slot index is the hash table, so a lookup is one
 * Map.get. LRU maps keep the Map in recency order (a lookup moves the key to
 * the end) and evict the oldest key when full, where the kernel's
 * approximate LRU also evicts.
 */
export class HashMap extends VmMap {
  readonly percpu: boolean;
  readonly lru: boolean;
  /** Bytes of one CPU's value. */
  readonly stride: number;
  /** Bytes of one slot (all CPUs). */
  readonly slotSize: number;
  readonly values: Region;
  private readonly index = new Map<KeyRep, number>();
  private readonly slotKeys: (Uint8Array | undefined)[];
  private readonly free: Int32Array;
  private freeTop: number;

  constructor(def: MapDefinition, ctx: MapContext) {
    const percpu = def.type === 'percpu_hash' || def.type === 'lru_percpu_hash';
    const stride = percpu ? roundUp8(def.valueSize) : def.valueSize;
    super(def, ctx, percpu ? stride * ctx.cpus : def.valueSize);
    if (def.keySize === 0 || def.valueSize === 0 || def.maxEntries === 0) {
      throw new MapDefinitionError(def.name, `${def.type} needs non-zero key size, value size and max_entries (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries})`);
    }
    this.percpu = percpu;
    this.lru = def.type === 'lru_hash' || def.type === 'lru_percpu_hash';
    if (this.lru && (def.flags & MAP_FLAG.NO_PREALLOC) !== 0) throw new MapDefinitionError(def.name, 'LRU maps cannot use BPF_F_NO_PREALLOC');
    this.stride = stride;
    this.slotSize = percpu ? stride * ctx.cpus : roundUp8(def.valueSize);
    this.values = ctx.space.map(`map:${def.name}:values`, this.slotSize * def.maxEntries, {
      writable: (def.flags & MAP_FLAG.RDONLY_PROG) === 0,
    });
    this.slotKeys = new Array<Uint8Array | undefined>(def.maxEntries);
    this.free = new Int32Array(def.maxEntries);
    for (let i = 0; i < def.maxEntries; i++) this.free[i] = def.maxEntries - 1 - i;
    this.freeTop = def.maxEntries;
  }

  override get hostValueSize(): number {
    return this.percpu ? this.slotSize : this.valueSize;
  }

  get size(): number {
    return this.index.size;
  }

  lookupAddr(keyAddr: number): number {
    const sp = this.space;
    const k = keyRep(sp.bytes, sp.view, keyAddr, this.keySize);
    const s = this.index.get(k);
    if (s === undefined) return 0;
    if (this.lru) {
      this.index.delete(k);
      this.index.set(k, s);
    }
    return this.values.start + s * this.slotSize + (this.percpu ? this.ctx.cpu() * this.stride : 0);
  }

  protected override hostLocate(keyAddr: number): number {
    const sp = this.space;
    const s = this.index.get(keyRep(sp.bytes, sp.view, keyAddr, this.keySize));
    return s === undefined ? 0 : this.values.start + s * this.slotSize;
  }

  protected override readHostValue(addr: number): Uint8Array {
    return this.space.bytes.slice(addr, addr + this.hostValueSize);
  }

  /** Find or make the slot for a key: its index, or -errno. */
  private upsert(keyAddr: number, flags: number): number {
    if (((flags & ~UPDATE.F_LOCK) >>> 0) > UPDATE.EXIST || (flags & UPDATE.F_LOCK) !== 0) return -ERR.EINVAL;
    const sp = this.space;
    const k = keyRep(sp.bytes, sp.view, keyAddr, this.keySize);
    const s = this.index.get(k);
    if (s !== undefined) {
      if (flags === UPDATE.NOEXIST) return -ERR.EEXIST;
      if (this.lru) {
        this.index.delete(k);
        this.index.set(k, s);
      }
      return s;
    }
    if (flags === UPDATE.EXIST) return -ERR.ENOENT;
    let slot: number;
    if (this.freeTop > 0) slot = this.free[--this.freeTop];
    else if (this.lru) {
      const oldest = this.index.entries().next().value as [KeyRep, number];
      this.index.delete(oldest[0]);
      slot = oldest[1];
    } else return -ERR.E2BIG;
    this.index.set(k, slot);
    this.slotKeys[slot] = sp.bytes.slice(keyAddr, keyAddr + this.keySize);
    if (this.percpu) {
      const a = this.values.start + slot * this.slotSize;
      sp.bytes.fill(0, a, a + this.slotSize);
    }
    return slot;
  }

  updateAddr(keyAddr: number, valueAddr: number, flags: number): number {
    const slot = this.upsert(keyAddr, flags);
    if (slot < 0) return slot;
    const dst = this.values.start + slot * this.slotSize + (this.percpu ? this.ctx.cpu() * this.stride : 0);
    this.space.bytes.copyWithin(dst, valueAddr, valueAddr + this.valueSize);
    return 0;
  }

  protected override hostUpdate(keyAddr: number, value: Uint8Array, flags: number): number {
    const slot = this.upsert(keyAddr, flags);
    if (slot < 0) return slot;
    this.space.bytes.set(value, this.values.start + slot * this.slotSize);
    return 0;
  }

  deleteAddr(keyAddr: number): number {
    const sp = this.space;
    const k = keyRep(sp.bytes, sp.view, keyAddr, this.keySize);
    const s = this.index.get(k);
    if (s === undefined) return -ERR.ENOENT;
    this.index.delete(k);
    this.slotKeys[s] = undefined;
    this.free[this.freeTop++] = s;
    return 0;
  }

  *keys(): IterableIterator<Uint8Array> {
    for (const s of [...this.index.values()]) {
      const k = this.slotKeys[s];
      if (k !== undefined) yield k.slice();
    }
  }

  /** Remove every entry. */
  clear(): void {
    for (const s of this.index.values()) {
      this.slotKeys[s] = undefined;
      this.free[this.freeTop++] = s;
    }
    this.index.clear();
  }
}
