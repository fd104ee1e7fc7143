import type { Btf, BtfJson } from '../btf/index.js';
import { decodeBtfValue, encodeBtfValue, type BtfValueInput } from './btf-codec.js';
import { MapDefinitionError } from './errors.js';
import type { UpdateFlagName } from './flags.js';
import type { VmMap } from './map.js';

/**
 * A map seen through its BTF key and value types: keys and values are JS
 * values (numbers, bigints, strings for char arrays, objects for structs)
 * instead of bytes.
 *
 *   const counts = obj.typedMap('by_proto');
 *   counts.get(0x0800)  // { packets: 12, bytes: 840 }
 */
export class TypedMap implements Iterable<[BtfJson, BtfJson]> {
  constructor(readonly map: VmMap, private readonly btf: Btf, readonly keyTypeId: number, readonly valueTypeId: number) {
    if (keyTypeId === 0 || valueTypeId === 0) throw new MapDefinitionError(map.name, 'no BTF key and value types: use the byte API');
  }

  private key(k: BtfValueInput): Uint8Array {
    return encodeBtfValue(this.btf, this.keyTypeId, k, this.map.keySize);
  }

  get(k: BtfValueInput): BtfJson | undefined {
    const v = this.map.lookup(this.key(k));
    return v === undefined ? undefined : decodeBtfValue(this.btf, this.valueTypeId, v);
  }

  set(k: BtfValueInput, v: BtfValueInput, flag: UpdateFlagName = 'any'): this {
    this.map.update(this.key(k), encodeBtfValue(this.btf, this.valueTypeId, v, this.map.valueSize), flag);
    return this;
  }

  delete(k: BtfValueInput): boolean {
    return this.map.delete(this.key(k));
  }

  *[Symbol.iterator](): IterableIterator<[BtfJson, BtfJson]> {
    for (const [k, v] of this.map) yield [decodeBtfValue(this.btf, this.keyTypeId, k), decodeBtfValue(this.btf, this.valueTypeId, v.subarray(0, this.map.valueSize))];
  }
}
