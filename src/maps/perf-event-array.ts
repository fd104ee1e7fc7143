import { ERR, MapDefinitionError } from './errors.js';
import { VmMap, type MapContext, type MapDefinition } from './map.js';

/** BPF_F_CURRENT_CPU: the index meaning "this CPU's perf buffer". */
export const BPF_F_CURRENT_CPU = 0xffffffff;

export interface PerfEvent {
  readonly cpu: number;
  readonly data: Uint8Array;
}

/**
 * PERF_EVENT_ARRAY: per-CPU perf buffers programs write samples to with
 * bpf_perf_event_output. Every slot is taken to hold an open perf buffer;
 * the host drains the samples in order.
 */
export class PerfEventArrayMap extends VmMap {
  private events: PerfEvent[] = [];

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    if (def.keySize !== 4 || def.valueSize !== 4) throw new MapDefinitionError(def.name, 'perf_event_array needs 4-byte keys and values');
  }

  get size(): number {
    return this.events.length;
  }

  /** bpf_perf_event_output's core: 0 or -errno. */
  output(index: number, dataAddr: number, size: number): number {
    return this.outputBytes(index, this.space.bytes.slice(dataAddr, dataAddr + size));
  }

  /** Append a sample given as bytes: 0 or -E2BIG for an index past the array. */
  outputBytes(index: number, data: Uint8Array): number {
    const cpu = index === BPF_F_CURRENT_CPU ? this.ctx.cpu() : index;
    // libbpf sizes a perf event array without max_entries to the number of CPUs.
    if (cpu >= (this.maxEntries === 0 ? this.ctx.cpus : this.maxEntries)) return -ERR.E2BIG;
    this.events.push({ cpu, data });
    return 0;
  }

  /** Take every sample written so far. */
  drain(): PerfEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  lookupAddr(): number {
    return 0;
  }

  updateAddr(): number {
    return -ERR.EINVAL;
  }

  deleteAddr(): number {
    return -ERR.EINVAL;
  }

  *keys(): IterableIterator<Uint8Array> {}
}
