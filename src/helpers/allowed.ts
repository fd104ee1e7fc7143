import type { ProgramType } from '../elf/index.js';

/**
 * Which helpers each program type may call, after the kernel's
 * *_func_proto functions (net/core/filter.c, kernel/trace/bpf_trace.c,
 * kernel/bpf/helpers.c): a base set every type gets, plus each family's own.
 * test/helpers-runtime/allowed.test.ts checks every implemented helper
 * against the running kernel's verifier for each type.
 */
const BASE = [
  'map_lookup_elem', 'map_update_elem', 'map_delete_elem', 'map_push_elem', 'map_pop_elem', 'map_peek_elem',
  'get_prandom_u32', 'get_smp_processor_id', 'get_numa_node_id', 'tail_call', 'ktime_get_ns', 'ktime_get_boot_ns',
  'ktime_get_tai_ns', 'get_current_pid_tgid', 'get_current_uid_gid', 'get_current_comm', 'send_signal', 'send_signal_thread', 'ringbuf_output', 'ringbuf_reserve', 'ringbuf_submit', 'ringbuf_discard',
  'ringbuf_query', 'for_each_map_elem', 'loop', 'strtol', 'strtoul', 'trace_printk', 'trace_vprintk', 'snprintf',
  'probe_read_kernel', 'probe_read_kernel_str', 'probe_read_user', 'probe_read_user_str', 'jiffies64',
];

const TRACING = [...BASE, 'probe_read', 'probe_read_str', 'perf_event_output', 'get_stackid', 'get_stack', 'get_current_task'];

/** Networking types also get the coarse clock (tracing ones do not). */
const NET_BASE = [...BASE, 'ktime_get_coarse_ns'];

const SOCKET_FILTER = [...NET_BASE, 'skb_load_bytes', 'perf_event_output', 'get_socket_cookie', 'get_socket_uid'];

const TC = [
  ...NET_BASE, 'skb_load_bytes', 'skb_store_bytes', 'l3_csum_replace', 'l4_csum_replace', 'csum_diff', 'redirect',
  'get_hash_recalc', 'set_hash_invalid', 'perf_event_output', 'get_socket_cookie', 'get_socket_uid',
];

const XDP = [
  ...NET_BASE, 'perf_event_output', 'csum_diff', 'xdp_adjust_head', 'xdp_adjust_tail', 'xdp_adjust_meta', 'redirect',
  'redirect_map', 'xdp_get_buff_len', 'xdp_load_bytes', 'xdp_store_bytes',
];

const CGROUP_SKB = [...NET_BASE, 'skb_load_bytes', 'perf_event_output', 'get_socket_cookie', 'get_socket_uid'];

const BY_TYPE: Partial<Record<ProgramType, readonly string[]>> = {
  socket_filter: SOCKET_FILTER,
  sched_cls: TC,
  sched_act: TC,
  xdp: XDP,
  cgroup_skb: CGROUP_SKB,
  kprobe: TRACING,
  tracepoint: TRACING,
  raw_tracepoint: TRACING,
  raw_tracepoint_writable: TRACING,
  perf_event: TRACING,
  tracing: TRACING,
  syscall: [...TRACING],
  // 'unspec': programs run with the conformance convention (section "mem"): allow everything the VM has.
};

const SETS = new Map<ProgramType, ReadonlySet<string>>();

/** Names (without bpf_) of the helpers `type` may call, or undefined for "any" (unspec). */
export function allowedHelpers(type: ProgramType): ReadonlySet<string> | undefined {
  const list = BY_TYPE[type];
  if (list === undefined) return undefined;
  let s = SETS.get(type);
  if (s === undefined) SETS.set(type, (s = new Set(list)));
  return s;
}
