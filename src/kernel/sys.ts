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
  | { readonly kind: 'close'; readonly fd: number };

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
