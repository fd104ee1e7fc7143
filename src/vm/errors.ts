import { BpfkitError } from '../errors/index.js';

/**
 * A program stopped abnormally on the VM. `pc` is the slot index (8-byte
 * instruction) that was executing, or -1 when the error did not come from a
 * running program (a host mapping a region, for example).
 */
export abstract class VmError extends BpfkitError {
  constructor(readonly pc: number, detail: string, options?: ErrorOptions) {
    super(pc >= 0 ? `pc ${pc}: ${detail}` : detail, options);
  }
}

export type Access = 'read' | 'write';

/** An access outside every mapped region (or a write to a read-only one). */
export class VmMemoryError extends VmError {
  readonly code = 'VM_MEMORY';
  constructor(pc: number, readonly access: Access, readonly address: bigint, readonly size: number, reason?: string) {
    super(pc, `invalid ${access} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)}${reason ? ` (${reason})` : ''}`);
  }
}

/** The instruction budget ran out: the program ran too long or loops forever. */
export class VmBudgetError extends VmError {
  readonly code = 'VM_BUDGET';
  constructor(pc: number, readonly budget: number) {
    super(pc, `instruction budget of ${budget} exhausted`);
  }
}

/** A bpf-to-bpf call would exceed the maximum number of frames. */
export class VmCallDepthError extends VmError {
  readonly code = 'VM_CALL_DEPTH';
  constructor(pc: number, readonly maxFrames: number) {
    super(pc, `call stack too deep: more than ${maxFrames} frames`);
  }
}

/** A call to a helper (or kfunc) the host did not provide. */
export class VmUnknownHelperError extends VmError {
  readonly code = 'VM_UNKNOWN_HELPER';
  constructor(pc: number, readonly helper: bigint | number, what = 'helper') {
    super(pc, `unknown ${what} ${helper}`);
  }
}

/** A helper refused its arguments; `cause` holds what it threw. */
export class VmHelperError extends VmError {
  readonly code = 'VM_HELPER';
  constructor(pc: number, readonly helper: number, cause: BpfkitError) {
    super(pc, `helper ${helper}: ${cause.message}`, { cause });
  }
}

/**
 * The program cannot run as given: a jump outside the program, into the
 * second slot of a 64-bit immediate load, or execution falling off the end.
 */
export class VmProgramError extends VmError {
  readonly code = 'VM_PROGRAM';
  constructor(pc: number, readonly reason: string) {
    super(pc, reason);
  }
}

/** A host-side mistake with the address space (region too large, unknown region). */
export class VmMapError extends VmError {
  readonly code = 'VM_MAP';
  constructor(reason: string, options?: ErrorOptions) {
    super(-1, reason, options);
  }
}

/** An invalid VM option (a budget that is not a positive integer, for example). */
export class VmConfigError extends VmError {
  readonly code = 'VM_CONFIG';
  constructor(reason: string) {
    super(-1, reason);
  }
}

/** Raised by helpers to reject a call with a message (wrapped in VmHelperError with the pc). */
export class HelperArgumentError extends BpfkitError {
  readonly code = 'VM_HELPER_ARGUMENT';
}
