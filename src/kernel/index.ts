/**
 * The Linux backend: bpfkit's bridge to the kernel's bpf(2).
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
export { BPF_CMD, PROG_TYPE, MAP_TYPE, UPDATE_FLAG, type BpfCmd, type ProgType, type MapType, type UpdateFlag } from './constants.js';
export { VerifierError, KernelArgumentError } from './errors.js';
export { openFds, KernelFd, type OpenFd } from './fd.js';
export { Program, loadProgram, type ProgramLoadOptions, type TestRunOptions, type TestRunResult } from './program.js';
export { BpfMap, createMap, type MapCreateOptions } from './map.js';
export { bpfUnusableReason } from './probe.js';
export * as attr from './attr.js';
