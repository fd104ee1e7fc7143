import type { MapType } from '../elf/index.js';
import type { AddressSpace, Region } from '../vm/index.js';
import { ERR, MapOperationError } from './errors.js';
import { roundUp8, updateFlagValue, type UpdateFlagName } from './flags.js';

/** What a map is created from: an ELF MapSpec satisfies it. */
export interface MapDefinition {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly mapExtra?: bigint;
}

/** Where maps live and which CPU the running program is on (per-CPU maps read it on every access). */
export interface MapContext {
  readonly space: AddressSpace;
  /** Number of possible CPUs (per-CPU maps keep one value per CPU). */
  readonly cpus: number;
  /** The CPU the program runs on now. */
  cpu(): number;
}

/** Bytes of the descriptor region before the host's scratch key and value. */
const DESCRIPTOR_HEADER = 64;

/**
 * A map living in a VM address space. The program side works on addresses
 * (`lookupAddr` returns the address of the value, 0 for NULL; updates return
 * 0 or a negative errno as the kernel's helpers do). The host side works on
 * bytes and throws MapOperationError with the kernel's errno.
 *
 * Every map owns a small read-only descriptor region: its address is the
 * map's pointer in the program (what lddw of the map gives), and the host
 * uses the rest as scratch space for its own operations, so host and
 * program share one implementation of the semantics.
 */
export abstract class VmMap implements Iterable<[Uint8Array, Uint8Array]> {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly space: AddressSpace;
  readonly descriptor: Region;
  /** The map's pointer as programs see it. */
  readonly handle: number;
  protected readonly ctx: MapContext;

  constructor(def: MapDefinition, ctx: MapContext, scratchValueSize = def.valueSize) {
    this.name = def.name;
    this.type = def.type;
    this.keySize = def.keySize;
    this.valueSize = def.valueSize;
    this.maxEntries = def.maxEntries;
    this.flags = def.flags;
    this.space = ctx.space;
    this.ctx = ctx;
    this.descriptor = ctx.space.map(`map:${def.name}`, DESCRIPTOR_HEADER + roundUp8(def.keySize) + roundUp8(scratchValueSize) + 8, { writable: false });
    this.handle = this.descriptor.start;
    const v = ctx.space.view, d = this.handle;
    // A readable header like struct bpf_map's first fields, for programs that peek.
    v.setUint32(d, def.keySize, true);
    v.setUint32(d + 4, def.valueSize, true);
    v.setUint32(d + 8, def.maxEntries, true);
    v.setUint32(d + 12, def.flags, true);
  }

  /** Size of a value as the host reads and writes it (per-CPU maps: one slot per CPU). */
  get hostValueSize(): number {
    return this.valueSize;
  }

  // ---- program side

  /** bpf_map_lookup_elem: address of the value, or 0. */
  abstract lookupAddr(keyAddr: number): number;
  /** bpf_map_update_elem: 0 or -errno. */
  abstract updateAddr(keyAddr: number, valueAddr: number, flags: number): number;
  /** bpf_map_delete_elem: 0 or -errno. */
  abstract deleteAddr(keyAddr: number): number;
  /** Keys in iteration order, as bytes (copies). */
  abstract keys(): IterableIterator<Uint8Array>;
  /** Number of entries (for arrays: maxEntries). */
  abstract get size(): number;

  // ---- host side

  /** Address of the scratch key (host operations copy their key there). */
  protected get scratchKey(): number {
    return this.handle + DESCRIPTOR_HEADER;
  }

  protected get scratchValue(): number {
    return this.scratchKey + roundUp8(this.keySize);
  }

  protected putScratchKey(key: Uint8Array): number {
    this.checkLength('key', key, this.keySize);
    this.space.bytes.set(key, this.scratchKey);
    return this.scratchKey;
  }

  protected putScratchValue(value: Uint8Array): number {
    this.space.bytes.set(value, this.scratchValue);
    return this.scratchValue;
  }

  protected checkLength(what: string, bytes: Uint8Array, size: number): void {
    if (bytes.length !== size) {
      throw new MapOperationError(this.name, `${what} of ${bytes.length} bytes`, ERR.EINVAL, `the map's ${what} size is ${size}`);
    }
  }

  /** The value stored under `key` (a copy; per-CPU maps give every CPU's value, 8-byte aligned), or undefined. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const a = this.hostLocate(this.putScratchKey(key));
    return a === 0 ? undefined : this.readHostValue(a);
  }

  /** BPF_MAP_UPDATE_ELEM from user space. */
  update(key: Uint8Array, value: Uint8Array, flag: UpdateFlagName | number = 'any'): void {
    this.checkLength('value', value, this.hostValueSize);
    const k = this.putScratchKey(key);
    const r = this.hostUpdate(k, value, updateFlagValue(flag));
    if (r < 0) throw new MapOperationError(this.name, 'update', -r);
  }

  /** BPF_MAP_DELETE_ELEM from user space; false when the key was absent. */
  delete(key: Uint8Array): boolean {
    const r = this.deleteAddr(this.putScratchKey(key));
    if (r === -ERR.ENOENT) return false;
    if (r < 0) throw new MapOperationError(this.name, 'delete', -r);
    return true;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.lookup(key);
  }

  set(key: Uint8Array, value: Uint8Array): this {
    this.update(key, value);
    return this;
  }

  has(key: Uint8Array): boolean {
    return this.hostLocate(this.putScratchKey(key)) !== 0;
  }

  /** Batch lookup of every entry (BPF_MAP_LOOKUP_BATCH in one go). */
  lookupBatch(): [Uint8Array, Uint8Array][] {
    return [...this];
  }

  /** Batch update: every pair, stopping at the first error (it is thrown). */
  updateBatch(entries: Iterable<readonly [Uint8Array, Uint8Array]>, flag: UpdateFlagName | number = 'any'): number {
    let n = 0;
    for (const [k, v] of entries) {
      this.update(k, v, flag);
      n++;
    }
    return n;
  }

  /** Batch delete; returns how many keys were present. */
  deleteBatch(keys: Iterable<Uint8Array>): number {
    let n = 0;
    for (const k of keys) if (this.delete(k)) n++;
    return n;
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }

  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  /** Where the host reads a key's value (per-CPU maps: the first CPU's slot), 0 when absent. */
  protected hostLocate(keyAddr: number): number {
    return this.lookupAddr(keyAddr);
  }

  /** Host update with the value given as bytes; maps whose host values differ from program values override it. */
  protected hostUpdate(keyAddr: number, value: Uint8Array, flags: number): number {
    return this.updateAddr(keyAddr, this.putScratchValue(value), flags);
  }

  /** Copy a value out for the host, given the address lookupAddr returned. */
  protected readHostValue(addr: number): Uint8Array {
    return this.space.bytes.slice(addr, addr + this.valueSize);
  }

  /** Program-side ops that this map type does not support give -EOPNOTSUPP, like the kernel. */
  protected unsupported(): number {
    return -ERR.EOPNOTSUPP;
  }
}
