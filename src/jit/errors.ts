import { BpfkitError } from '../errors/index.js';

/**
 * The WebAssembly engine refused the module we generated: in practice a
 * program beyond its limits (a function body over about 7 MB of code).
 * Such a program still runs on the interpreter.
 */
export class JitCompileError extends BpfkitError {
  readonly code = 'JIT_COMPILE';
  constructor(readonly detail: string, options?: ErrorOptions) {
    super(`cannot compile the program to WebAssembly: ${detail}`, options);
  }
}
