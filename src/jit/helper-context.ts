import { HelperArgumentError, type Access } from '../vm/errors.js';
import { callbackSlot, type ArgIndex, type CallbackRunner, type HelperContext } from '../vm/helpers.js';
import type { AddressSpace } from '../vm/memory.js';
import { SCR_ARG } from './layout.js';

/**
 * The HelperContext of JIT-compiled code: the module stores r1..r5 in
 * scratch words before calling the host, so arguments are read from memory
 * (no BigInt crosses the boundary unless the helper asks for one).
 */
export class JitHelperContext implements HelperContext {
  pc = 0;
  id = 0;
  halted = false;

  constructor(readonly space: AddressSpace, private readonly runCallback: CallbackRunner) {}

  callFunction(fn: number | bigint, args: readonly (number | bigint)[]): bigint {
    return this.runCallback(callbackSlot(fn), args);
  }

  arg(n: ArgIndex): bigint {
    return this.space.view.getBigUint64(SCR_ARG + 8 * n, true);
  }

  argU32(n: ArgIndex): number {
    return this.space.view.getUint32(SCR_ARG + 8 * n, true);
  }

  argI32(n: ArgIndex): number {
    return this.space.view.getInt32(SCR_ARG + 8 * n, true);
  }

  argNumber(n: ArgIndex): number {
    const v = this.space.view;
    const h = v.getUint32(SCR_ARG + 8 * n + 4, true);
    if (h >= 0x200000) throw new HelperArgumentError(`argument r${n} (0x${this.arg(n).toString(16)}) is too large`);
    return h * 4294967296 + v.getUint32(SCR_ARG + 8 * n, true);
  }

  argAddr(n: ArgIndex, size: number, access: Access): number {
    const v = this.space.view;
    if (v.getUint32(SCR_ARG + 8 * n + 4, true) !== 0) throw this.space.fault(this.pc, access, this.arg(n), size);
    return this.space.check(v.getUint32(SCR_ARG + 8 * n, true), size, access, this.pc);
  }

  halt(): void {
    this.halted = true;
  }
}
