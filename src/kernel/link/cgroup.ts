/**
 * cgroup hooks through bpf_links on a cgroup v2 directory: skb ingress and
 * egress (cgroup_skb programs), socket creation (cgroup_sock).
 */
import { closeSync, openSync } from 'node:fs';
import { KernelArgumentError } from '../errors.js';
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import type { Sys } from '../sys.js';
import { linkCreate } from './bpf-link.js';
import { FdLink, track } from './link.js';

const HOOKS = { ingress: 'cgroup_inet_ingress', egress: 'cgroup_inet_egress', sock_create: 'cgroup_inet_sock_create' } as const;
export type CgroupHook = keyof typeof HOOKS;

export function attachCgroup(prog: Program, cgroupPath: string, hook: CgroupHook, opts: { sys?: Sys } = {}): FdLink {
  const sys = opts.sys ?? nativeSys;
  let dirFd: number;
  try {
    dirFd = openSync(cgroupPath, 'r');
  } catch (e) {
    throw new KernelArgumentError(`cannot open cgroup ${cgroupPath}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const fd = linkCreate({ progFd: prog.fd, target: dirFd, attachType: HOOKS[hook] }, sys);
    return track(new FdLink('cgroup', `cgroup ${hook} on ${cgroupPath}`, [fd], sys));
  } finally {
    closeSync(dirFd);
  }
}
