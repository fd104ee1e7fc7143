import { BpfkitError } from '../errors/index.js';

/** Corrupt BTF or .BTF.ext: `offset` is the byte offset in the blob (or the type id when `typeId` is set). */
export class BtfError extends BpfkitError {
  readonly code = 'BTF_MALFORMED';
  constructor(readonly reason: string, readonly offset: number, readonly typeId?: number, options?: ErrorOptions) {
    super(`BTF${typeId !== undefined ? ` type [${typeId}]` : ''}+0x${offset.toString(16)}: ${reason}`, options);
  }
}
