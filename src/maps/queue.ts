import { ERR, MapDefinitionError, MapOperationError } from './errors.js';
import { UPDATE } from './flags.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/**
 * QUEUE (FIFO) and STACK (LIFO): no keys, values pushed and popped by
 * copy. Pushing onto a full one fails with -E2BIG unless BPF_EXIST asks to
 * drop the oldest value.
 */
export class QueueMap extends VmMap {
  readonly lifo: boolean;
  private readonly items: Uint8Array[] = [];

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    if (def.keySize !== 0) throw new MapDefinitionError(def.name, `${def.type} maps have no key (key size ${def.keySize})`);
    if (def.valueSize === 0 || def.maxEntries === 0) throw new MapDefinitionError(def.name, `${def.type} needs non-zero value size and max_entries`);
    this.lifo = def.type === 'stack';
  }

  get size(): number {
    return this.items.length;
  }

  /** bpf_map_push_elem: 0 or -errno. */
  pushAddr(valueAddr: number, flags: number): number {
    return this.pushBytes(this.space.bytes.slice(valueAddr, valueAddr + this.valueSize), flags);
  }

  private pushBytes(v: Uint8Array, flags: number): number {
    if (flags !== UPDATE.ANY && flags !== UPDATE.EXIST) return -ERR.EINVAL;
    if (this.items.length >= this.maxEntries) {
      if (flags !== UPDATE.EXIST) return -ERR.E2BIG;
      this.items.shift();
    }
    this.items.push(v);
    return 0;
  }

  /** bpf_map_pop_elem / bpf_map_peek_elem into `valueAddr`: 0 or -ENOENT. */
  popAddr(valueAddr: number, remove: boolean): number {
    if (this.items.length === 0) return -ERR.ENOENT;
    const v = this.lifo ? this.items[this.items.length - 1] : this.items[0];
    if (remove) {
      if (this.lifo) this.items.pop();
      else this.items.shift();
    }
    this.space.bytes.set(v, valueAddr);
    return 0;
  }

  lookupAddr(): number {
    return 0;
  }

  updateAddr(_k: number, valueAddr: number, flags: number): number {
    return this.pushAddr(valueAddr, flags);
  }

  deleteAddr(): number {
    return -ERR.EINVAL;
  }

  *keys(): IterableIterator<Uint8Array> {}

  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    const order = this.lifo ? [...this.items].reverse() : [...this.items];
    for (const v of order) yield [new Uint8Array(0), v.slice()];
  }

  /** Host push (BPF_MAP_UPDATE_ELEM with no key). */
  push(value: Uint8Array, flag: 'any' | 'exist' = 'any'): void {
    this.checkLength('value', value, this.valueSize);
    const r = this.pushBytes(value.slice(), flag === 'exist' ? UPDATE.EXIST : UPDATE.ANY);
    if (r < 0) this.fail('push', r);
  }

  /** Host pop (BPF_MAP_LOOKUP_AND_DELETE_ELEM); undefined when empty. */
  pop(): Uint8Array | undefined {
    return this.lifo ? this.items.pop() : this.items.shift();
  }

  peek(): Uint8Array | undefined {
    const v = this.lifo ? this.items[this.items.length - 1] : this.items[0];
    return v?.slice();
  }

  override lookup(): Uint8Array | undefined {
    return this.peek();
  }

  override update(_key: Uint8Array, value: Uint8Array, flag: 'any' | 'exist' | 'noexist' | number = 'any'): void {
    this.push(value, flag === 'exist' || flag === UPDATE.EXIST ? 'exist' : 'any');
  }

  private fail(op: string, r: number): never {
    throw new MapOperationError(this.name, op, -r);
  }
}
