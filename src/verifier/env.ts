/**
 * The verification environment shared by the checks: the program, options,
 * map table, log, id generator and the bookkeeping the kernel keeps in
 * bpf_verifier_env (scratched registers for the log, stack depths).
 */
import type { Program } from './cfg.js';
import { Reject } from './errors.js';
import type { VerifierLog } from './log.js';
import { NOT_INIT, type RegState } from './reg-state.js';
import type { VState } from './state.js';
import type { MapInfo, ProgType } from './types.js';

export interface Env {
  readonly prog: Program;
  readonly progType: ProgType;
  readonly maps: readonly MapInfo[];
  readonly log: VerifierLog;
  /** Current instruction (slot index). */
  insnIdx: number;
  idGen: number;
  /** Registers and stack slots of the current frame touched since the last state print. */
  scratchedRegs: number;
  scratchedSlots: bigint;
  /** Deepest stack offset used by each subprogram. */
  readonly stackDepth: number[];
  readonly nrCpus: number;
  readonly btfFuncInfo: boolean;
}

export const newId = (env: Env): number => ++env.idGen;

export function reject(env: Env, message: string, hint?: string): never {
  throw new Reject(env.insnIdx, message, hint);
}

export function markScratched(env: Env, regno: number): void {
  env.scratchedRegs |= 1 << regno;
}

export function markSlotScratched(env: Env, spi: number): void {
  env.scratchedSlots |= 1n << BigInt(spi);
}

export function regs(s: VState): RegState[] {
  return s.frames[s.frames.length - 1].regs;
}

/** check_reg_arg(SRC_OP): the register must have been written. */
export function checkRegRead(env: Env, s: VState, regno: number): RegState {
  markScratched(env, regno);
  const r = regs(s)[regno];
  if (r.type === 'not_init') reject(env, `R${regno} !read_ok`, `R${regno} is read before anything was written to it`);
  return r;
}

/** check_reg_arg(DST_OP): the frame pointer cannot be written. */
export function checkRegWrite(env: Env, regno: number): void {
  markScratched(env, regno);
  if (regno === 10) reject(env, 'frame pointer is read only');
}

export function setReg(env: Env, s: VState, regno: number, r: RegState): void {
  markScratched(env, regno);
  regs(s)[regno] = r;
}

export function clearCallerSaved(env: Env, s: VState): void {
  for (let i = 0; i <= 5; i++) setReg(env, s, i, NOT_INIT);
}

export function findMap(env: Env, fd: number): MapInfo | undefined {
  const byFd = env.maps.find((m) => m.fd === fd);
  if (byFd) return byFd;
  const m = env.maps[fd];
  return m && m.fd === undefined ? m : undefined;
}
