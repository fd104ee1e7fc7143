import { BpfkitError } from '../errors/index.js';

/** A truncated or inconsistent ELF object. `offset` is a byte offset in the file; `section` names where, if known. */
export class ElfError extends BpfkitError {
  readonly code = 'ELF_MALFORMED';
  constructor(readonly reason: string, readonly offset: number, readonly section?: string, options?: ErrorOptions) {
    super(`${section ?? 'ELF'}+0x${offset.toString(16)}: ${reason}`, options);
  }
}
