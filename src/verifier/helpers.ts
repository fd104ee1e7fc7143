/**
 * Helper prototypes: argument and return types of the helpers the verifier
 * models (the kernel's bpf_func_proto tables), and which program types may
 * call them. Names come from src/asm's table generated from kernel BTF.
 */
import { HELPER_NAMES } from '../asm/index.js';
import type { MapType, ProgType } from './types.js';

export type ArgType =
  | 'anything'
  | 'const_map_ptr'
  | 'map_key'
  | 'map_value'
  | 'ctx'
  /** Readable memory; its size is the next argument. */
  | 'mem'
  | 'mem_or_null'
  /** Memory the helper writes (may be uninitialised); size is the next argument. */
  | 'uninit_mem'
  | 'const_size'
  | 'const_size_or_zero'
  | 'const_alloc_size_or_zero'
  /** Ring buffer memory being released (submit/discard). */
  | 'ringbuf_mem_release'
  /** A callback subprogram (lddw func). */
  | 'func'
  /** A stack pointer or NULL (callback context). */
  | 'stack_or_null';

export type RetType = 'integer' | 'void' | 'map_value_or_null' | 'ringbuf_mem_or_null';

/** Which program types a helper is available to. */
export type Family = 'base' | 'tracing' | 'skb' | 'tc' | 'xdp' | 'net';

export interface HelperProto {
  readonly args: readonly ArgType[];
  readonly ret: RetType;
  readonly family: Family;
  /** The helper may move packet data: all packet pointers are invalidated. */
  readonly changesPktData?: boolean;
  /** The helper calls a callback subprogram (bpf_loop): its arguments count and allowed return range. */
  readonly callback?: { readonly args: number; readonly ret: readonly [number, number] };
  /** Map types the helper accepts (check_map_func_compatibility). */
  readonly mapTypes?: readonly MapType[];
}

const P = (family: Family, ret: RetType, ...args: ArgType[]): HelperProto => ({ args, ret, family });
const anyMap: MapType[] = ['hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash'];

/** Helper id -> prototype. */
export const HELPERS: ReadonlyMap<number, HelperProto> = new Map<number, HelperProto>([
  [1, { ...P('base', 'map_value_or_null', 'const_map_ptr', 'map_key'), mapTypes: [...anyMap, 'devmap'] }],
  [2, { ...P('base', 'integer', 'const_map_ptr', 'map_key', 'map_value', 'anything'), mapTypes: [...anyMap, 'devmap'] }],
  [3, { ...P('base', 'integer', 'const_map_ptr', 'map_key'), mapTypes: [...anyMap, 'devmap'] }],
  [4, P('tracing', 'integer', 'uninit_mem', 'const_size_or_zero', 'anything')],
  [5, P('base', 'integer')],
  [6, P('base', 'integer', 'mem', 'const_size')],
  [7, P('base', 'integer')],
  [8, P('base', 'integer')],
  [9, { ...P('tc', 'integer', 'ctx', 'anything', 'mem', 'const_size', 'anything'), changesPktData: true }],
  [10, { ...P('tc', 'integer', 'ctx', 'anything', 'anything', 'anything', 'anything'), changesPktData: true }],
  [11, { ...P('tc', 'integer', 'ctx', 'anything', 'anything', 'anything', 'anything'), changesPktData: true }],
  [12, { ...P('base', 'void', 'ctx', 'const_map_ptr', 'anything'), mapTypes: ['prog_array'] }],
  [14, P('base', 'integer')],
  [15, P('base', 'integer')],
  [16, P('base', 'integer', 'uninit_mem', 'const_size')],
  [23, P('net', 'integer', 'anything', 'anything')],
  [25, { ...P('base', 'integer', 'ctx', 'const_map_ptr', 'anything', 'mem', 'const_size_or_zero'), mapTypes: ['perf_event_array'] }],
  [26, P('skb', 'integer', 'ctx', 'anything', 'uninit_mem', 'const_size')],
  [28, P('net', 'integer', 'mem_or_null', 'const_size_or_zero', 'mem_or_null', 'const_size_or_zero', 'anything')],
  [35, P('base', 'integer')],
  [39, { ...P('tc', 'integer', 'ctx', 'anything'), changesPktData: true }],
  [42, P('base', 'integer')],
  [44, { ...P('xdp', 'integer', 'ctx', 'anything'), changesPktData: true }],
  [45, P('tracing', 'integer', 'uninit_mem', 'const_size_or_zero', 'anything')],
  [67, P('tracing', 'integer', 'ctx', 'uninit_mem', 'const_size_or_zero', 'anything')],
  [118, P('base', 'integer')],
  [51, { ...P('xdp', 'integer', 'const_map_ptr', 'anything', 'anything'), mapTypes: ['devmap'] }],
  [54, { ...P('xdp', 'integer', 'ctx', 'anything'), changesPktData: true }],
  [65, { ...P('xdp', 'integer', 'ctx', 'anything'), changesPktData: true }],
  [112, P('base', 'integer', 'uninit_mem', 'const_size_or_zero', 'anything')],
  [113, P('base', 'integer', 'uninit_mem', 'const_size_or_zero', 'anything')],
  [114, P('base', 'integer', 'uninit_mem', 'const_size_or_zero', 'anything')],
  [115, P('base', 'integer', 'uninit_mem', 'const_size_or_zero', 'anything')],
  [125, P('base', 'integer')],
  [130, { ...P('base', 'integer', 'const_map_ptr', 'mem', 'const_size_or_zero', 'anything'), mapTypes: ['ringbuf'] }],
  [131, { ...P('base', 'ringbuf_mem_or_null', 'const_map_ptr', 'const_alloc_size_or_zero', 'anything'), mapTypes: ['ringbuf'] }],
  [132, P('base', 'void', 'ringbuf_mem_release', 'anything')],
  [133, P('base', 'void', 'ringbuf_mem_release', 'anything')],
  [181, { ...P('base', 'integer', 'anything', 'func', 'stack_or_null', 'anything'), callback: { args: 2, ret: [0, 1] } }],
]);

const SKB: readonly ProgType[] = ['socket_filter', 'sched_cls', 'sched_act', 'cgroup_skb'];
const TRACING: readonly ProgType[] = ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint'];

/** Whether `progType` may call a helper of this family. */
export function familyAllows(f: Family, progType: ProgType): boolean {
  switch (f) {
    case 'base': return true;
    case 'tracing': return TRACING.includes(progType);
    case 'skb': return SKB.includes(progType);
    case 'tc': return progType === 'sched_cls' || progType === 'sched_act';
    case 'xdp': return progType === 'xdp';
    case 'net': return progType === 'xdp' || progType === 'sched_cls' || progType === 'sched_act';
  }
}

export function helperName(id: number): string {
  return id >= 0 && id < HELPER_NAMES.length ? HELPER_NAMES[id] : 'unknown';
}

/** One past the largest helper id this kernel knows (__BPF_FUNC_MAX_ID). */
export const HELPER_MAX_ID = HELPER_NAMES.length;
