import { HelperArgumentError, type Access } from './errors.js';
import type { AddressSpace } from './memory.js';
import { toBigUint } from './int64.js';

/** Argument registers r1..r5. */
export type ArgIndex = 1 | 2 | 3 | 4 | 5;

/**
 * What a helper sees of the machine during one call. One object per VM is
 * reused for every call (no allocation per call), so a helper must not keep
 * it after returning.
 */
export interface HelperContext {
  /** The program's address space: map regions, read and write its memory. */
  readonly space: AddressSpace;
  /** Slot index of the call instruction. */
  readonly pc: number;
  /** Helper id being called. */
  readonly id: number;
  /** Argument as an unsigned 64-bit value. */
  arg(n: ArgIndex): bigint;
  /** Low 32 bits of an argument, unsigned. */
  argU32(n: ArgIndex): number;
  /** Low 32 bits of an argument, signed. */
  argI32(n: ArgIndex): number;
  /**
   * Argument as a non-negative integer number; throws HelperArgumentError when
   * it is above 2^53 (use `arg` for full 64-bit values).
   */
  argNumber(n: ArgIndex): number;
  /**
   * Argument used as a pointer to `size` bytes: checks that the range lies in
   * one mapped region (writable for 'write') and returns the address, an
   * index into `space.bytes`. Throws VmMemoryError naming the call's pc.
   */
  argAddr(n: ArgIndex, size: number, access: Access): number;
  /** End the program when this helper returns; r0 is the helper's return value. */
  halt(): void;
  /**
   * Call a function of the program (a callback: the value an lddw pseudo
   * 'func' loaded, i.e. the function's entry slot) with r1..r5 = args, in
   * a new frame one deeper than the caller's, and return its r0. Its
   * instructions count against the run's budget. Read every argument of
   * the helper before calling: the callback's own helper calls reuse the
   * argument words. Throws HelperArgumentError for a value that names no
   * callback of the program, VmCallDepthError past MAX_FRAMES.
   */
  callFunction(fn: number | bigint, args: readonly (number | bigint)[]): bigint;
}

/** Runs a callback for a HelperContext (each engine has one). */
export type CallbackRunner = (fn: number, args: readonly (number | bigint)[]) => bigint;

/** The entry slot a callback value names, or throws (a value too large for any program). */
export function callbackSlot(fn: number | bigint): number {
  const v = typeof fn === 'bigint' ? fn : BigInt(Math.trunc(fn));
  if (v < 0n || v > 0x7fffffffn) throw new HelperArgumentError(`0x${BigInt.asUintN(64, v).toString(16)} is not a function of the program`);
  return Number(v);
}

/**
 * A helper function. The ABI: arguments are in r1..r5 (read them through the
 * context), the return value becomes r0: a number is an integer taken as
 * signed and sign-extended to 64 bits; a bigint is taken mod 2^64. r1..r5 are
 * clobbered by the call as on Linux (they keep their values here, which a
 * verified program cannot observe). Helpers report bad arguments by throwing
 * BpfkitError subclasses (HelperArgumentError, VmMemoryError from argAddr);
 * the VM wraps them in VmHelperError with the call's pc.
 */
export type Helper = (ctx: HelperContext) => number | bigint;

/** Helpers by id (a Map, or a plain object or array keyed by id). */
export type HelperTable = ReadonlyMap<number, Helper> | { readonly [id: number]: Helper | undefined };

/** Look a helper up in any form of table. */
export function findHelper(table: HelperTable | undefined, id: number): Helper | undefined {
  if (table === undefined) return undefined;
  if (table instanceof Map) return (table as ReadonlyMap<number, Helper>).get(id);
  const h = (table as { readonly [id: number]: Helper | undefined })[id];
  return typeof h === 'function' ? h : undefined;
}

/** The reusable context object behind HelperContext (internal to the VM). */
export class HelperCall implements HelperContext {
  pc = 0;
  id = 0;
  halted = false;
  /** Set by the interpreter's machine. */
  runCallback: CallbackRunner | undefined;
  constructor(
    readonly space: AddressSpace,
    private readonly lo: Int32Array,
    private readonly hi: Int32Array,
  ) {}

  callFunction(fn: number | bigint, args: readonly (number | bigint)[]): bigint {
    return this.runCallback!(callbackSlot(fn), args);
  }

  arg(n: ArgIndex): bigint {
    return toBigUint(this.lo[n], this.hi[n]);
  }

  argU32(n: ArgIndex): number {
    return this.lo[n] >>> 0;
  }

  argI32(n: ArgIndex): number {
    return this.lo[n] | 0;
  }

  argNumber(n: ArgIndex): number {
    const h = this.hi[n] >>> 0;
    if (h >= 0x200000) throw new HelperArgumentError(`argument r${n} (0x${this.arg(n).toString(16)}) is too large`);
    return h * 4294967296 + (this.lo[n] >>> 0);
  }

  argAddr(n: ArgIndex, size: number, access: Access): number {
    const h = this.hi[n];
    const a = this.lo[n] >>> 0;
    if (h !== 0) throw this.space.fault(this.pc, access, this.arg(n), size);
    return this.space.check(a, size, access, this.pc);
  }

  halt(): void {
    this.halted = true;
  }
}
