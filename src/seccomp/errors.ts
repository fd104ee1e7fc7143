import { BpfkitError } from '../errors/index.js';

/**
 * A mistake in a seccomp policy or profile. `where` is the JSON path of the
 * offending field (`syscalls[3].args[0].op`), or the builder call, and
 * `line`/`column` are set for JSON syntax errors.
 */
export class SeccompPolicyError extends BpfkitError {
  readonly code = 'SECCOMP_POLICY';
  constructor(readonly where: string, detail: string, options?: ErrorOptions) {
    super(`${where}: ${detail}`, options);
  }
}

/** The policy is valid but cannot become a filter the kernel accepts (too long). */
export class SeccompCompileError extends BpfkitError {
  readonly code = 'SECCOMP_COMPILE';
  constructor(detail: string, options?: ErrorOptions) {
    super(detail, options);
  }
}

/** A classic BPF filter that seccomp would reject or that misbehaves at run time, at instruction `index`. */
export class SeccompFilterError extends BpfkitError {
  readonly code = 'SECCOMP_FILTER';
  constructor(readonly index: number, detail: string, options?: ErrorOptions) {
    super(`insn ${index}: ${detail}`, options);
  }
}
