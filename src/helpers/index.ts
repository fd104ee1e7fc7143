/**
 * BPF helper functions for the userspace VM, by their Linux ids (from the
 * kernel's enum bpf_func_id): maps, time and identity from a host
 * environment object, printk output captured like trace_pipe lines, ring
 * and perf buffers, packet and checksum helpers, tail calls. Each program
 * type gets only the helpers the kernel lets it call. See bpf-helpers(7).
 */
export { createHostEnv, type HostEnv, type HostEnvOptions } from './env.js';
export { helperId, helperName } from './ids.js';
export { HelperNotAllowedError, HelperNotImplementedError, HelperIdError } from './errors.js';
export { newRunState, MAX_TAIL_CALL_CNT, type HelperHost, type RunState } from './host.js';
export { allowedHelpers } from './allowed.js';
export { helperTable, implementedHelpers, IMPLEMENTED_HELPER_NAMES } from './table.js';
export { bpfPrintf } from './format.js';
export { csumAdd, csumFold, csumReplace2, csumReplace4, csumReplaceByDiff, csumPartial, csumFrom32to16, csumSub } from './csum.js';
