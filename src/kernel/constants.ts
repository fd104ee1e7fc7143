/**
 * Numbers of the bpf(2) commands, program types and map types bpfkit uses,
 * named as in include/uapi/linux/bpf.h without their prefixes
 * (BPF_PROG_LOAD is 'prog_load', BPF_PROG_TYPE_XDP is 'xdp').
 *
 * They are kernel ABI and never change; test/kernel/layout.test.ts checks
 * every entry against the running kernel's BTF (enum bpf_cmd,
 * bpf_prog_type, bpf_map_type), so a wrong number fails a test.
 */

export const BPF_CMD = {
  map_create: 0,
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  map_get_next_key: 4,
  prog_load: 5,
  obj_pin: 6,
  obj_get: 7,
  prog_test_run: 10,
  obj_get_info_by_fd: 15,
  btf_load: 18,
  map_freeze: 22,
  link_create: 28,
  link_detach: 34,
} as const;
export type BpfCmd = keyof typeof BPF_CMD;

export const PROG_TYPE = {
  socket_filter: 1,
  kprobe: 2,
  sched_cls: 3,
  sched_act: 4,
  tracepoint: 5,
  xdp: 6,
  perf_event: 7,
  cgroup_skb: 8,
  cgroup_sock: 9,
  sk_skb: 14,
  raw_tracepoint: 17,
  flow_dissector: 22,
  tracing: 26,
  lsm: 29,
  sk_lookup: 30,
  syscall: 31,
  netfilter: 32,
} as const;
export type ProgType = keyof typeof PROG_TYPE;

export const MAP_TYPE = {
  hash: 1,
  array: 2,
  prog_array: 3,
  perf_event_array: 4,
  percpu_hash: 5,
  percpu_array: 6,
  lru_hash: 9,
  lpm_trie: 11,
  queue: 22,
  stack: 23,
  ringbuf: 27,
  bloom_filter: 30,
} as const;
export type MapType = keyof typeof MAP_TYPE;

/** Flags of BPF_MAP_UPDATE_ELEM. */
export const UPDATE_FLAG = { any: 0, noexist: 1, exist: 2 } as const;
export type UpdateFlag = keyof typeof UPDATE_FLAG;
