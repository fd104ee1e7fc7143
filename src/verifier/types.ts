/**
 * The verifier's public vocabulary: program types, the map metadata its
 * caller supplies, options and results.
 */
import type { Insn } from '../isa/index.js';
import type { VerifiedFacts } from './facts.js';

/** Program types the verifier knows the context and return rules of. */
export type ProgType =
  | 'socket_filter' | 'kprobe' | 'sched_cls' | 'sched_act' | 'tracepoint' | 'xdp'
  | 'perf_event' | 'cgroup_skb' | 'raw_tracepoint';

export type MapType =
  | 'hash' | 'array' | 'prog_array' | 'perf_event_array' | 'percpu_hash' | 'percpu_array'
  | 'lru_hash' | 'devmap' | 'ringbuf';

/** What the verifier needs to know about a map an `lddw map_fd/map_idx` names. */
export interface MapInfo {
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** The fd an `lddw map_fd` carries; when absent the map's index in the list is used. */
  readonly fd?: number;
  readonly name?: string;
}

export interface VerifyOptions {
  readonly progType: ProgType;
  readonly maps?: readonly MapInfo[];
  /** 0: no log, 1: the path to the error and statistics, 2: every instruction's state. */
  readonly logLevel?: 0 | 1 | 2;
  /** Processed-instruction budget (the kernel's BPF_COMPLEXITY_LIMIT_INSNS). */
  readonly insnLimit?: number;
  /**
   * The kernel's nr_cpu_ids (possible CPUs): bpf_get_smp_processor_id returns
   * at most nrCpus - 1. Default 1; pass the target machine's count to match it.
   */
  readonly nrCpus?: number;
  /**
   * The program is loaded with BTF function info (clang's .BTF.ext). The kernel
   * refuses callbacks (`lddw` of a function, bpf_loop) without it. bpfkit
   * simulates callbacks the kernel's way, but that path is not yet checked
   * against the kernel in the test suite.
   */
  readonly btfFuncInfo?: boolean;
  /**
   * Collect per-instruction facts an engine may rely on to drop runtime
   * checks (VerifyResult.facts, on acceptance). Costs a little time.
   */
  readonly facts?: boolean;
}

/** One refusal, located at an instruction. */
export interface VerifierIssue {
  readonly insn: number;
  readonly message: string;
  readonly hint?: string;
  /** The kernel-style text of the offending instruction. */
  readonly line?: string;
}

export interface VerifyStats {
  readonly processed: number;
  readonly maxStatesPerInsn: number;
  readonly totalStates: number;
  readonly peakStates: number;
}

export interface VerifyResult {
  readonly accepted: boolean;
  readonly log: string;
  readonly errors: readonly VerifierIssue[];
  readonly stats: VerifyStats;
  /** At log level 2: the register state text seen before each instruction index (last visit). */
  readonly states?: ReadonlyMap<number, string>;
  /** With VerifyOptions.facts, on acceptance: what the proof guarantees per instruction. */
  readonly facts?: VerifiedFacts;
}

export type { Insn };
