/**
 * Raw tracepoints (SEC("raw_tracepoint/<name>"), BPF_RAW_TRACEPOINT_OPEN)
 * and the BTF-typed tracing programs attached at their load-time target:
 * tp_btf, fentry, fexit, fmod_ret, LSM.
 */
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import type { Sys } from '../sys.js';
import { rawTracepointOpen } from './bpf-link.js';
import { FdLink, track } from './link.js';

/** Attach a raw_tracepoint program to the raw tracepoint `name` ("sys_enter"). */
export function attachRawTracepoint(prog: Program, name: string, opts: { sys?: Sys } = {}): FdLink {
  const sys = opts.sys ?? nativeSys;
  return track(new FdLink('raw_tracepoint', name, [rawTracepointOpen(prog.fd, name, sys)], sys));
}

/**
 * Attach a tp_btf, fentry, fexit, fmod_ret or LSM program to the target
 * named when it was loaded (its attach_btf_id); `target` only labels the link.
 */
export function attachTracing(prog: Program, target: string = prog.type, opts: { sys?: Sys } = {}): FdLink {
  const sys = opts.sys ?? nativeSys;
  return track(new FdLink(prog.type === 'lsm' ? 'lsm' : 'tracing', target, [rawTracepointOpen(prog.fd, undefined, sys)], sys));
}
