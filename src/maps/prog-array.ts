import { ERR, MapDefinitionError } from './errors.js';
import { UPDATE } from './flags.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/** What a PROG_ARRAY slot holds: a program of the same collection. */
export interface ProgramRef {
  readonly name: string;
  /** The id the host writes as the slot's value (the kernel's is a program fd). */
  readonly id: number;
}

/**
 * PROG_ARRAY: u32 index -> program, the table bpf_tail_call jumps through.
 * Programs cannot look slots up; the host writes program ids (or uses
 * setProgram), and `resolve` turns an id into the program.
 */
export class ProgArrayMap extends VmMap {
  private readonly slots: (ProgramRef | undefined)[];

  constructor(def: MapDefinition, ctx: MapContext, private readonly resolve: (id: number) => ProgramRef | undefined) {
    super(def, ctx);
    if (def.keySize !== 4 || def.valueSize !== 4) throw new MapDefinitionError(def.name, 'prog_array needs 4-byte keys and values');
    this.slots = new Array<ProgramRef | undefined>(def.maxEntries);
  }

  get size(): number {
    return this.slots.filter((s) => s !== undefined).length;
  }

  /** The program in slot `index`, if any (what bpf_tail_call uses). */
  program(index: number): ProgramRef | undefined {
    return index < this.maxEntries ? this.slots[index] : undefined;
  }

  setProgram(index: number, prog: ProgramRef | undefined): void {
    if (!(index >= 0 && index < this.maxEntries)) throw new RangeError(`prog_array '${this.name}': index ${index} outside 0..${this.maxEntries - 1}`);
    this.slots[index] = prog;
  }

  lookupAddr(): number {
    return 0;
  }

  protected override hostLocate(keyAddr: number): number {
    const i = this.space.view.getUint32(keyAddr, true);
    return this.slots[i] === undefined ? 0 : 1;
  }

  protected override readHostValue(): Uint8Array {
    const i = this.space.view.getUint32(this.scratchKey, true);
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, this.slots[i]?.id ?? 0, true);
    return v;
  }

  updateAddr(): number {
    return -ERR.EINVAL;
  }

  protected override hostUpdate(keyAddr: number, value: Uint8Array, flags: number): number {
    if (flags > UPDATE.EXIST) return -ERR.EINVAL;
    const i = this.space.view.getUint32(keyAddr, true);
    if (i >= this.maxEntries) return -ERR.E2BIG;
    if (flags === UPDATE.NOEXIST) return -ERR.EEXIST;
    const id = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
    const p = this.resolve(id);
    if (p === undefined) return -ERR.EINVAL;
    this.slots[i] = p;
    return 0;
  }

  deleteAddr(keyAddr: number): number {
    const i = this.space.view.getUint32(keyAddr, true);
    if (i >= this.maxEntries) return -ERR.E2BIG;
    if (this.slots[i] === undefined) return -ERR.ENOENT;
    this.slots[i] = undefined;
    return 0;
  }

  *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.maxEntries; i++) {
      if (this.slots[i] === undefined) continue;
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, i, true);
      yield k;
    }
  }
}
