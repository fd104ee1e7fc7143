import type { Region } from '../vm/index.js';
import { ERR, MapDefinitionError } from './errors.js';
import { MAP_FLAG, roundUp8, UPDATE } from './flags.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/**
 * LPM_TRIE: keys are `struct bpf_lpm_trie_key { u32 prefixlen; u8 data[]; }`,
 * data in network order. A lookup finds the longest stored prefix that
 * matches the key's data within the key's own prefixlen. Stored prefixes
 * are grouped by length (one JS Map each, keyed by the masked data), and a
 * lookup tries the lengths present from the longest down. Host lookups
 * are longest-prefix lookups too, as BPF_MAP_LOOKUP_ELEM is on a trie.
 */
export class LpmTrieMap extends VmMap {
  readonly values: Region;
  readonly dataSize: number;
  readonly maxPrefixLen: number;
  readonly slotSize: number;
  private readonly byLength = new Map<number, Map<string, number>>();
  /** Prefix lengths present, longest first. */
  private lengths: number[] = [];
  private readonly slotKeys: (Uint8Array | undefined)[];
  private readonly free: number[] = [];
  private count = 0;

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    if ((def.flags & MAP_FLAG.NO_PREALLOC) === 0) throw new MapDefinitionError(def.name, 'lpm_trie maps need BPF_F_NO_PREALLOC');
    if (def.keySize <= 4 || def.keySize > 4 + 256 || def.valueSize === 0 || def.maxEntries === 0) {
      throw new MapDefinitionError(def.name, `lpm_trie needs a key of 5..260 bytes and a non-zero value (got key ${def.keySize}, value ${def.valueSize})`);
    }
    this.dataSize = def.keySize - 4;
    this.maxPrefixLen = this.dataSize * 8;
    this.slotSize = roundUp8(def.valueSize);
    this.values = ctx.space.map(`map:${def.name}:values`, this.slotSize * def.maxEntries);
    this.slotKeys = new Array<Uint8Array | undefined>(def.maxEntries);
    for (let i = def.maxEntries - 1; i >= 0; i--) this.free.push(i);
  }

  get size(): number {
    return this.count;
  }

  /** The data of the key at `keyAddr`, masked to `len` bits, as a string key. */
  private masked(keyAddr: number, len: number): string {
    const b = this.space.bytes;
    let s = '';
    const full = len >>> 3;
    for (let i = 0; i < full; i++) s += String.fromCharCode(b[keyAddr + 4 + i]);
    const rest = len & 7;
    if (rest !== 0) s += String.fromCharCode(b[keyAddr + 4 + full] & (0xff << (8 - rest)) & 0xff);
    return s;
  }

  lookupAddr(keyAddr: number): number {
    const plen = this.space.view.getUint32(keyAddr, true);
    if (plen > this.maxPrefixLen) return 0;
    for (const len of this.lengths) {
      if (len > plen) continue;
      const s = this.byLength.get(len)!.get(this.masked(keyAddr, len));
      if (s !== undefined) return this.values.start + s * this.slotSize;
    }
    return 0;
  }

  /** Exact match (prefix length and data), as update and delete use. */
  private exact(keyAddr: number): { len: number; k: string; slot: number | undefined } | number {
    const len = this.space.view.getUint32(keyAddr, true);
    if (len > this.maxPrefixLen) return -ERR.EINVAL;
    const k = this.masked(keyAddr, len);
    return { len, k, slot: this.byLength.get(len)?.get(k) };
  }

  updateAddr(keyAddr: number, valueAddr: number, flags: number): number {
    if (flags > UPDATE.EXIST) return -ERR.EINVAL;
    const e = this.exact(keyAddr);
    if (typeof e === 'number') return e;
    let slot = e.slot;
    if (slot !== undefined) {
      if (flags === UPDATE.NOEXIST) return -ERR.EEXIST;
    } else {
      if (flags === UPDATE.EXIST) return -ERR.ENOENT;
      if (this.count >= this.maxEntries) return -ERR.ENOSPC;
      slot = this.free.pop()!;
      let m = this.byLength.get(e.len);
      if (m === undefined) {
        this.byLength.set(e.len, (m = new Map()));
        this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
      }
      m.set(e.k, slot);
      this.count++;
    }
    // The kernel keeps the key's bytes as given (matching masks them), replaced on every update.
    this.slotKeys[slot] = this.space.bytes.slice(keyAddr, keyAddr + this.keySize);
    const dst = this.values.start + slot * this.slotSize;
    this.space.bytes.copyWithin(dst, valueAddr, valueAddr + this.valueSize);
    return 0;
  }

  deleteAddr(keyAddr: number): number {
    const e = this.exact(keyAddr);
    if (typeof e === 'number') return e;
    if (e.slot === undefined) return -ERR.ENOENT;
    const m = this.byLength.get(e.len)!;
    m.delete(e.k);
    if (m.size === 0) {
      this.byLength.delete(e.len);
      this.lengths = this.lengths.filter((l) => l !== e.len);
    }
    this.slotKeys[e.slot] = undefined;
    this.free.push(e.slot);
    this.count--;
    return 0;
  }

  *keys(): IterableIterator<Uint8Array> {
    for (const len of [...this.lengths].reverse()) {
      for (const s of [...this.byLength.get(len)!.values()]) {
        const k = this.slotKeys[s];
        if (k !== undefined) yield k.slice();
      }
    }
  }
}
