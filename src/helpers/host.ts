import type { ProgramType } from '../elf/index.js';
import type { ProgramRef, RingBufMap, VmMap } from '../maps/index.js';
import type { SkbContext, XdpContext } from '../progtypes/index.js';
import type { HostEnv } from './env.js';

/** What one run of a program has that helpers act on; the runtime resets it before each run. */
export interface RunState {
  /** The program type being run (redirect and the packet helpers depend on it). */
  programType: ProgramType;
  xdp: XdpContext | undefined;
  skb: SkbContext | undefined;
  /** Set by bpf_tail_call; the runtime then runs this program with the same context. */
  tailCall: ProgramRef | undefined;
  /** Tail calls taken so far in this run (the kernel stops at 33). */
  tailCalls: number;
  /** Target of bpf_redirect / bpf_redirect_map. */
  redirect: { readonly ifindex: number; readonly flags: number } | undefined;
  /** bpf_trace_printk and friends: one message per call. */
  readonly trace: string[];
}

/** What helpers need from the runtime. */
export interface HelperHost {
  readonly env: HostEnv;
  readonly state: RunState;
  /** The map whose pointer (descriptor address) is `addr`. */
  mapAt(addr: number): VmMap | undefined;
  /** Ring buffers (bpf_ringbuf_submit gets only the sample's address). */
  readonly ringbufs: readonly RingBufMap[];
}

/** A fresh run state. */
export function newRunState(programType: ProgramType): RunState {
  return { programType, xdp: undefined, skb: undefined, tailCall: undefined, tailCalls: 0, redirect: undefined, trace: [] };
}

/** Linux's MAX_TAIL_CALL_CNT. */
export const MAX_TAIL_CALL_CNT = 33;
