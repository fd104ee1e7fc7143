/**
 * Maps for the userspace VM, with the kernel's semantics (update flags,
 * errno values, sizes, per-CPU values, LRU eviction, longest-prefix match,
 * ring buffer positions). Values live inside the VM's address space, so a
 * lookup gives the program a pointer it dereferences directly; the host
 * reads and writes the same bytes through a Map-like API. See
 * https://docs.kernel.org/bpf/maps.html.
 */
export { ERR, errName, MapOperationError, MapDefinitionError, type ErrName } from './errors.js';
export { UPDATE, MAP_FLAG, roundUp8, updateFlagValue, type UpdateFlagName } from './flags.js';
export { VmMap, type MapDefinition, type MapContext } from './map.js';
export { HashMap } from './hash.js';
export { ArrayMap } from './array.js';
export { LpmTrieMap } from './lpm-trie.js';
export { ProgArrayMap, type ProgramRef } from './prog-array.js';
export { RingBufMap, RINGBUF_HDR_SZ, RINGBUF_QUERY } from './ringbuf.js';
export { QueueMap } from './queue.js';
export { BloomFilterMap } from './bloom-filter.js';
export { PerfEventArrayMap, BPF_F_CURRENT_CPU, type PerfEvent } from './perf-event-array.js';
export { MapOfMaps } from './map-of-maps.js';
export { createVmMap, VM_MAP_TYPES, type CreateMapOptions } from './create.js';
export { dumpMap, type DumpedEntry, type MapBtf } from './dump.js';
export { TypedMap } from './typed-map.js';
export { encodeBtfValue, decodeBtfValue, type BtfValueInput } from './btf-codec.js';
export { StackTraceMap, STACKID_FLAG } from './stack-trace.js';
