/**
 * Verifier errors. `Reject` is the internal signal a check raises with the
 * kernel's message; `VerifierError` is what callers may throw when they want
 * an exception rather than a result.
 */
import { BpfkitError } from '../errors/index.js';
import type { VerifierIssue } from './types.js';

/**
 * Internal: the program is refused at `insn` (a slot index) with the kernel's
 * message. Not an Error: refusals are ordinary outcomes and capturing a stack
 * trace for each would dominate the cost of verifying small programs.
 */
export class Reject {
  constructor(readonly insn: number, readonly message: string, readonly hint?: string, readonly errno: 'EACCES' | 'EINVAL' | 'E2BIG' | 'EFAULT' = 'EACCES') {}
}

/** A refused program: the full log is on `.log`, the first issue in the message. */
export class VerifierError extends BpfkitError {
  readonly code = 'VERIFIER_REJECTED';
  constructor(readonly issues: readonly VerifierIssue[], readonly log: string, options?: ErrorOptions) {
    const first = issues[0];
    super(first ? `insn ${first.insn}: ${first.message}` : 'program refused by the verifier', options);
  }
}

/** Malformed input to the verifier itself (not a refusal), e.g. an empty program. */
export class VerifierInputError extends BpfkitError {
  readonly code = 'VERIFIER_INPUT';
}
