import { BpfkitError } from '../errors/index.js';

/** A classic BPF program that is malformed or rejected; `index` is the instruction (0-based). */
export class CbpfError extends BpfkitError {
  readonly code: string = 'CBPF_INVALID';
  constructor(readonly reason: string, readonly index: number, options?: ErrorOptions) {
    super(index >= 0 ? `instruction ${index}: ${reason}` : reason, options);
  }
}

/** A program the kernel's checker (bpf_check_classic) would refuse with EINVAL. */
export class CbpfCheckError extends CbpfError {
  override readonly code = 'CBPF_CHECK';
}

/** Text that is not a valid `tcpdump -d`, `-dd` or `-ddd` listing; line and column are 1-based. */
export class CbpfParseError extends BpfkitError {
  readonly code = 'CBPF_PARSE';
  constructor(readonly reason: string, readonly line: number, readonly column: number, options?: ErrorOptions) {
    super(`${line}:${column}: ${reason}`, options);
  }
}

/**
 * A libpcap-dialect run that took more backward jumps than its budget: the
 * program is looping (libpcap itself would spin forever; protochain does on
 * some malformed IPv4 AH headers). `index` is the jump that ran out.
 */
export class CbpfLoopError extends CbpfError {
  override readonly code = 'CBPF_LOOP';
}
