import { BpfkitError } from '../errors/index.js';

/**
 * Bad assembly text. `line` and `column` are 1-based and point at the
 * offending token; `source` is the whole line it sits on.
 */
export class AsmError extends BpfkitError {
  readonly code = 'ASM_SYNTAX';
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly source: string,
    options?: ErrorOptions,
  ) {
    super(`${line}:${column}: ${reason}`, options);
  }
}
