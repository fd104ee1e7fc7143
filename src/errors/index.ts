/**
 * The error hierarchy shared by every layer of bpfkit.
 *
 * Each layer defines its own subclass carrying the location it knows
 * (instruction index, line and column, byte offset, packet number). All of
 * them extend {@link BpfkitError}, which has a stable machine-readable `code`,
 * so callers can tell user errors (bad input) from bugs (anything else).
 */
export abstract class BpfkitError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A feature the running system (or this build) does not have. */
export class NotSupportedError extends BpfkitError {
  readonly code = 'NOT_SUPPORTED';
  constructor(readonly feature: string, detail?: string, options?: ErrorOptions) {
    super(`${feature} is not supported${detail ? `: ${detail}` : ''}`, options);
  }
}

/** True for errors that describe bad input rather than a bug in bpfkit. */
export function isBpfkitError(e: unknown): e is BpfkitError {
  return e instanceof BpfkitError;
}
