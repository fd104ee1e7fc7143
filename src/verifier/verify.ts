/**
 * The driver (the kernel's do_check): walks every path of the program with
 * abstract register states, one instruction at a time, pushing the other
 * side of each undecided branch, pruning paths equivalent to ones already
 * verified, and writing the kernel's log as it goes.
 */
import { formatInsn } from '../asm/index.js';
import type { Insn } from '../isa/index.js';
import { knownScalar } from './bounds.js';
import { analyzeProgram, subprogOf, type Program } from './cfg.js';
import { checkAlu } from './check-alu.js';
import { MAX_CALL_FRAMES, checkHelperCall, checkLocalCall, checkLocalExit } from './check-call.js';
import { checkCondJmp } from './check-jmp.js';
import { checkMemInsn } from './check-mem.js';
import { mayLdAbs, returnRange } from './ctx-access.js';
import { HELPERS, familyAllows } from './helpers.js';
import { checkRegRead, clearCallerSaved, reject, setReg, type Env } from './env.js';
import { Reject, VerifierError, VerifierInputError } from './errors.js';
import { VerifierLog, frameStr, stateStr } from './log.js';
import { FactsRecorder } from './facts.js';
import { statesEqual } from './prune.js';
import { regTypeStr, unknownReg } from './reg-state.js';
import { cloneState, curFrame, newFrame, type Checkpoint, type VState } from './state.js';
import type { VerifierIssue, VerifyOptions, VerifyResult, VerifyStats } from './types.js';

export const COMPLEXITY_LIMIT_INSNS = 1_000_000;
/** Above this many stored states at one instruction no more are added (BPF_COMPLEXITY_LIMIT_STATES). */
const STATES_PER_INSN_LIMIT = 64;

interface Pending {
  readonly state: VState;
  readonly insn: number;
  readonly prevInsn: number;
  readonly logPos: number;
}

class Checker {
  readonly env: Env;
  readonly log: VerifierLog;
  readonly explored = new Map<number, Checkpoint[]>();
  readonly stack: Pending[] = [];
  readonly states = new Map<number, string>();
  processed = 0;
  jmpsProcessed = 0;
  prevJmpsProcessed = 0;
  prevInsnProcessed = 0;
  totalStates = 0;
  liveStates = 0;
  peakStates = 0;
  maxStatesPerInsn = 0;
  readonly limit: number;
  /** Per-instruction facts for engines, when asked for (VerifyOptions.facts). */
  readonly facts: FactsRecorder | undefined;

  constructor(readonly prog: Program, readonly opts: VerifyOptions) {
    this.log = new VerifierLog(opts.logLevel ?? 0);
    this.limit = opts.insnLimit ?? COMPLEXITY_LIMIT_INSNS;
    this.facts = opts.facts ? new FactsRecorder(prog.atSlot.length) : undefined;
    this.env = {
      prog, progType: opts.progType, maps: opts.maps ?? [], log: this.log, insnIdx: 0, idGen: 0,
      scratchedRegs: 0, scratchedSlots: 0n, stackDepth: prog.subprogs.map(() => 0), nrCpus: opts.nrCpus ?? 1, btfFuncInfo: opts.btfFuncInfo ?? false,
    };
  }

  private scratchAll(): void {
    this.env.scratchedRegs = 0x7ff;
    this.env.scratchedSlots = (1n << 64n) - 1n;
  }

  /** print_insn_state: the registers touched by the last instruction, after `;` or on their own line. */
  private printInsnState(s: VState): void {
    const log = this.log;
    if (log.prevLogPos && log.prevLogPos === log.pos) {
      log.reset(log.prevLogPos - 1);
      log.write(`${log.alignment()};`);
    } else {
      log.write(`${this.env.insnIdx}:`);
    }
    log.write(`${stateStr(s, s.frames.length - 1, this.env.scratchedRegs, this.env.scratchedSlots)}\n`);
    this.env.scratchedRegs = 0;
    this.env.scratchedSlots = 0n;
  }

  private printFull(s: VState, frame: number): void {
    this.log.write(`${frameStr(s.frames[frame], 'all', 'all', s.refs)}\n`);
  }

  /** Path finished (exit or pruned): release the checkpoints it kept alive. */
  private updateBranchCounts(s: VState): void {
    let cp = s.parent;
    while (cp) {
      cp.branches--;
      if (cp.branches > 0) break;
      cp = cp.parent;
    }
  }

  /** is_state_visited: 'prune' when an explored state covers s. */
  private isStateVisited(s: VState, idx: number): boolean {
    const list = this.explored.get(idx) ?? [];
    const at = this.prog.atSlot[idx];
    const mayGoto = at?.kind === 'may_goto';
    const callsBack = at?.kind === 'call' && HELPERS.get(at.helper)?.callback !== undefined;
    let addNew = mayGoto || callsBack || (this.jmpsProcessed - this.prevJmpsProcessed >= 2 && this.processed - this.prevInsnProcessed >= 8);
    let statesCnt = 0;
    for (let k = 0; k < list.length; k++) {
      const cp = list[k];
      statesCnt++;
      if (cp.branches > 0) {
        // A may_goto loop whose body converged: the runtime counter bounds the rest.
        if (mayGoto && cp.state.mayGotoDepth !== s.mayGotoDepth && statesEqual(this.prog, cp.state, s, idx, false)) {
          cp.hits++;
          return true;
        }
        // Another callback iteration that adds nothing new: the loop converged.
        if (callsBack) {
          if (cp.state.callbackDepth !== s.callbackDepth && statesEqual(this.prog, cp.state, s, idx, false)) { cp.hits++; return true; }
          continue;
        }
        if (statesEqual(this.prog, cp.state, s, idx, true)) {
          const f = s.frames.length - 1;
          throw new Reject(idx, `infinite loop detected at insn ${idx}\ncur state:${frameStr(s.frames[f], 'all', 'all', s.refs)}\nold state:${frameStr(cp.state.frames[f], 'all', 'all', cp.state.refs)}`, 'the loop can run forever: make its exit condition depend on a counter the verifier can bound', 'EINVAL');
        }
        // Inside a loop, record states only now and then: iterations rarely help each other.
        if (!mayGoto && this.jmpsProcessed - this.prevJmpsProcessed < 20 && this.processed - this.prevInsnProcessed < 100) addNew = false;
      } else if (statesEqual(this.prog, cp.state, s, idx, false)) {
        cp.hits++;
        return true;
      }
      // Evict states that keep missing (the kernel's miss_cnt heuristic).
      if (addNew) cp.misses++;
      const n = mayGoto && cp.branches > 0 ? 64 : 3;
      if (cp.misses > cp.hits * n + n) {
        list.splice(k, 1);
        k--;
        this.liveStates--;
      }
    }
    this.maxStatesPerInsn = Math.max(this.maxStatesPerInsn, statesCnt);
    if (statesCnt > STATES_PER_INSN_LIMIT || !addNew) return false;
    this.prevJmpsProcessed = this.jmpsProcessed;
    this.prevInsnProcessed = this.processed;
    const cp: Checkpoint = { state: cloneState(s), insn: idx, branches: 1, parent: s.parent, hits: 0, misses: 0 };
    s.parent = cp;
    list.push(cp);
    this.explored.set(idx, list);
    this.totalStates++;
    this.liveStates++;
    this.peakStates = Math.max(this.peakStates, this.liveStates);
    return false;
  }

  private pushBranch(state: VState, insn: number, prevInsn: number): void {
    if (state.parent) state.parent.branches++;
    this.stack.push({ state, insn, prevInsn, logPos: this.log.pos });
    if (this.stack.length > 8192) reject(this.env, `The sequence of ${this.stack.length} jumps is too complex.`);
  }

  private checkExit(s: VState): void {
    const env = this.env;
    if (s.refs.length) {
      const r = s.refs[0];
      reject(env, `Unreleased reference id=${r.id} alloc_insn=${r.insn}\nBPF_EXIT instruction in main prog would lead to reference leak`, 'submit or discard every ring buffer reservation on every path');
    }
    const r0 = checkRegRead(env, s, 0);
    const range = returnRange(env.progType);
    if (!range) return;
    if (r0.type !== 'scalar') throw new Reject(env.insnIdx, `At program exit the register R0 is not a known value (${regTypeStr(r0)})`, undefined, 'EINVAL');
    const [lo, hi] = range;
    if (r0.v.smin < BigInt(lo) || r0.v.smax > BigInt(hi)) {
      let msg = 'At program exit the register R0 has';
      let unknown = true;
      if (r0.v.smin > -(1n << 63n)) { msg += ` smin=${r0.v.smin}`; unknown = false; }
      if (r0.v.smax < (1n << 63n) - 1n) { msg += ` smax=${r0.v.smax}`; unknown = false; }
      if (unknown) msg += ' unknown scalar value';
      throw new Reject(env.insnIdx, `${msg} should have been in [${lo}, ${hi}]`, `return a value in [${lo}, ${hi}]`, 'EINVAL');
    }
  }

  /** Execute the instruction at idx; returns the next slot, or -1 when the path ended. */
  private step(s: VState, idx: number, insn: Insn): number {
    const env = this.env;
    if (this.facts) this.facts.record(idx, insn, curFrame(s).regs);
    switch (insn.kind) {
      case 'alu': case 'neg': case 'endian': case 'movsx': case 'lddw':
        checkAlu(env, s, insn);
        return idx + (insn.kind === 'lddw' ? 2 : 1);
      case 'ldx': case 'st': case 'stx': case 'atomic':
        checkMemInsn(env, s, insn);
        return idx + 1;
      case 'ldabs': case 'ldind': {
        if (!mayLdAbs(env.progType)) throw new Reject(idx, 'BPF_LD_[ABS|IND] instructions not allowed for this program type', undefined, 'EINVAL');
        const r6 = checkRegRead(env, s, 6);
        if (r6.type !== 'ctx') throw new Reject(idx, 'at the time of BPF_LD_ABS|IND R6 != pointer to skb', undefined, 'EINVAL');
        if (insn.kind === 'ldind') checkRegRead(env, s, insn.src);
        clearCallerSaved(env, s);
        setReg(env, s, 0, unknownReg());
        return idx + 1;
      }
      case 'jmp': {
        this.jmpsProcessed++;
        const out = checkCondJmp(env, s, insn);
        const target = idx + insn.off + 1;
        if (out.kind === 'jump') return target;
        if (out.kind === 'both') {
          this.pushBranch(out.other, target, idx);
          if (this.log.level) this.printInsnState(s);
        }
        return idx + 1;
      }
      case 'ja':
        this.jmpsProcessed++;
        return idx + insn.off + 1;
      case 'may_goto': {
        // The loop body continues with a deeper may_goto count; the current path leaves the loop.
        this.jmpsProcessed++;
        const body = cloneState(s);
        body.mayGotoDepth++;
        this.pushBranch(body, idx + 1, idx);
        return idx + insn.off + 1;
      }
      case 'call': {
        this.jmpsProcessed++;
        const cb = checkHelperCall(env, s, insn.helper);
        if (cb) this.pushBranch(cb, this.prog.subprogs[curFrame(cb).subprog], idx);
        return idx + 1;
      }
      case 'call_local': {
        this.jmpsProcessed++;
        const target = idx + insn.off + 1;
        checkLocalCall(env, s, target, subprogOf(this.prog.subprogs, target));
        this.scratchAll();
        if (this.log.level) {
          this.log.write('caller:\n');
          this.printFull(s, s.frames.length - 2);
          this.log.write('callee:\n');
          this.printFull(s, s.frames.length - 1);
        }
        return target;
      }
      case 'call_kfunc':
        throw new Reject(idx, 'calling kernel functions is not supported by bpfkit\'s verifier yet', undefined, 'EINVAL');
      case 'callx':
        throw new Reject(idx, `unknown opcode 8d`, undefined, 'EINVAL');
      case 'exit': {
        this.jmpsProcessed++;
        if (s.frames.length > 1) {
          const calleeText = this.log.level ? frameStr(curFrame(s), 'all', 'all', s.refs) : '';
          const ret = checkLocalExit(env, s);
          if (this.log.level) {
            this.log.write(`returning from callee:\n${calleeText}\n`);
            this.log.write(`to caller at ${ret}:\n`);
            this.printFull(s, s.frames.length - 1);
          }
          env.scratchedRegs = 0;
          env.scratchedSlots = 0n;
          return ret;
        }
        this.checkExit(s);
        return -1;
      }
    }
  }

  run(): void {
    const env = this.env;
    const log = this.log;
    let s: VState = { frames: [newFrame(0, -1, 0)], refs: [], parent: null, mayGotoDepth: 0, callbackDepth: 0 };
    const f0 = curFrame(s);
    f0.regs[1] = { type: 'ctx', off: 0, v: knownScalar(0n), id: 0 };
    f0.regs[10] = { type: 'fp', off: 0, v: knownScalar(0n), id: 0, frameno: 0 };
    let idx = 0;
    let prevIdx = 0;
    let doPrintState = false;
    this.scratchAll();
    for (;;) {
      env.insnIdx = idx;
      if (++this.processed > this.limit) {
        throw new Reject(idx, `BPF program is too large. Processed ${this.processed} insn`, 'the verifier explored too many paths: bound loops more tightly or split the program', 'E2BIG');
      }
      let ended = false;
      if (log.level && !doPrintState && (env.scratchedRegs || env.scratchedSlots)) this.printInsnState(s);
      if (this.prog.prunePoints.has(idx) && this.isStateVisited(s, idx)) {
        if (log.level) log.write(doPrintState ? `\nfrom ${prevIdx} to ${idx}: safe\n` : `${idx}: safe\n`);
        ended = true;
      } else {
        const insn = this.prog.atSlot[idx];
        if (!insn) throw new Reject(idx, `jump into the middle of ldimm64 insn ${idx - 1}`, undefined, 'EINVAL');
        if (log.level === 2 && doPrintState) {
          log.write(`\nfrom ${prevIdx} to ${idx}:`);
          this.printFull(s, s.frames.length - 1);
          doPrintState = false;
        }
        if (log.level) {
          if (env.scratchedRegs || env.scratchedSlots) this.printInsnState(s);
          log.prevLogPos = log.pos;
          log.write(`${idx}: ${formatInsn(insn, 'kernel')}\n`);
          log.prevInsnPrintPos = log.pos - log.prevLogPos;
          log.prevLogPos = log.pos;
        }
        if (log.level === 2) this.states.set(idx, frameStr(curFrame(s), 'all', 'all', s.refs).trim());
        const next = this.step(s, idx, insn);
        if (next < 0) ended = true;
        else { prevIdx = idx; idx = next; }
      }
      if (!ended) continue;
      this.scratchAll();
      this.updateBranchCounts(s);
      const p = this.stack.pop();
      if (!p) break;
      if (log.level === 1) log.reset(p.logPos);
      s = p.state;
      idx = p.insn;
      prevIdx = p.prevInsn;
      doPrintState = true;
    }
  }

  /** check_max_stack_depth: the deepest chain of frames must fit 512 bytes in total. */
  /** Returns the deepest call chain's stack use in bytes. */
  checkStackDepth(): number {
    let deepest = 0;
    const prog = this.prog;
    const round = (d: number): number => Math.ceil(Math.max(d, 1) / 16) * 16;
    const calls = prog.subprogs.map(() => [] as number[]);
    prog.atSlot.forEach((i, t) => {
      if (i?.kind === 'call_local') calls[subprogOf(prog.subprogs, t)].push(subprogOf(prog.subprogs, t + i.off + 1));
      if (i?.kind === 'lddw' && i.pseudo === 'func') calls[subprogOf(prog.subprogs, t)].push(subprogOf(prog.subprogs, t + Number(BigInt.asIntN(32, i.imm)) + 1));
    });
    const walk = (sp: number, frames: number, depth: number, seen: Set<number>): void => {
      const d = depth + round(this.env.stackDepth[sp]);
      if (frames > MAX_CALL_FRAMES) throw new Reject(prog.subprogs[sp], `the call stack of ${frames} frames is too deep !`, undefined, 'E2BIG');
      if (d > 512) throw new Reject(prog.subprogs[sp], `combined stack size of ${frames} calls is ${d}. Too large`, undefined, 'EACCES');
      if (d > deepest) deepest = d;
      for (const c of calls[sp]) if (!seen.has(c)) walk(c, frames + 1, d, new Set([...seen, c]));
    };
    walk(0, 1, 0, new Set([0]));
    return deepest;
  }

  stats(): VerifyStats {
    return { processed: this.processed, maxStatesPerInsn: this.maxStatesPerInsn, totalStates: this.totalStates, peakStates: this.peakStates };
  }
}

function statsLine(st: VerifyStats, limit: number): string {
  return `processed ${st.processed} insns (limit ${limit}) max_states_per_insn ${st.maxStatesPerInsn} total_states ${st.totalStates} peak_states ${st.peakStates} mark_read 0\n`;
}

/**
 * Verify `program` as the Linux 6.18 verifier does for a privileged loader.
 * Never throws for a bad program: the verdict, log and issues are in the result.
 */
export function verify(program: readonly Insn[], options: VerifyOptions): VerifyResult {
  if (!Array.isArray(program)) throw new VerifierInputError('program must be an array of instructions');
  const level = options.logLevel ?? 0;
  const limit = options.insnLimit ?? COMPLEXITY_LIMIT_INSNS;
  let prog: Program;
  const zero: VerifyStats = { processed: 0, maxStatesPerInsn: 0, totalStates: 0, peakStates: 0 };
  try {
    const arity = (id: number): number => {
      const proto = HELPERS.get(id);
      return proto && familyAllows(proto.family, options.progType) ? proto.args.length : 5;
    };
    prog = analyzeProgram(program, returnRange(options.progType) !== undefined, arity, (at) => resolveLdImm64(at, options));
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    const issue = toIssue(e, program);
    const log = level ? `${level === 2 ? '' : ''}${e.message}\n${statsLine(zero, limit)}` : '';
    return { accepted: false, log, errors: [issue], stats: zero };
  }
  const c = new Checker(prog, options);
  let stackDepth = 0;
  if (level === 2) {
    prog.subprogs.forEach((start, i) => c.log.write(`func#${i} @${start}\n`));
    c.log.write(liveRegsBlock(prog));
  }
  try {
    c.run();
    // At level 1 the kernel drops the log of a fully explored program before its final checks.
    if (level === 1) c.log.reset(0);
    stackDepth = c.checkStackDepth();
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    c.log.write(`${e.message}\n`);
    const st = c.stats();
    c.log.write(statsLine(st, limit));
    return { accepted: false, log: c.log.text(), errors: [toIssue(e, program, prog)], stats: st, ...(level === 2 ? { states: c.states } : {}) };
  }
  if (level === 1) c.log.reset(0);
  const st = c.stats();
  c.log.write(statsLine(st, limit));
  return {
    accepted: true, log: c.log.text(), errors: [], stats: st, ...(level === 2 ? { states: c.states } : {}),
    ...(c.facts ? { facts: c.facts.finish(stackDepth) } : {}),
  };
}

/** The level-2 table of registers live before each instruction, with loop numbers. */
function liveRegsBlock(prog: Program): string {
  let out = 'Live regs before insn:\n';
  prog.atSlot.forEach((insn, t) => {
    if (!insn) return;
    let mask = '';
    for (let r = 0; r < 10; r++) mask += prog.liveIn[t] & (1 << r) ? String(r) : '.';
    const scc = prog.scc[t] ? String(prog.scc[t]).padStart(3) : '   ';
    out += `${scc} ${String(t).padStart(3)}: ${mask} ${formatInsn(insn, 'kernel')}\n`;
  });
  return out;
}

/** resolve_pseudo_ldimm64: every map reference must name a known map; direct value loads need array maps of one entry. */
function resolveLdImm64(atSlot: readonly (Insn | undefined)[], options: VerifyOptions): void {
  const maps = options.maps ?? [];
  atSlot.forEach((i, t) => {
    if (i?.kind !== 'lddw' || i.pseudo === 'imm' || i.pseudo === 'func' || i.pseudo === 'btf_id') return;
    const lo = Number(BigInt.asIntN(32, i.imm));
    const byIdx = i.pseudo === 'map_idx' || i.pseudo === 'map_idx_value';
    const map = byIdx ? maps[lo] : maps.find((m) => m.fd === lo) ?? (maps[lo]?.fd === undefined ? maps[lo] : undefined);
    if (!map) throw new Reject(t, byIdx ? `fd_idx ${lo} is out of bounds` : `fd ${lo} is not pointing to valid bpf_map`, undefined, 'EINVAL');
    if (i.pseudo === 'map_value' || i.pseudo === 'map_idx_value') {
      const off = Number(BigInt.asUintN(32, i.imm >> 32n));
      if (off >= 1 << 29) throw new Reject(t, `direct value offset of ${off} is not allowed`, undefined, 'EINVAL');
      if (map.type !== 'array') throw new Reject(t, 'no direct value access support for this map type', undefined, 'EINVAL');
      if (map.maxEntries !== 1 || off >= map.valueSize) {
        throw new Reject(t, `invalid access to map value pointer, value_size=${map.valueSize} off=${off}`, 'direct value access needs an array map with one entry', 'EINVAL');
      }
    }
  });
}

/** Like verify, but throws VerifierError (with the full log) when the program is refused. */
export function verifyOrThrow(program: readonly Insn[], options: VerifyOptions): VerifyResult {
  const r = verify(program, options);
  if (!r.accepted) throw new VerifierError(r.errors, r.log);
  return r;
}

function toIssue(e: Reject, program: readonly Insn[], prog?: Program): VerifierIssue {
  const at = prog?.atSlot[e.insn] ?? slotInsn(program, e.insn);
  const issue: VerifierIssue = { insn: e.insn, message: e.message.split('\n')[0] };
  return {
    ...issue,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(at ? { line: `${e.insn}: ${formatInsn(at, 'kernel')}` } : {}),
  };
}

function slotInsn(program: readonly Insn[], slot: number): Insn | undefined {
  let pc = 0;
  for (const i of program) {
    if (pc === slot) return i;
    pc += i.kind === 'lddw' ? 2 : 1;
  }
  return undefined;
}

