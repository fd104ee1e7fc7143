/**
 * Numbers of the bpf(2) commands, program types and map types bpfkit uses,
 * named as in include/uapi/linux/bpf.h without their prefixes
 * (BPF_PROG_LOAD is 'prog_load', BPF_PROG_TYPE_XDP is 'xdp').
 *
 * They are kernel ABI and never change; test/kernel/layout.test.ts checks
 * every entry against the running kernel's BTF (enum bpf_cmd,
 * bpf_prog_type, bpf_map_type), so a wrong number fails a test.
 */
import { MAP_TYPES, PROGRAM_TYPES, mapTypeFromNumber, type MapType as ElfMapType, type ProgramType } from '../elf/kinds.js';

export const BPF_CMD = {
  map_create: 0,
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  map_get_next_key: 4,
  prog_load: 5,
  obj_pin: 6,
  obj_get: 7,
  prog_attach: 8,
  prog_detach: 9,
  prog_test_run: 10,
  prog_get_next_id: 11,
  map_get_next_id: 12,
  prog_get_fd_by_id: 13,
  map_get_fd_by_id: 14,
  obj_get_info_by_fd: 15,
  raw_tracepoint_open: 17,
  btf_load: 18,
  btf_get_fd_by_id: 19,
  map_lookup_and_delete_elem: 21,
  map_freeze: 22,
  map_lookup_batch: 24,
  map_lookup_and_delete_batch: 25,
  map_update_batch: 26,
  map_delete_batch: 27,
  link_create: 28,
  link_get_fd_by_id: 30,
  link_get_next_id: 31,
  link_detach: 34,
} as const;
export type BpfCmd = keyof typeof BPF_CMD;

/** enum bpf_prog_type: src/elf's table (section names map onto it). */
export const PROG_TYPE = PROGRAM_TYPES;
export type ProgType = ProgramType;

/** enum bpf_map_type: src/elf's table. */
export const MAP_TYPE = MAP_TYPES;
export type MapType = ElfMapType;

const PROG_TYPE_NAMES = new Map<number, ProgType>(Object.entries(PROG_TYPE).map(([k, v]) => [v, k as ProgType]));

/** The program type with this kernel number ("prog type 99" stays a number). */
export function progTypeName(n: number): ProgType | number {
  return PROG_TYPE_NAMES.get(n) ?? n;
}

/** The map type with this kernel number. */
export function mapTypeName(n: number): MapType | number {
  return mapTypeFromNumber(n) ?? n;
}

/** enum bpf_attach_type, the ones bpfkit attaches with. */
export const ATTACH_TYPE = {
  cgroup_inet_ingress: 0,
  cgroup_inet_egress: 1,
  cgroup_inet_sock_create: 2,
  trace_raw_tp: 23,
  trace_fentry: 24,
  trace_fexit: 25,
  modify_return: 26,
  lsm_mac: 27,
  xdp: 37,
  perf_event: 41,
  tcx_ingress: 46,
  tcx_egress: 47,
} as const;
export type AttachTypeName = keyof typeof ATTACH_TYPE;

/** Map flags (BPF_F_*) the loader sets. */
export const MAP_FLAG = { no_prealloc: 1, rdonly_prog: 1 << 7, mmapable: 1 << 10, inner_map: 1 << 12 } as const;

/** Flags of BPF_MAP_UPDATE_ELEM. */
export const UPDATE_FLAG = { any: 0, noexist: 1, exist: 2 } as const;
export type UpdateFlag = keyof typeof UPDATE_FLAG;
