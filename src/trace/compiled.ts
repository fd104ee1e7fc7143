/**
 * What the compiler hands to a backend (kernel or VM): plain data, the same
 * for a given script and system description, with no open objects.
 */
import type { Insn } from '../isa/index.js';
import type { Loc } from './errors.js';
import type { FormatPart } from './printf-format.js';
import type { ProbeSpec } from './probes.js';
import type { ProgType } from '../kernel/constants.js';
import type { TType } from './types.js';

/** One print(@map, top, div) call. */
export interface MapPrint {
  readonly map: number;
  readonly top: number;
  readonly div: number;
}

export interface TraceMap {
  /** "@name", or "@" for the anonymous map. */
  readonly name: string;
  /** Key element types; empty for a scalar map (stored under an 8-byte zero key). */
  readonly keys: readonly TType[];
  readonly value: TType;
  /** Bytes of the kernel key: the keys laid out 8-aligned, plus 8 for hist/lhist buckets. */
  readonly keySize: number;
  readonly valueSize: number;
  /**
   * One value per CPU (BPF_MAP_TYPE_PERCPU_HASH), as bpftrace keeps its
   * additive aggregations: probes add without atomics or shared cache
   * lines, and user space sums the CPUs' values. Only for count, sum, hist
   * and lhist maps that no probe reads back (a probe would see one CPU's share).
   */
  readonly perCpu: boolean;
}

/** Reserved map slots after the script's maps. */
export interface InternalMaps {
  /** Index (in `maps` + internal numbering) of the ring buffer carrying events. */
  readonly ringbuf: number;
  /**
   * The stack trace maps, one per distinct (mode, depth) the script uses, as
   * bpftrace 0.17 has them: the kernel hashes only the first `limit` frames
   * of a stack, so stacks that differ below frame N share kstack(N)'s id.
   * kstack and ustack of the same mode and depth share a map.
   */
  readonly stacks: readonly StackMapSpec[];
  /**
   * Index of a one-entry array map that exit() sets and every probe but END
   * checks first, when the script calls exit(): nothing fires after exit()
   * even while user space is busy, as bpftrace behaves when it keeps up.
   */
  readonly exitFlag: number | undefined;
  /**
   * Index of a one-entry per-CPU array holding a join() record (tag, count,
   * then JOIN_ARGS slots of JOIN_ARG_SIZE bytes): too large for the stack.
   */
  readonly join: number | undefined;
}

export interface StackMapSpec {
  /** Map index (in the programs' numbering; see TraceProgram.insns). */
  readonly index: number;
  /** Frames kept per stack (the map's value is limit * 8 bytes). */
  readonly limit: number;
  readonly mode: StackMode;
}

export type StackMode = 'bpftrace' | 'perf';

/** Frames kstack and ustack keep when no depth is given (bpftrace's). */
export const DEFAULT_STACK_DEPTH = 127;

/** join() reads at most this many array elements, each up to this many bytes (bpftrace 0.17's limits). */
export const JOIN_ARGS = 16;
export const JOIN_ARG_SIZE = 1024;
export const JOIN_RECORD_SIZE = 16 + JOIN_ARGS * JOIN_ARG_SIZE;

export interface TraceProgram {
  /** Attach points sharing this program. */
  readonly probes: readonly ProbeSpec[];
  readonly progType: ProgType;
  /**
   * Instructions; `lddw` with pseudo 'map_fd' carries the map's index
   * (script maps first, then the ring buffer, then the internal maps) to be
   * replaced by a real fd when loaded.
   */
  readonly insns: readonly Insn[];
  /** Script span each instruction slot came from. */
  readonly slotLocs: readonly (Loc | undefined)[];
  /** First slots of the subprograms after the main one (for loop bodies, called back by bpf_for_each_map_elem). */
  readonly functions: readonly number[];
  /** Short program name for the kernel. */
  readonly name: string;
  /** fentry/fexit: the traced function's BTF id in vmlinux and BPF_TRACE_FENTRY (24) or BPF_TRACE_FEXIT (25). */
  readonly attach?: { readonly btfId: number; readonly expectedAttachType: number };
}

export type EventKind = 'printf' | 'exit' | 'print_map' | 'clear' | 'zero' | 'time' | 'print_value' | 'system' | 'cat' | 'join';

export interface PrintfSpec {
  readonly parts: readonly FormatPart[];
  readonly argTypes: readonly TType[];
  /** Byte offset of each argument in the record (after the 8-byte tag). */
  readonly offsets: readonly number[];
}

/** Event records start with a u64 tag: kind number << 32 | index. */
export const EVENT_KIND: Record<EventKind, number> = {
  printf: 1, exit: 2, print_map: 3, clear: 4, zero: 5, time: 6, print_value: 7, system: 8, cat: 9, join: 10,
};

export interface CompiledScript {
  readonly maps: readonly TraceMap[];
  readonly internal: InternalMaps;
  readonly programs: readonly TraceProgram[];
  /** printf, system and cat formats by index. */
  readonly formats: readonly PrintfSpec[];
  /** join() separators by index (the join event's index). */
  readonly joinSeparators: readonly string[];
  /** time() formats by index. */
  readonly timeFormats: readonly string[];
  /** print(value) types by index. */
  readonly printValues: readonly TType[];
  /** print(@map, top, div) calls by index (the print_map event's index): top 0 prints all, div 1 leaves values alone. */
  readonly mapPrints: readonly MapPrint[];
  /** Compile-time warnings, printed to stderr as bpftrace does. */
  readonly warnings: readonly { readonly message: string; readonly loc: Loc }[];
  /** Probe names by id (the `probe` builtin's value). */
  readonly probeNames: readonly string[];
  /** Number of attach points, as "Attaching N probes..." counts them. */
  readonly attachCount: number;
}
