import { ERR, MapDefinitionError } from './errors.js';
import { MAP_FLAG, UPDATE } from './flags.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/**
 * BLOOM_FILTER: push adds a value, peek answers "maybe present" (0) or
 * "certainly absent" (-ENOENT). nr_hashes comes from map_extra (default 5)
 * and the bit array is sized as the kernel sizes it. The hash functions are
 * our own, so false positives differ from the kernel's.
 */
export class BloomFilterMap extends VmMap {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  readonly hashes: number;
  private readonly seed: number;

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    if (def.keySize !== 0 || def.valueSize === 0 || def.maxEntries === 0) throw new MapDefinitionError(def.name, 'bloom_filter needs no key, a non-zero value size and max_entries');
    const extra = Number((def.mapExtra ?? 0n) & 0xfn);
    this.hashes = extra === 0 ? 5 : extra;
    let nbits = Math.ceil((def.maxEntries * this.hashes) / Math.LN2);
    nbits = Math.max(32, 2 ** Math.ceil(Math.log2(nbits)));
    this.bits = new Uint32Array(nbits / 32);
    this.mask = nbits - 1;
    this.seed = (def.flags & MAP_FLAG.ZERO_SEED) !== 0 ? 0 : 0x9747b28c;
  }

  get size(): number {
    return 0;
  }

  private hash(addr: number, i: number): number {
    const b = this.space.bytes;
    let h = (0x811c9dc5 ^ this.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
    for (let k = 0; k < this.valueSize; k++) h = Math.imul(h ^ b[addr + k], 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return (h >>> 0) & this.mask;
  }

  pushAddr(valueAddr: number, flags: number): number {
    if (flags !== UPDATE.ANY) return -ERR.EINVAL;
    for (let i = 0; i < this.hashes; i++) {
      const h = this.hash(valueAddr, i);
      this.bits[h >>> 5] |= 1 << (h & 31);
    }
    return 0;
  }

  peekAddr(valueAddr: number): number {
    for (let i = 0; i < this.hashes; i++) {
      const h = this.hash(valueAddr, i);
      if ((this.bits[h >>> 5] & (1 << (h & 31))) === 0) return -ERR.ENOENT;
    }
    return 0;
  }

  lookupAddr(): number {
    return 0;
  }

  updateAddr(_k: number, valueAddr: number, flags: number): number {
    return this.pushAddr(valueAddr, flags);
  }

  deleteAddr(): number {
    return -ERR.EOPNOTSUPP;
  }

  *keys(): IterableIterator<Uint8Array> {}

  /** Host push. */
  add(value: Uint8Array): void {
    this.checkLength('value', value, this.valueSize);
    this.pushAddr(this.putScratchValue(value), UPDATE.ANY);
  }

  /** Host peek: false means certainly absent. */
  mayContain(value: Uint8Array): boolean {
    this.checkLength('value', value, this.valueSize);
    return this.peekAddr(this.putScratchValue(value)) === 0;
  }
}
