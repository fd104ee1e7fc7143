/**
 * Context access rules per program type (the kernel's *_is_valid_access):
 * which offsets and sizes of the context structure may be read or written,
 * and which fields load as packet pointers.
 */
import type { ProgType } from './types.js';

export type CtxField = 'scalar' | 'pkt' | 'pkt_meta' | 'pkt_end';

/** undefined: access refused; otherwise what a read yields. */
export type CtxAccess = CtxField | undefined;

// struct __sk_buff offsets.
const SKB = {
  len: 0, mark: 8, queue_mapping: 12, priority: 32, tc_index: 44, cb0: 48, cb4end: 68, tc_classid: 72,
  data: 76, data_end: 80, family: 88, remote_ip4: 92, local_ip4: 96, remote_ip6: 100, local_ip6: 116, local_port_end: 140,
  data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160, sk: 168, tstamp_type: 180, hwtstamp: 184, size: 192,
} as const;

const within = (off: number, start: number, size: number): boolean => off >= start && off < start + size;
const narrowOk = (size: number, def: number): boolean => size <= def && (size & (size - 1)) === 0;

/** bpf_skb_is_valid_access: the rules every __sk_buff program shares. */
function skbValid(off: number, size: number, write: boolean): boolean {
  if (off < 0 || off >= SKB.size) return false;
  if (off % size !== 0) return false;
  if (within(off, SKB.cb0, 20)) return off + size <= SKB.cb4end;
  if (within(off, SKB.remote_ip6, 16) || within(off, SKB.local_ip6, 16) || within(off, SKB.remote_ip4, 4) ||
      within(off, SKB.local_ip4, 4) || within(off, SKB.data, 4) || within(off, SKB.data_meta, 4) || within(off, SKB.data_end, 4)) {
    return size === 4;
  }
  if (within(off, SKB.flow_keys, 8)) return false;
  if (within(off, SKB.hwtstamp, 8)) return !write && size === 8;
  if (within(off, SKB.tstamp, 8)) return size === 8;
  if (off === SKB.sk) return !write && size === 8;
  if (within(off, SKB.sk, 8)) return false;
  if (off === SKB.tstamp_type) return false;
  if (off > SKB.tstamp_type && off < SKB.hwtstamp) return false;
  return write ? size === 4 : narrowOk(size, 4);
}

function socketFilter(off: number, size: number, write: boolean): CtxAccess {
  if (within(off, SKB.tc_classid, 4) || within(off, SKB.data, 4) || within(off, SKB.data_meta, 4) ||
      within(off, SKB.data_end, 4) || (off >= SKB.family && off < SKB.local_port_end) ||
      within(off, SKB.tstamp, 8) || within(off, SKB.wire_len, 4) || within(off, SKB.hwtstamp, 8)) return undefined;
  if (write && !within(off, SKB.cb0, 20)) return undefined;
  return skbValid(off, size, write) ? 'scalar' : undefined;
}

function tcClsAct(off: number, size: number, write: boolean): CtxAccess {
  if (write) {
    const ok = within(off, SKB.mark, 4) || within(off, SKB.tc_index, 4) || within(off, SKB.priority, 4) ||
      within(off, SKB.tc_classid, 4) || within(off, SKB.cb0, 20) || within(off, SKB.tstamp, 8) || within(off, SKB.queue_mapping, 4);
    if (!ok) return undefined;
  }
  let kind: CtxField = 'scalar';
  if (within(off, SKB.data, 4)) kind = 'pkt';
  else if (within(off, SKB.data_meta, 4)) kind = 'pkt_meta';
  else if (within(off, SKB.data_end, 4)) kind = 'pkt_end';
  else if (off >= SKB.family && off < SKB.local_port_end) return undefined;
  else if (off === SKB.tstamp_type) return size === 1 ? 'scalar' : undefined;
  return skbValid(off, size, write) ? kind : undefined;
}

function cgroupSkb(off: number, size: number, write: boolean): CtxAccess {
  if (within(off, SKB.tc_classid, 4) || within(off, SKB.data_meta, 4) || within(off, SKB.wire_len, 4)) return undefined;
  if (write && !(within(off, SKB.mark, 4) || within(off, SKB.priority, 4) || within(off, SKB.cb0, 20) || within(off, SKB.tstamp, 8))) return undefined;
  let kind: CtxField = 'scalar';
  if (within(off, SKB.data, 4)) kind = 'pkt';
  else if (within(off, SKB.data_end, 4)) kind = 'pkt_end';
  return skbValid(off, size, write) ? kind : undefined;
}

function xdp(off: number, size: number, write: boolean): CtxAccess {
  if (off === 20) return undefined; // egress_ifindex: devmap programs only
  if (write) return undefined;
  if (off < 0 || off >= 24 || off % size !== 0 || size !== 4) return undefined;
  if (off === 0) return 'pkt';
  if (off === 4) return 'pkt_end';
  if (off === 8) return 'pkt_meta';
  return 'scalar';
}

const PT_REGS_SIZE = 168;

function readOnlyRange(off: number, size: number, write: boolean, lo: number, hi: number): CtxAccess {
  if (write || off < lo || off >= hi || off % size !== 0 || off + size > hi) return undefined;
  return 'scalar';
}

function perfEvent(off: number, size: number, write: boolean): CtxAccess {
  if (write || off < 0 || off >= PT_REGS_SIZE + 16 || off % size !== 0) return undefined;
  if (off === PT_REGS_SIZE || off === PT_REGS_SIZE + 8) return narrowOk(size, 8) ? 'scalar' : undefined;
  return size === 8 ? 'scalar' : undefined;
}

/** What reading (or writing) `size` bytes at `off` of the context yields for `progType`. */
export function ctxAccess(progType: ProgType, off: number, size: number, write: boolean): CtxAccess {
  switch (progType) {
    case 'socket_filter': return socketFilter(off, size, write);
    case 'sched_cls': case 'sched_act': return tcClsAct(off, size, write);
    case 'cgroup_skb': return cgroupSkb(off, size, write);
    case 'xdp': return xdp(off, size, write);
    case 'kprobe': return readOnlyRange(off, size, write, 0, PT_REGS_SIZE);
    case 'tracepoint':
      // The kernel compares off with sizeof(void *) as unsigned, so negative offsets pass its lower bound.
      if (write || (off >= 0 && off < 8) || off >= 2048 || off % size !== 0) return undefined;
      return 'scalar';
    case 'raw_tracepoint': return readOnlyRange(off, size, write, 0, 8 * 12);
    case 'perf_event': return perfEvent(off, size, write);
  }
}

/** Whether packet data may be written directly (may_access_direct_pkt_data). */
export function pktWritable(progType: ProgType): boolean {
  return progType === 'xdp' || progType === 'sched_cls' || progType === 'sched_act';
}

/** Legacy LD_ABS/LD_IND are for socket programs only. */
export function mayLdAbs(progType: ProgType): boolean {
  return progType === 'socket_filter' || progType === 'sched_cls' || progType === 'sched_act' || progType === 'cgroup_skb';
}

/** The allowed [min, max] of R0 at exit, or undefined when any scalar is fine. */
export function returnRange(progType: ProgType): readonly [number, number] | undefined {
  return progType === 'cgroup_skb' ? [0, 1] : undefined;
}
