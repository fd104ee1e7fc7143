import type { AddressSpace, Region } from '../vm/index.js';

/**
 * The index of the hash maps, kept in the VM's linear memory so that the
 * host (this class) and code compiled into the JIT's WebAssembly module
 * (src/jit/inline-maps.ts, which must agree with every detail below) work on
 * the same bytes.
 *
 * Open addressing with linear probing over a power-of-two array of i32
 * buckets (slot + 1; 0 = empty), at most 2/3 full, so every probe ends at
 * an empty bucket. Deletion shifts the entries that follow back into the
 * hole (no tombstones). Slots (where the keys, and in the map's value
 * region the values, live) are handed out in order 0, 1, 2...; freed ones
 * are reused last-freed first. A doubly linked list through the slots keeps
 * insertion order (iteration order) or, for LRU maps, recency order.
 *
 * Layout from the region's start, little-endian i32 words:
 *   +0 count   +4 used (slots ever handed out)   +8 free (slot + 1, a list through `next`)
 *   +12 head   +16 tail (slot + 1)               (TABLE_HEADER bytes in all)
 *   buckets    nb words
 *   links      per slot: prev, next (slot + 1, 0 = none; prev -1: the slot is free)
 *   keys       per slot keyStride bytes: the key, then zero bytes to a multiple of 4
 */
export const TABLE_HEADER = 32;
export const TABLE_COUNT = 0;
export const TABLE_USED = 4;
export const TABLE_FREE = 8;
export const TABLE_HEAD = 12;
export const TABLE_TAIL = 16;

/**
 * The key hash: the key read as little-endian u32 words (the last one
 * zero-extended), each folded in as h = (h ^ w) * M1, h ^= h >>> 15, from
 * h = keySize * M0, then h ^= h >>> 16, h *= M2, h ^= h >>> 13 (32-bit
 * wrapping multiplies). The bucket is h & mask.
 */
export const KEY_HASH = { m0: 0x9e3779b9, m1: 0x9e3779b1, m2: 0x85ebca6b } as const;

/** Where everything is, for code generators (addresses in the linear memory). */
export interface HashTableLayout {
  readonly keySize: number;
  readonly keyStride: number;
  readonly maxEntries: number;
  readonly header: number;
  readonly buckets: number;
  /** Number of buckets minus one. */
  readonly mask: number;
  readonly links: number;
  readonly keys: number;
}

export class HashTable implements HashTableLayout {
  readonly keySize: number;
  readonly keyStride: number;
  readonly maxEntries: number;
  readonly region: Region;
  readonly header: number;
  readonly buckets: number;
  readonly mask: number;
  readonly links: number;
  readonly keys: number;
  private readonly space: AddressSpace;

  constructor(space: AddressSpace, name: string, keySize: number, maxEntries: number) {
    this.space = space;
    this.keySize = keySize;
    this.keyStride = (keySize + 3) & ~3;
    this.maxEntries = maxEntries;
    let nb = 2;
    while (nb < maxEntries + Math.ceil(maxEntries / 2)) nb *= 2;
    this.mask = nb - 1;
    const size = TABLE_HEADER + 4 * nb + 8 * maxEntries + this.keyStride * maxEntries;
    // Read-only for programs: they may look, but only the helpers change it.
    this.region = space.map(`map:${name}:table`, size, { writable: false });
    this.header = this.region.start;
    this.buckets = this.header + TABLE_HEADER;
    this.links = this.buckets + 4 * nb;
    this.keys = this.links + 8 * maxEntries;
  }

  /** The addresses and sizes as a plain object. */
  layout(): HashTableLayout {
    const { keySize, keyStride, maxEntries, header, buckets, mask, links, keys } = this;
    return { keySize, keyStride, maxEntries, header, buckets, mask, links, keys };
  }

  get count(): number {
    return this.space.view.getInt32(this.header + TABLE_COUNT, true);
  }

  /** The key's hash (see KEY_HASH). */
  hash(keyAddr: number): number {
    const v = this.space.view;
    const size = this.keySize;
    let h = Math.imul(size, KEY_HASH.m0);
    let i = 0;
    for (; i + 4 <= size; i += 4) {
      h = Math.imul(h ^ v.getUint32(keyAddr + i, true), KEY_HASH.m1);
      h ^= h >>> 15;
    }
    if (i < size) {
      let w = 0;
      for (let j = 0; i + j < size; j++) w |= v.getUint8(keyAddr + i + j) << (8 * j);
      h = Math.imul(h ^ w, KEY_HASH.m1);
      h ^= h >>> 15;
    }
    h ^= h >>> 16;
    h = Math.imul(h, KEY_HASH.m2);
    return h ^ (h >>> 13);
  }

  private sameKey(slot: number, keyAddr: number): boolean {
    const b = this.space.bytes;
    const k = this.keys + slot * this.keyStride;
    for (let i = 0; i < this.keySize; i++) if (b[k + i] !== b[keyAddr + i]) return false;
    return true;
  }

  /** The key's slot when present (>= 0); otherwise ~bucket of the empty bucket where it would go (< 0). */
  probe(keyAddr: number): number {
    const v = this.space.view;
    let b = this.hash(keyAddr) & this.mask;
    for (;;) {
      const s = v.getInt32(this.buckets + 4 * b, true);
      if (s === 0) return ~b;
      if (this.sameKey(s - 1, keyAddr)) return s - 1;
      b = (b + 1) & this.mask;
    }
  }

  /** The key's slot, or -1. */
  find(keyAddr: number): number {
    const p = this.probe(keyAddr);
    return p >= 0 ? p : -1;
  }

  /** Add the key at the empty bucket probe() gave; its slot, or -1 when every slot is taken. */
  insert(keyAddr: number, bucket: number): number {
    const v = this.space.view;
    const hd = this.header;
    let s1 = v.getInt32(hd + TABLE_FREE, true);
    if (s1 !== 0) v.setInt32(hd + TABLE_FREE, v.getInt32(this.links + 8 * (s1 - 1) + 4, true), true);
    else {
      const used = v.getInt32(hd + TABLE_USED, true);
      if (used >= this.maxEntries) return -1;
      s1 = used + 1;
      v.setInt32(hd + TABLE_USED, s1, true);
    }
    const slot = s1 - 1;
    this.space.bytes.copyWithin(this.keys + slot * this.keyStride, keyAddr, keyAddr + this.keySize);
    v.setInt32(this.buckets + 4 * bucket, s1, true);
    this.append(s1);
    v.setInt32(hd + TABLE_COUNT, v.getInt32(hd + TABLE_COUNT, true) + 1, true);
    return slot;
  }

  /** Remove a present slot: its bucket (shifting the probe run back), its place in the order, and free it. */
  remove(slot: number): void {
    const v = this.space.view;
    const mask = this.mask, bk = this.buckets;
    let hole = this.hash(this.keys + slot * this.keyStride) & mask;
    while (v.getInt32(bk + 4 * hole, true) !== slot + 1) hole = (hole + 1) & mask;
    // Backward shift: an entry after the hole moves into it unless its home bucket lies cyclically in (hole, j].
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const s = v.getInt32(bk + 4 * j, true);
      if (s === 0) break;
      const home = this.hash(this.keys + (s - 1) * this.keyStride) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        v.setInt32(bk + 4 * hole, s, true);
        hole = j;
      }
    }
    v.setInt32(bk + 4 * hole, 0, true);
    this.unlink(slot + 1);
    v.setInt32(this.links + 8 * slot, -1, true); // prev = -1 marks a free slot (see live)
    const hd = this.header;
    // The next key put in this slot relies on zero padding (whole-word compares in the JIT).
    const k = this.keys + slot * this.keyStride;
    this.space.bytes.fill(0, k, k + this.keyStride);
    v.setInt32(this.links + 8 * slot + 4, v.getInt32(hd + TABLE_FREE, true), true);
    v.setInt32(hd + TABLE_FREE, slot + 1, true);
    v.setInt32(hd + TABLE_COUNT, v.getInt32(hd + TABLE_COUNT, true) - 1, true);
  }

  /** Move a present slot to the end of the order (LRU: most recently used). */
  touch(slot: number): void {
    const v = this.space.view;
    if (v.getInt32(this.header + TABLE_TAIL, true) === slot + 1) return;
    this.unlink(slot + 1);
    this.append(slot + 1);
  }

  /** The first slot in order (LRU: least recently used), or -1 when empty. */
  oldest(): number {
    return this.space.view.getInt32(this.header + TABLE_HEAD, true) - 1;
  }

  /** Present slots in order (a snapshot). */
  slots(): number[] {
    const v = this.space.view;
    const out: number[] = [];
    for (let s1 = v.getInt32(this.header + TABLE_HEAD, true); s1 !== 0; s1 = v.getInt32(this.links + 8 * (s1 - 1) + 4, true)) out.push(s1 - 1);
    return out;
  }

  /** Whether a slot holds a key (slots() snapshots can go stale when entries are deleted meanwhile). */
  live(slot: number): boolean {
    return slot < this.space.view.getInt32(this.header + TABLE_USED, true) && this.space.view.getInt32(this.links + 8 * slot, true) !== -1;
  }

  /** A copy of a slot's key. */
  keyAt(slot: number): Uint8Array {
    const k = this.keys + slot * this.keyStride;
    return this.space.bytes.slice(k, k + this.keySize);
  }

  /** Remove every entry (slots are handed out from 0 again). */
  clear(): void {
    this.space.bytes.fill(0, this.region.start, this.region.start + this.region.size);
  }

  private append(s1: number): void {
    const v = this.space.view;
    const hd = this.header;
    const tail = v.getInt32(hd + TABLE_TAIL, true);
    const l = this.links + 8 * (s1 - 1);
    v.setInt32(l, tail, true);
    v.setInt32(l + 4, 0, true);
    if (tail !== 0) v.setInt32(this.links + 8 * (tail - 1) + 4, s1, true);
    else v.setInt32(hd + TABLE_HEAD, s1, true);
    v.setInt32(hd + TABLE_TAIL, s1, true);
  }

  private unlink(s1: number): void {
    const v = this.space.view;
    const hd = this.header;
    const l = this.links + 8 * (s1 - 1);
    const prev = v.getInt32(l, true), next = v.getInt32(l + 4, true);
    if (prev !== 0) v.setInt32(this.links + 8 * (prev - 1) + 4, next, true);
    else v.setInt32(hd + TABLE_HEAD, next, true);
    if (next !== 0) v.setInt32(this.links + 8 * (next - 1), prev, true);
    else v.setInt32(hd + TABLE_TAIL, prev, true);
  }
}
