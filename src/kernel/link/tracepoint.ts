/**
 * Tracepoints (SEC("tracepoint/<category>/<name>")): a perf event on the
 * tracepoint id, with the program attached through a bpf_link
 * (BPF_LINK_CREATE, attach type BPF_PERF_EVENT), or on kernels without
 * perf links through PERF_EVENT_IOC_SET_BPF.
 */
import { ERRNO } from '../errno.js';
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import { SyscallError, type Sys } from '../sys.js';
import { linkCreate } from './bpf-link.js';
import { FdLink, track } from './link.js';
import { PERF_EVENT_IOC, PERF_TYPE, perfEventOpen } from './perf-event.js';
import { tracepointId } from './tracefs.js';

/** Attach a perf event fd the caller opened to `prog`; returns the link holding both. */
export function attachPerfEvent(prog: Program, perfFd: number, kind: FdLink['kind'], target: string, sys: Sys, cookie?: bigint): FdLink {
  try {
    const linkFd = linkCreate({ progFd: prog.fd, target: perfFd, attachType: 'perf_event', cookie }, sys);
    return track(new FdLink(kind, target, [perfFd, linkFd], sys));
  } catch (e) {
    if (!(e instanceof SyscallError && (e.errno === ERRNO.EINVAL || e.errno === ERRNO.EOPNOTSUPP))) {
      sys.call({ kind: 'close', fd: perfFd });
      throw e;
    }
  }
  try {
    sys.call({ kind: 'ioctl', fd: perfFd, request: PERF_EVENT_IOC.set_bpf, arg: prog.fd });
    sys.call({ kind: 'ioctl', fd: perfFd, request: PERF_EVENT_IOC.enable, arg: 0 });
  } catch (e) {
    sys.call({ kind: 'close', fd: perfFd });
    throw e;
  }
  return track(new FdLink(kind, target, [perfFd], sys, () => {
    sys.call({ kind: 'ioctl', fd: perfFd, request: PERF_EVENT_IOC.disable, arg: 0 });
  }));
}

/** Attach a tracepoint program to category:name ("syscalls", "sys_enter_openat"). */
export function attachTracepoint(prog: Program, category: string, name: string, opts: { cookie?: bigint; sys?: Sys } = {}): FdLink {
  const sys = opts.sys ?? nativeSys;
  const id = tracepointId(category, name);
  const fd = perfEventOpen({ type: PERF_TYPE.tracepoint, config: BigInt(id), pid: -1, cpu: 0 }, sys);
  return attachPerfEvent(prog, fd, 'tracepoint', `${category}:${name}`, sys, opts.cookie);
}
