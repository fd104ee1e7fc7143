import { BpfkitError } from '../errors/index.js';

/** A collection spec that cannot become a live VM collection (a relocation to a missing map, an unsupported extern). */
export class RuntimeLoadError extends BpfkitError {
  readonly code = 'RUNTIME_LOAD';
  constructor(readonly program: string | undefined, reason: string, options?: ErrorOptions) {
    super(program === undefined ? reason : `program '${program}': ${reason}`, options);
  }
}

/** A run asked for something the program's type does not take (a packet for a tracepoint, no packet for XDP). */
export class RuntimeInputError extends BpfkitError {
  readonly code = 'RUNTIME_INPUT';
}
