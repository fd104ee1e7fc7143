/**
 * The Linux backend: loads what src/elf parsed into the real kernel,
 * attaches it, and reads what it produces, as libbpf, cilium/ebpf and aya
 * do.
 *
 * - `loadCollection(spec)`: maps (global data memory-mapped, .rodata
 *   frozen, BTF), programs (relocated, CO-RE against the running kernel),
 *   all or nothing.
 * - link/: one module per hook (tracepoint, raw tracepoint, tp_btf/fentry/
 *   LSM, kprobe, uprobe, perf_event, XDP, tcx, socket filter, cgroup); each
 *   returns a `Link`, closed at process exit or interruption.
 * - output/: ring buffer and perf buffer readers on the Node event loop,
 *   trace_pipe.
 * - feature.ts: probes that throw NotSupportedError naming what is missing.
 *
 * Every system call is a `Syscall` value handed to a `Sys`; the real one
 * (`nativeSys`) calls libc through koffi, loaded on first use, so importing
 * this module never fails: where bpf(2) cannot be used, calls throw
 * `NotSupportedError` and `bpfUnusableReason()` says why. Kernel objects
 * (`Program`, `BpfMap`) own their fd: `close()` or `using` releases it, and
 * `openFds()` lists the fds still open with where they were opened.
 *
 * See the kernel's Documentation/userspace-api/ebpf/syscall.rst and
 * include/uapi/linux/bpf.h.
 */
export { type Syscall, type Sys, type PointerField, SyscallError, describeCall } from './sys.js';
export { nativeSys } from './native.js';
export { ERRNO, errnoName, type ErrnoName } from './errno.js';
export { BPF_CMD, PROG_TYPE, MAP_TYPE, UPDATE_FLAG, ATTACH_TYPE, MAP_FLAG, progTypeName, mapTypeName, type BpfCmd, type ProgType, type MapType, type UpdateFlag, type AttachTypeName } from './constants.js';
export { VerifierError, KernelArgumentError } from './errors.js';
export { openFds, KernelFd, type OpenFd } from './fd.js';
export {
  Program, loadProgram, programInfo, programCode, programFromFd, openPinnedProgram,
  type ProgramLoadOptions, type ProgramInfo, type TestRunOptions, type TestRunResult,
} from './program.js';
export { BpfMap, createMap, mapInfo, mapFromFd, openPinnedMap, type MapCreateOptions, type MapInfo } from './map.js';
export { loadCollection, Collection, CollectionLoadError, type LoadOptions } from './collection.js';
export { loadBtf, kernelBtf, encodeForKernel, sanitise as sanitiseBtfType, KernelBtf, BtfLoadError, type BtfSanitisation } from './btf.js';
export { objPin, objGet, objectIds, fdById, ensureBpffs, BPFFS, type ObjectKind } from './object.js';
export { possibleCpus, onlineCpus, parseCpuList } from './cpus.js';
export { bpfUnusableReason } from './probe.js';
export * as attr from './attr.js';
export * from './link/index.js';
export * from './output/index.js';
export { formatXlated } from './xlated.js';
export { probeProgramType, probeMapType, probeHelper, requireProgramType, requireMapType, requireHelper, PROBED_PROGRAM_TYPES, PROBED_MAP_TYPES } from './feature.js';
