/**
 * Attaching by section name, as libbpf's bpf_program__attach does: the
 * section says the hook ("tracepoint/syscalls/sys_enter_openat",
 * "uprobe//bin/bash:readline", "fentry/do_unlinkat"); hooks that need
 * something the section cannot say (an interface, a cgroup, a socket)
 * take it from the request.
 */
import type { ProgramSpec } from '../../elf/index.js';
import { KernelArgumentError } from '../errors.js';
import type { Program } from '../program.js';
import { attachCgroup } from './cgroup.js';
import { attachKprobe } from './kprobe.js';
import type { Link } from './link.js';
import { attachTcx, attachXdp, type XdpMode } from './netdev.js';
import { attachRawTracepoint, attachTracing } from './raw-tracepoint.js';
import { attachPerfSampling } from './sampling.js';
import { attachSocketFilter } from './socket.js';
import { attachTracepoint } from './tracepoint.js';
import { attachUprobe } from './uprobe.js';

export interface AttachRequest {
  /** XDP and tc programs: the interface. */
  readonly iface?: string | number;
  readonly xdpMode?: XdpMode;
  /** cgroup programs: the cgroup v2 directory. */
  readonly cgroup?: string;
  /** Socket filters: the socket's fd. */
  readonly socketFd?: number;
  /** uprobes: only this process. */
  readonly pid?: number;
  /** perf_event programs: samples per second per CPU. */
  readonly frequency?: number;
}

function need<T>(v: T | undefined, what: string, spec: ProgramSpec): T {
  if (v === undefined) throw new KernelArgumentError(`program '${spec.name}' (section '${spec.section}') needs ${what} to attach`);
  return v;
}

/** Attach `prog`, loaded from `spec`, where its section says. */
export function attachProgram(prog: Program, spec: ProgramSpec, req: AttachRequest = {}): Link {
  const sec = spec.section;
  const target = spec.attachTarget;
  const head = sec.split('/')[0];
  switch (head) {
    case 'tracepoint':
    case 'tp': {
      const [cat, name] = need(target, 'a tracepoint category/name in its section', spec).split('/');
      return attachTracepoint(prog, cat, need(name, 'a tracepoint name', spec));
    }
    case 'raw_tracepoint':
    case 'raw_tp':
    case 'raw_tracepoint.w':
    case 'raw_tp.w':
      return attachRawTracepoint(prog, need(target, 'a raw tracepoint name in its section', spec));
    case 'tp_btf': case 'fentry': case 'fexit': case 'fmod_ret': case 'lsm': case 'fentry.s': case 'fexit.s': case 'lsm.s':
      return attachTracing(prog, `${head}:${target ?? ''}`);
    case 'kprobe':
    case 'kretprobe':
      return attachKprobe(prog, need(target, 'a function in its section', spec), { retprobe: head === 'kretprobe' });
    case 'uprobe': case 'uretprobe': case 'uprobe.s': case 'uretprobe.s': {
      const t = need(target, 'binary:function in its section', spec);
      const i = t.lastIndexOf(':');
      if (i <= 0) throw new KernelArgumentError(`program '${spec.name}': uprobe target '${t}' is not binary:function`);
      return attachUprobe(prog, t.slice(0, i), t.slice(i + 1), { retprobe: head.startsWith('uretprobe'), pid: req.pid });
    }
    case 'perf_event':
      return attachPerfSampling(prog, { frequency: req.frequency });
    case 'xdp':
      return attachXdp(prog, need(req.iface, 'an interface', spec), { mode: req.xdpMode });
    case 'tcx':
    case 'tc': {
      const dir = spec.attachType === 'tcx_egress' || target === 'egress' ? 'egress' : 'ingress';
      return attachTcx(prog, need(req.iface, 'an interface', spec), dir);
    }
    case 'socket':
      return attachSocketFilter(prog, need(req.socketFd, 'a socket fd', spec));
    case 'cgroup_skb':
    case 'cgroup': {
      // The section's attach type says which hook ('cgroup_skb/egress' is cgroup_inet_egress).
      const hook = spec.attachType === 'cgroup_inet_egress' ? 'egress'
        : spec.attachType === 'cgroup_inet_ingress' || (head === 'cgroup_skb' && spec.attachType === 'none') ? 'ingress'
          : spec.attachType === 'cgroup_inet_sock_create' ? 'sock_create' : undefined;
      if (hook) return attachCgroup(prog, need(req.cgroup, 'a cgroup directory', spec), hook);
      break;
    }
  }
  throw new KernelArgumentError(`program '${spec.name}': bpfkit cannot attach section '${sec}' automatically`);
}
