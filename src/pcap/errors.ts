import { BpfkitError } from '../errors/index.js';

/**
 * A capture file that is truncated, corrupt or not a capture at all.
 * `offset` is the byte offset in the file; `packet` the 1-based number of
 * the packet being read, when there is one.
 */
export class PcapError extends BpfkitError {
  readonly code = 'PCAP_MALFORMED';
  constructor(readonly reason: string, readonly offset: number, readonly packet?: number, options?: ErrorOptions) {
    super(`${packet !== undefined ? `packet ${packet}, ` : ''}offset ${offset}: ${reason}`, options);
  }
}
