/**
 * Section name -> program type, expected attach type and flags: one table,
 * following libbpf's section_defs (src/libbpf.c) and its matching rules.
 * A pattern ending in '+' matches the name alone or followed by '/...';
 * a pattern ending in '/' must be followed by something; any other pattern
 * matches exactly. The first match wins, so specific entries come first.
 */
import type { AttachType, ProgramType } from './kinds.js';

export interface SectionDef {
  readonly pattern: string;
  readonly programType: ProgramType;
  readonly attachType: AttachType;
  /** The program may sleep (BPF_F_SLEEPABLE). */
  readonly sleepable: boolean;
  /** The program handles multi-buffer XDP (BPF_F_XDP_HAS_FRAGS). */
  readonly xdpFrags: boolean;
  /** The attach target is named by a BTF id (fentry, lsm, tp_btf, iter...). */
  readonly attachBtf: boolean;
}

type Flag = 'sleepable' | 'frags' | 'btf';
function def(pattern: string, programType: ProgramType, attachType: AttachType, ...flags: Flag[]): SectionDef {
  return { pattern, programType, attachType, sleepable: flags.includes('sleepable'), xdpFrags: flags.includes('frags'), attachBtf: flags.includes('btf') };
}

export const SECTION_DEFS: readonly SectionDef[] = [
  def('socket', 'socket_filter', 'none'),
  def('sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'),
  def('sk_reuseport', 'sk_reuseport', 'sk_reuseport_select'),
  def('kprobe+', 'kprobe', 'none'),
  def('uprobe+', 'kprobe', 'none'),
  def('uprobe.s+', 'kprobe', 'none', 'sleepable'),
  def('kretprobe+', 'kprobe', 'none'),
  def('uretprobe+', 'kprobe', 'none'),
  def('uretprobe.s+', 'kprobe', 'none', 'sleepable'),
  def('kprobe.multi+', 'kprobe', 'trace_kprobe_multi'),
  def('kretprobe.multi+', 'kprobe', 'trace_kprobe_multi'),
  def('kprobe.session+', 'kprobe', 'trace_kprobe_session'),
  def('uprobe.multi+', 'kprobe', 'trace_uprobe_multi'),
  def('uretprobe.multi+', 'kprobe', 'trace_uprobe_multi'),
  def('uprobe.session+', 'kprobe', 'trace_uprobe_session'),
  def('uprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 'sleepable'),
  def('uretprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 'sleepable'),
  def('uprobe.session.s+', 'kprobe', 'trace_uprobe_session', 'sleepable'),
  def('ksyscall+', 'kprobe', 'none'),
  def('kretsyscall+', 'kprobe', 'none'),
  def('usdt+', 'kprobe', 'none'),
  def('usdt.s+', 'kprobe', 'none', 'sleepable'),
  def('tc/ingress', 'sched_cls', 'tcx_ingress'),
  def('tc/egress', 'sched_cls', 'tcx_egress'),
  def('tcx/ingress', 'sched_cls', 'tcx_ingress'),
  def('tcx/egress', 'sched_cls', 'tcx_egress'),
  def('tc', 'sched_cls', 'none'),
  def('classifier', 'sched_cls', 'none'),
  def('action', 'sched_act', 'none'),
  def('netkit/primary', 'sched_cls', 'netkit_primary'),
  def('netkit/peer', 'sched_cls', 'netkit_peer'),
  def('tracepoint+', 'tracepoint', 'none'),
  def('tp+', 'tracepoint', 'none'),
  def('tracepoint.s+', 'tracepoint', 'none', 'sleepable'),
  def('tp.s+', 'tracepoint', 'none', 'sleepable'),
  def('raw_tracepoint+', 'raw_tracepoint', 'none'),
  def('raw_tp+', 'raw_tracepoint', 'none'),
  def('raw_tracepoint.s+', 'raw_tracepoint', 'none', 'sleepable'),
  def('raw_tp.s+', 'raw_tracepoint', 'none', 'sleepable'),
  def('raw_tracepoint.w+', 'raw_tracepoint_writable', 'none'),
  def('raw_tp.w+', 'raw_tracepoint_writable', 'none'),
  def('tp_btf+', 'tracing', 'trace_raw_tp', 'btf'),
  def('tp_btf.s+', 'tracing', 'trace_raw_tp', 'btf', 'sleepable'),
  def('fentry+', 'tracing', 'trace_fentry', 'btf'),
  def('fmod_ret+', 'tracing', 'modify_return', 'btf'),
  def('fexit+', 'tracing', 'trace_fexit', 'btf'),
  def('fentry.s+', 'tracing', 'trace_fentry', 'btf', 'sleepable'),
  def('fmod_ret.s+', 'tracing', 'modify_return', 'btf', 'sleepable'),
  def('fexit.s+', 'tracing', 'trace_fexit', 'btf', 'sleepable'),
  def('freplace+', 'ext', 'none', 'btf'),
  def('lsm+', 'lsm', 'lsm_mac', 'btf'),
  def('lsm.s+', 'lsm', 'lsm_mac', 'btf', 'sleepable'),
  def('lsm_cgroup+', 'lsm', 'lsm_cgroup', 'btf'),
  def('iter+', 'tracing', 'trace_iter', 'btf'),
  def('iter.s+', 'tracing', 'trace_iter', 'btf', 'sleepable'),
  def('syscall', 'syscall', 'none', 'sleepable'),
  def('xdp.frags/devmap', 'xdp', 'xdp_devmap', 'frags'),
  def('xdp/devmap', 'xdp', 'xdp_devmap'),
  def('xdp.frags/cpumap', 'xdp', 'xdp_cpumap', 'frags'),
  def('xdp/cpumap', 'xdp', 'xdp_cpumap'),
  def('xdp.frags', 'xdp', 'xdp', 'frags'),
  def('xdp', 'xdp', 'xdp'),
  def('perf_event', 'perf_event', 'none'),
  def('lwt_in', 'lwt_in', 'none'),
  def('lwt_out', 'lwt_out', 'none'),
  def('lwt_xmit', 'lwt_xmit', 'none'),
  def('lwt_seg6local', 'lwt_seg6local', 'none'),
  def('sockops', 'sock_ops', 'cgroup_sock_ops'),
  def('sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser'),
  def('sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'),
  def('sk_skb/verdict', 'sk_skb', 'sk_skb_verdict'),
  def('sk_skb', 'sk_skb', 'none'),
  def('sk_msg', 'sk_msg', 'sk_msg_verdict'),
  def('lirc_mode2', 'lirc_mode2', 'lirc_mode2'),
  def('flow_dissector', 'flow_dissector', 'flow_dissector'),
  def('cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'),
  def('cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'),
  def('cgroup/skb', 'cgroup_skb', 'none'),
  def('cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create'),
  def('cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release'),
  def('cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'),
  def('cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind'),
  def('cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind'),
  def('cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind'),
  def('cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind'),
  def('cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'),
  def('cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect'),
  def('cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect'),
  def('cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg'),
  def('cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'),
  def('cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg'),
  def('cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg'),
  def('cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg'),
  def('cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg'),
  def('cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername'),
  def('cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername'),
  def('cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername'),
  def('cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname'),
  def('cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname'),
  def('cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname'),
  def('cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'),
  def('cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt'),
  def('cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt'),
  def('cgroup/dev', 'cgroup_device', 'cgroup_device'),
  def('struct_ops+', 'struct_ops', 'none'),
  def('struct_ops.s+', 'struct_ops', 'none', 'sleepable'),
  def('sk_lookup', 'sk_lookup', 'sk_lookup'),
  def('netfilter', 'netfilter', 'netfilter'),
];

function matches(pattern: string, name: string): boolean {
  const last = pattern[pattern.length - 1];
  if (last === '/') return name.startsWith(pattern);
  if (last === '+') {
    const p = pattern.slice(0, -1);
    return name.startsWith(p) && (name.length === p.length || name[p.length] === '/');
  }
  return name === pattern;
}

/** The definition for a program section name, or undefined if libbpf would not recognise it. */
export function findSectionDef(sectionName: string): SectionDef | undefined {
  return SECTION_DEFS.find((d) => matches(d.pattern, sectionName));
}

/**
 * The part after the prefix, the attach target ('do_unlinkat' for
 * 'fentry/do_unlinkat', 'sched/sched_switch' for 'tp/sched/sched_switch').
 */
export function attachTarget(sectionName: string, d: SectionDef): string | undefined {
  const p = d.pattern.replace(/[+]$/, '');
  if (p.endsWith('/')) return sectionName.slice(p.length) || undefined;
  return sectionName.length > p.length && sectionName[p.length] === '/' ? sectionName.slice(p.length + 1) : undefined;
}
