/**
 * The real verifier as an oracle for the verifier's differential tests, on
 * the project's one bpf(2) bridge (src/kernel): it creates the maps a case
 * names, loads the program and returns the kernel's verdict, log, and its
 * own "verification time" figure (log level 4, BPF_LOG_STATS; used by
 * bench/verifier.ts).
 */
import { encode, type Insn } from '../../src/isa/index.js';
import {
  bpfUnusableReason, createMap, loadProgram, possibleCpus as kernelPossibleCpus, SyscallError, VerifierError,
  type BpfMap,
} from '../../src/kernel/index.js';
import type { MapInfo, ProgType } from '../../src/verifier/index.js';

/** Why the kernel cannot be used here, or '' when it can. */
export function kernelUnusableReason(): string {
  return bpfUnusableReason() ?? '';
}

export interface KernelVerdict {
  readonly accepted: boolean;
  readonly errno: number;
  readonly log: string;
  /** The kernel's "verification time N usec", when the log has it. */
  readonly verifyUsec?: number;
  /** Wall time of the BPF_PROG_LOAD calls, in microseconds. */
  readonly loadUsec: number;
}

const timeOf = (log: string): number | undefined => {
  const m = /verification time (\d+) usec/.exec(log);
  return m ? Number(m[1]) : undefined;
};

/**
 * Load `insns` as a program of `progType`. Map references are `lddw map_fd`
 * (or map_value) whose imm is an index into `maps`; they are rewritten to
 * the fds of maps created for this load and closed after it.
 */
export function kernelVerify(insns: readonly Insn[], progType: ProgType, maps: readonly MapInfo[] = [], logLevel: 1 | 2 | 4 = 1): KernelVerdict {
  const created: BpfMap[] = [];
  try {
    for (const m of maps) {
      created.push(createMap({ type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, name: m.name?.slice(0, 15) }));
    }
    const patched = insns.map((i) => {
      if (i.kind !== 'lddw' || (i.pseudo !== 'map_fd' && i.pseudo !== 'map_value')) return i;
      const idx = Number(i.imm & 0xffffffffn);
      return idx < created.length ? { ...i, imm: (i.imm & ~0xffffffffn) | BigInt(created[idx].fd) } : i;
    });
    const bytes = encode(patched);
    const t0 = performance.now();
    try {
      // Level 4 (BPF_LOG_STATS: statistics and "verification time" only) is
      // not in ProgramLoadOptions' type yet; the kernel takes it as any level.
      const prog = loadProgram({ type: progType, insns: bytes, logLevel: logLevel as 1 | 2, logSize: 1 << 20 });
      const loadUsec = (performance.now() - t0) * 1000;
      const log = prog.log ?? '';
      prog.close();
      return { accepted: true, errno: 0, log, verifyUsec: timeOf(log), loadUsec };
    } catch (e) {
      const loadUsec = (performance.now() - t0) * 1000;
      if (e instanceof VerifierError) return { accepted: false, errno: e.errno, log: e.log, verifyUsec: timeOf(e.log), loadUsec };
      // Refused before the verifier logged anything (e.g. E2BIG for too many insns).
      if (e instanceof SyscallError) return { accepted: false, errno: e.errno, log: '', loadUsec };
      throw e;
    }
  } finally {
    for (const m of created) m.close();
  }
}

/** The kernel's nr_cpu_ids: the highest possible CPU plus one. */
export function possibleCpus(): number {
  try {
    return kernelPossibleCpus();
  } catch {
    return 1;
  }
}
