import type { Region } from '../vm/index.js';
import { ERR, MapDefinitionError } from './errors.js';
import { MAP_FLAG, roundUp8, UPDATE } from './flags.js';
import { HashTable } from './hash-table.js';
import type { MapLayout } from './layout.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/**
 * HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH. Values live in one
 * region of fixed slots (as the kernel preallocates them); the index from
 * key to slot is a hash table in the same linear memory (hash-table.ts), so
 * code compiled into the JIT's module can look keys up and insert them
 * without leaving WebAssembly (see `layout`). Iteration follows insertion
 * order. LRU maps keep recency order instead (a lookup moves the key to the
 * end) and evict the oldest key when full, where the kernel's approximate
 * LRU also evicts.
 */
export class HashMap extends VmMap {
  readonly percpu: boolean;
  readonly lru: boolean;
  /** Bytes of one CPU's value. */
  readonly stride: number;
  /** Bytes of one slot (all CPUs). */
  readonly slotSize: number;
  readonly values: Region;
  readonly table: HashTable;

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
    this.table = new HashTable(ctx.space, def.name, def.keySize, def.maxEntries);
  }

  override get hostValueSize(): number {
    return this.percpu ? this.slotSize : this.valueSize;
  }

  get size(): number {
    return this.table.count;
  }

  /**
   * Where code generators find a plain hash map's table and values (the
   * per-CPU and LRU kinds have none: their lookups depend on the current
   * CPU or reorder the table, so they stay on the host).
   */
  get layout(): MapLayout | undefined {
    if (this.percpu || this.lru) return undefined;
    return { kind: 'hash', handle: this.handle, keySize: this.keySize, valueSize: this.valueSize, values: this.values.start, slotSize: this.slotSize, table: this.table.layout() };
  }

  lookupAddr(keyAddr: number): number {
    const s = this.table.find(keyAddr);
    if (s < 0) return 0;
    if (this.lru) this.table.touch(s);
    return this.values.start + s * this.slotSize + (this.percpu ? this.ctx.cpu() * this.stride : 0);
  }

  protected override hostLocate(keyAddr: number): number {
    const s = this.table.find(keyAddr);
    return s < 0 ? 0 : this.values.start + s * this.slotSize;
  }

  protected override readHostValue(addr: number): Uint8Array {
    return this.space.bytes.slice(addr, addr + this.hostValueSize);
  }

  /** Find or make the slot for a key: its index, or -errno. */
  private upsert(keyAddr: number, flags: number): number {
    if (((flags & ~UPDATE.F_LOCK) >>> 0) > UPDATE.EXIST || (flags & UPDATE.F_LOCK) !== 0) return -ERR.EINVAL;
    const t = this.table;
    const p = t.probe(keyAddr);
    if (p >= 0) {
      if (flags === UPDATE.NOEXIST) return -ERR.EEXIST;
      if (this.lru) t.touch(p);
      return p;
    }
    if (flags === UPDATE.EXIST) return -ERR.ENOENT;
    let slot = t.insert(keyAddr, ~p);
    if (slot < 0) {
      if (!this.lru) return -ERR.E2BIG;
      t.remove(t.oldest());
      slot = t.insert(keyAddr, ~t.probe(keyAddr));
    }
    if (this.percpu) {
      const a = this.values.start + slot * this.slotSize;
      this.space.bytes.fill(0, a, a + this.slotSize);
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
    const s = this.table.find(keyAddr);
    if (s < 0) return -ERR.ENOENT;
    this.table.remove(s);
    return 0;
  }

  *keys(): IterableIterator<Uint8Array> {
    for (const s of this.table.slots()) if (this.table.live(s)) yield this.table.keyAt(s);
  }

  /** Remove every entry. */
  clear(): void {
    this.table.clear();
  }
}
