import { ArrayMap } from './array.js';
import { BloomFilterMap } from './bloom-filter.js';
import { MapDefinitionError } from './errors.js';
import { HashMap } from './hash.js';
import { LpmTrieMap } from './lpm-trie.js';
import type { MapContext, MapDefinition, VmMap } from './map.js';
import { MapOfMaps } from './map-of-maps.js';
import { PerfEventArrayMap } from './perf-event-array.js';
import { ProgArrayMap, type ProgramRef } from './prog-array.js';
import { QueueMap } from './queue.js';
import { RingBufMap } from './ringbuf.js';
import { StackTraceMap } from './stack-trace.js';

export interface CreateMapOptions {
  /** Initial bytes of an array's first value (global data). */
  readonly initial?: Uint8Array;
  /** Program id -> program, for PROG_ARRAY values written by the host. */
  readonly resolveProgram?: (id: number) => ProgramRef | undefined;
  /** Map id -> map, for map-in-map values written by the host. */
  readonly resolveMap?: (id: number) => VmMap | undefined;
}

/** Map types the VM implements. */
export const VM_MAP_TYPES = [
  'hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'prog_array',
  'perf_event_array', 'ringbuf', 'queue', 'stack', 'bloom_filter', 'array_of_maps', 'hash_of_maps', 'stack_trace',
] as const;

/** Create a live map of the definition's type in the context's address space. */
export function createVmMap(def: MapDefinition, ctx: MapContext, opts: CreateMapOptions = {}): VmMap {
  switch (def.type) {
    case 'hash': case 'percpu_hash': case 'lru_hash': case 'lru_percpu_hash':
      return new HashMap(def, ctx);
    case 'array': case 'percpu_array':
      return new ArrayMap(def, ctx, opts.initial);
    case 'lpm_trie':
      return new LpmTrieMap(def, ctx);
    case 'prog_array':
      return new ProgArrayMap(def, ctx, opts.resolveProgram ?? (() => undefined));
    case 'perf_event_array':
      return new PerfEventArrayMap(def, ctx);
    case 'ringbuf':
      return new RingBufMap(def, ctx);
    case 'queue': case 'stack':
      return new QueueMap(def, ctx);
    case 'bloom_filter':
      return new BloomFilterMap(def, ctx);
    case 'stack_trace':
      return new StackTraceMap(def, ctx);
    case 'array_of_maps': case 'hash_of_maps':
      return new MapOfMaps(def, ctx, opts.resolveMap ?? (() => undefined));
    default:
      throw new MapDefinitionError(def.name, `map type ${def.type} is not supported by the VM (supported: ${VM_MAP_TYPES.join(', ')})`);
  }
}
