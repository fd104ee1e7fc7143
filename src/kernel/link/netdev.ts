/**
 * Network device hooks through bpf_links: XDP (generic or native mode)
 * and tcx (tc ingress/egress, Linux 6.6), by interface name or index.
 */
import { readFileSync } from 'node:fs';
import { KernelArgumentError } from '../errors.js';
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import type { Sys } from '../sys.js';
import { linkCreate } from './bpf-link.js';
import { FdLink, track } from './link.js';

/** XDP_FLAGS_*: generic (skb) mode, native (driver) mode, offload. */
const XDP_MODE_FLAG = { auto: 0, generic: 1 << 1, native: 1 << 2, offload: 1 << 3 } as const;
export type XdpMode = keyof typeof XDP_MODE_FLAG;

/** An interface's index from its name (in this process's network namespace). */
export function ifindex(iface: string | number): number {
  if (typeof iface === 'number') return iface;
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
  } catch (e) {
    throw new KernelArgumentError(`no network interface '${iface}'`, { cause: e });
  }
}

export function attachXdp(prog: Program, iface: string | number, opts: { mode?: XdpMode; sys?: Sys } = {}): FdLink {
  const sys = opts.sys ?? nativeSys;
  const idx = ifindex(iface);
  const mode = opts.mode ?? 'auto';
  const fd = linkCreate({ progFd: prog.fd, target: idx, attachType: 'xdp', flags: XDP_MODE_FLAG[mode] }, sys);
  return track(new FdLink('xdp', `xdp (${mode}) on ${iface}`, [fd], sys));
}

export function attachTcx(prog: Program, iface: string | number, direction: 'ingress' | 'egress', opts: { sys?: Sys } = {}): FdLink {
  const sys = opts.sys ?? nativeSys;
  const fd = linkCreate({ progFd: prog.fd, target: ifindex(iface), attachType: direction === 'ingress' ? 'tcx_ingress' : 'tcx_egress' }, sys);
  return track(new FdLink('tcx', `tcx ${direction} on ${iface}`, [fd], sys));
}
