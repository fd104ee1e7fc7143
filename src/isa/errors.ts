import { BpfkitError } from '../errors/index.js';

/** Malformed bytecode. `index` is the slot (8-byte instruction) where it was found. */
export class DecodeError extends BpfkitError {
  readonly code = 'ISA_DECODE';
  constructor(readonly reason: string, readonly index: number, options?: ErrorOptions) {
    super(`instruction ${index}: ${reason}`, options);
  }
}

/** An instruction value that cannot be encoded (a field out of range). */
export class EncodeError extends BpfkitError {
  readonly code = 'ISA_ENCODE';
  constructor(readonly reason: string, readonly index: number, options?: ErrorOptions) {
    super(`instruction ${index}: ${reason}`, options);
  }
}
