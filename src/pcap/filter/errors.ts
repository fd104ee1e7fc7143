import { BpfkitError } from '../../errors/index.js';

/**
 * A filter expression libpcap would refuse. `reason` is libpcap's own text
 * (what `tcpdump` prints after "can't parse filter expression: "), and
 * `position` the 0-based character offset in the expression where the
 * problem was found, when known.
 */
export class FilterError extends BpfkitError {
  readonly code = 'FILTER_INVALID';
  constructor(readonly reason: string, readonly position?: number, options?: ErrorOptions) {
    super(position === undefined ? reason : `${reason} (at column ${position + 1})`, options);
  }
}
