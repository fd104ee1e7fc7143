/**
 * BPF_LINK_CREATE and BPF_RAW_TRACEPOINT_OPEN: the two commands that make
 * a kernel bpf_link from a program and a target.
 */
import { ATTACH_TYPE, type AttachTypeName } from '../constants.js';
import { AttrWriter, LINK_CREATE_ATTR, RAW_TRACEPOINT_ATTR } from '../attr.js';
import type { Sys } from '../sys.js';

export interface LinkCreate {
  readonly progFd: number;
  /** An fd (perf event, cgroup) or an ifindex (XDP, tcx). */
  readonly target: number;
  readonly attachType: AttachTypeName;
  readonly flags?: number;
  /** perf_event links: the bpf_cookie. */
  readonly cookie?: bigint;
}

export function linkCreate(req: LinkCreate, sys: Sys): number {
  const w = new AttrWriter(LINK_CREATE_ATTR)
    .u32('prog_fd', req.progFd)
    .u32('target_fd', req.target)
    .u32('attach_type', ATTACH_TYPE[req.attachType])
    .u32('flags', req.flags ?? 0);
  if (req.cookie !== undefined) w.u64('perf_event', req.cookie);
  return sys.call(w.syscall('link_create'));
}

/** BPF_RAW_TRACEPOINT_OPEN: a raw tracepoint by name, or (name undefined) a tracing program at its load-time target. */
export function rawTracepointOpen(progFd: number, name: string | undefined, sys: Sys): number {
  const w = new AttrWriter(RAW_TRACEPOINT_ATTR)
    .ptr('name', name === undefined ? undefined : new TextEncoder().encode(`${name}\0`))
    .u32('prog_fd', progFd);
  return sys.call(w.syscall('raw_tracepoint_open'));
}
