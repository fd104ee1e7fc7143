import { BpfkitError } from '../errors/index.js';

/** A program calls a helper its program type may not call (the kernel's verifier refuses it too). */
export class HelperNotAllowedError extends BpfkitError {
  readonly code = 'HELPER_NOT_ALLOWED';
  constructor(readonly program: string, readonly programType: string, readonly helper: string, readonly insn: number) {
    super(`program '${program}': insn ${insn}: ${programType} programs may not call ${helper}`);
  }
}

/** A program calls a helper the VM does not implement. */
export class HelperNotImplementedError extends BpfkitError {
  readonly code = 'HELPER_NOT_IMPLEMENTED';
  constructor(readonly program: string, readonly helper: string, readonly insn: number) {
    super(`program '${program}': insn ${insn}: ${helper} is not implemented by the VM`);
  }
}

/** An unknown helper name (a typo in a table). */
export class HelperIdError extends BpfkitError {
  readonly code = 'HELPER_ID';
  constructor(readonly helper: string) {
    super(`no helper named '${helper}' in enum bpf_func_id`);
  }
}
