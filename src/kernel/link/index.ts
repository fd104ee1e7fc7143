/**
 * Attaching programs to kernel hooks. One module per hook; each attach
 * function takes only what its hook needs and returns a `Link`, closed
 * with close() or `using`, and closed for you when the process exits or
 * is interrupted. See https://docs.kernel.org/bpf/ (program types) and
 * libbpf's program_types.rst for which section names go where.
 */
export { type Link, type LinkKind, FdLink, MultiLink, liveLinks } from './link.js';
export { attachTracepoint, attachPerfEvent } from './tracepoint.js';
export { attachRawTracepoint, attachTracing } from './raw-tracepoint.js';
export { attachKprobe, kprobeUnsupportedReason } from './kprobe.js';
export { attachUprobe, uprobeOffset, type UprobeOptions } from './uprobe.js';
export { readFunctionSymbols, NativeElfError, type NativeSymbol } from './elf-symbols.js';
export { attachPerfSampling, type SamplingOptions } from './sampling.js';
export { attachXdp, attachTcx, ifindex, type XdpMode } from './netdev.js';
export { attachSocketFilter } from './socket.js';
export { attachCgroup, type CgroupHook } from './cgroup.js';
export { tracefs, tracepointId, TRACEFS } from './tracefs.js';
export { attachProgram, type AttachRequest } from './auto.js';
