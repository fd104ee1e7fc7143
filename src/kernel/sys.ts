/**
 * The one way into the kernel: every system call bpfkit makes is a value of
 * `Syscall`, handed to a `Sys`. The real `Sys` (native.ts) calls libc
 * through koffi; unit tests hand in a fake that records the values, so the
 * attribute encoding and the errno mapping are tested without root.
 */
import { BpfkitError } from '../errors/index.js';
import type { BpfCmd } from './constants.js';
import { errnoName } from './errno.js';

/**
 * A pointer inside an attribute block: the `Sys` writes the address of
 * `buf` as a u64 at `offset` (or 0 when `buf` is undefined) just before the
 * call. Keeping the buffer rather than an address keeps the encoding pure
 * data, and keeps the memory alive for as long as the call needs it.
 */
export interface PointerField {
  readonly offset: number;
  readonly buf: Uint8Array | undefined;
}

export type Syscall =
  /** bpf(cmd, attr, attr.length); the kernel may write results back into attr and the pointed-to buffers. */
  | { readonly kind: 'bpf'; readonly cmd: BpfCmd; readonly attr: Uint8Array; readonly pointers: readonly PointerField[] }
  | { readonly kind: 'close'; readonly fd: number }
  /** perf_event_open(attr, pid, cpu, group_fd, flags): tracepoints, uprobes, sampling and BPF output events. */
  | { readonly kind: 'perf_event_open'; readonly attr: Uint8Array; readonly pointers: readonly PointerField[]; readonly pid: number; readonly cpu: number; readonly groupFd: number; readonly flags: number }
  /** ioctl(fd, request, arg) with an integer argument (PERF_EVENT_IOC_SET_BPF, _ENABLE, _DISABLE). */
  | { readonly kind: 'ioctl'; readonly fd: number; readonly request: number; readonly arg: number }
  /** setsockopt(fd, level, name, value, len): SO_ATTACH_BPF, SO_DETACH_BPF. */
  | { readonly kind: 'setsockopt'; readonly fd: number; readonly level: number; readonly name: number; readonly value: Uint8Array }
  /** epoll_create1(flags) */
  | { readonly kind: 'epoll_create'; readonly flags: number }
  /** epoll_ctl(epfd, op, fd, {events, data = fd}) */
  /** mmap(2) of a kernel object's fd; only named here, for errors: the mapping itself goes through native.ts's mmapFd. */
  | { readonly kind: 'mmap'; readonly fd: number; readonly length: number; readonly offset: number }
  | { readonly kind: 'epoll_ctl'; readonly epfd: number; readonly op: number; readonly fd: number; readonly events: number };

export interface Sys {
  /** Make the call; returns its non-negative result or throws `SyscallError`. */
  call(c: Syscall): number;
}

/** "bpf(BPF_PROG_LOAD)", "close(7)". */
export function describeCall(c: Syscall): string {
  switch (c.kind) {
    case 'bpf':
      return `bpf(BPF_${c.cmd.toUpperCase()})`;
    case 'close':
      return `close(${c.fd})`;
    case 'perf_event_open':
      return `perf_event_open(pid ${c.pid}, cpu ${c.cpu})`;
    case 'ioctl':
      return `ioctl(${c.fd}, 0x${c.request.toString(16)})`;
    case 'setsockopt':
      return `setsockopt(${c.fd}, ${c.level}, ${c.name})`;
    case 'mmap':
      return `mmap(fd ${c.fd}, ${c.length} bytes at ${c.offset})`;
    case 'epoll_create':
      return 'epoll_create1()';
    case 'epoll_ctl':
      return `epoll_ctl(${c.epfd}, ${c.op}, ${c.fd})`;
  }
}

/** A system call that failed: which one, and the errno with its name. */
export class SyscallError extends BpfkitError {
  readonly code = 'SYSCALL';
  /** "BPF_PROG_LOAD" for bpf(2), else the call's name. */
  readonly command: string;
  readonly errnoName: string;
  constructor(readonly call: Syscall, readonly errno: number, options?: ErrorOptions) {
    super(`${describeCall(call)}: ${errnoName(errno)} (errno ${errno})`, options);
    this.command = call.kind === 'bpf' ? `BPF_${call.cmd.toUpperCase()}` : call.kind;
    this.errnoName = errnoName(errno);
  }
}
