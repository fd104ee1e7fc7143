import { ERR, MapDefinitionError } from './errors.js';
import { UPDATE } from './flags.js';
import { keyRep, type KeyRep } from './key.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/**
 * ARRAY_OF_MAPS and HASH_OF_MAPS: values are inner maps. A program's lookup
 * gives the inner map's pointer, which it passes on to the map helpers.
 * The host stores maps (or their ids, resolved through `resolve`).
 */
export class MapOfMaps extends VmMap {
  readonly isArray: boolean;
  private readonly inner = new Map<KeyRep, { key: Uint8Array; map: VmMap }>();

  constructor(def: MapDefinition, ctx: MapContext, private readonly resolve: (id: number) => VmMap | undefined) {
    super(def, ctx);
    this.isArray = def.type === 'array_of_maps';
    if (def.valueSize !== 4) throw new MapDefinitionError(def.name, `${def.type} values are 4-byte map ids, not ${def.valueSize} bytes`);
    if (this.isArray && def.keySize !== 4) throw new MapDefinitionError(def.name, 'array_of_maps needs 4-byte keys');
  }

  get size(): number {
    return this.inner.size;
  }

  private rep(keyAddr: number): KeyRep {
    return keyRep(this.space.bytes, this.space.view, keyAddr, this.keySize);
  }

  lookupAddr(keyAddr: number): number {
    return this.inner.get(this.rep(keyAddr))?.map.handle ?? 0;
  }

  /** The inner map under a key. */
  innerMap(key: Uint8Array): VmMap | undefined {
    return this.inner.get(this.rep(this.putScratchKey(key)))?.map;
  }

  setMap(key: Uint8Array, map: VmMap): void {
    const k = this.putScratchKey(key);
    if (this.isArray && this.space.view.getUint32(k, true) >= this.maxEntries) throw new RangeError(`${this.name}: index outside the array`);
    this.inner.set(this.rep(k), { key: key.slice(), map });
  }

  updateAddr(): number {
    return -ERR.EINVAL;
  }

  protected override hostUpdate(keyAddr: number, value: Uint8Array, flags: number): number {
    if (flags > UPDATE.EXIST) return -ERR.EINVAL;
    if (this.isArray && this.space.view.getUint32(keyAddr, true) >= this.maxEntries) return -ERR.E2BIG;
    const k = this.rep(keyAddr);
    const present = this.inner.has(k);
    if (present && flags === UPDATE.NOEXIST) return -ERR.EEXIST;
    if (!present && flags === UPDATE.EXIST && !this.isArray) return -ERR.ENOENT;
    if (!present && !this.isArray && this.inner.size >= this.maxEntries) return -ERR.E2BIG;
    const m = this.resolve(new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true));
    if (m === undefined) return -ERR.EBADF;
    this.inner.set(k, { key: this.space.bytes.slice(keyAddr, keyAddr + this.keySize), map: m });
    return 0;
  }

  protected override readHostValue(): Uint8Array {
    return new Uint8Array(4);
  }

  deleteAddr(keyAddr: number): number {
    return this.inner.delete(this.rep(keyAddr)) ? 0 : -ERR.ENOENT;
  }

  *keys(): IterableIterator<Uint8Array> {
    for (const e of [...this.inner.values()]) yield e.key.slice();
  }
}
