/**
 * Code generation: one probe's action block to eBPF instructions.
 *
 * Integers are computed in r0 (64-bit; narrower signed values are kept
 * sign-extended); strings, tuples and other byte values live in 8-aligned,
 * fully initialised stack buffers. r6 keeps the context pointer. Maps are
 * referenced by index through `lddw rX, map_fd idx`, patched at load time.
 * Events for user space (printf, exit, print, time...) are records on a ring
 * buffer starting with a u64 tag (EVENT_KIND << 32 | index).
 */
import * as b from '../isa/build.js';
import type { Insn, JmpCond, Reg } from '../isa/index.js';
import type { Expr, MapExpr, Probe, Stmt } from './ast.js';
import { DEFAULT_STACK_DEPTH, EVENT_KIND, JOIN_ARG_SIZE, JOIN_ARGS, JOIN_RECORD_SIZE, type EventKind, type MapPrint, type PrintfSpec, type StackMapSpec, type TraceMap } from './compiled.js';
import { Emitter, type Label } from './emitter.js';
import { ScriptError, type Loc } from './errors.js';
import { parseFormat } from './printf-format.js';
import { castType, isAggCall, isSigned, STR_DEFAULT, type ProbeContext, type Typer } from './typecheck.js';
import { align8, isMemory, sizeOf, tupleOffsets, U64, type TType } from './types.js';
import { findMember } from './btf-types.js';
import { PT_REGS_OFFSETS } from './registers.js';

const H = {
  map_lookup_elem: 1, map_update_elem: 2, map_delete_elem: 3, probe_read: 4, ktime_get_ns: 5,
  get_prandom_u32: 7, get_smp_processor_id: 8, get_current_pid_tgid: 14, get_current_uid_gid: 15,
  get_current_comm: 16, get_stackid: 27, get_current_task: 35, get_numa_node_id: 42, probe_read_str: 45,
  get_current_cgroup_id: 80, send_signal: 109, for_each_map_elem: 164, probe_read_kernel: 113, jiffies64: 118, ringbuf_output: 130,
} as const;

const STACK_LIMIT = 512;
/** x86-64 struct pt_regs offsets of the argument registers, then ax for return values. */
const PT_REGS_ARGS = [112, 104, 96, 88, 72, 64];
const PT_REGS_RC = 80;
/** bpf_get_stackid's flag for the user-space stack. */
const BPF_F_USER_STACK = 256;

type StackTType = Extract<TType, { kind: 'kstack' | 'ustack' }>;

type Val = { readonly kind: 'reg' } | { readonly kind: 'mem'; readonly off: number; readonly size: number };
const REG: Val = { kind: 'reg' };

/** Shared state across the programs of one script. */
export interface GenShared {
  readonly typer: Typer;
  readonly maps: readonly TraceMap[];
  readonly mapIndex: ReadonlyMap<string, number>;
  readonly ringbuf: number;
  /** Index of the first stack trace map; the others follow in order of first use. */
  readonly firstStackMap: number;
  /** Stack trace maps by (mode, depth), filled as kstack/ustack calls are generated. */
  readonly stacks: StackMapSpec[];
  readonly formats: PrintfSpec[];
  readonly timeFormats: string[];
  readonly printValues: TType[];
  readonly mapPrints: MapPrint[];
  readonly positional: readonly string[];
  readonly startNs: bigint;
  readonly kaddr: (name: string) => bigint | undefined;
  /** Process id of the -c command (`cpid`), when there is one. */
  readonly cpid: number | undefined;
  /** Map index of the exit flag (see InternalMaps.exitFlag), when the script calls exit(). */
  readonly exitFlag: number | undefined;
  /** Map index of join()'s per-CPU record buffer, when the script calls join(). */
  readonly join: number | undefined;
  readonly joinSeparators: string[];
}

/** Does a block contain a for loop (at any depth)? */
function hasFor(ss: readonly Stmt[]): boolean {
  return ss.some((s) => s.kind === 'for' || (s.kind === 'if' && (hasFor(s.then) || hasFor(s.else ?? []))) || ((s.kind === 'unroll' || s.kind === 'while') && hasFor(s.body)));
}

export class ProbeGen {
  private readonly em = new Emitter();
  private sp = 0;
  /** Scratch variables; offsets are from the probe's frame (r10 there), or from this frame's r10 when `local`. */
  private readonly vars = new Map<string, { type: TType; off: number; local?: boolean }>();
  private loops: { brk: Label; cont: Label }[] = [];
  private done: Label;
  /**
   * Where scratch variables live: r10 in the probe's own frame; in a for
   * loop's callback, r9 holds the callback context, a pointer to the probe
   * frame's variable area, so a variable is at r9 + off + varDelta.
   */
  private varReg: Reg = 10;
  private varDelta = 0;
  /** Lowest offset of the variable area (its start), and the slot keeping the context pointer for callbacks. */
  private varsBase = 0;
  private ctxSlot = 0;
  /** for-loop bodies still to emit as callback subprograms after the probe's code. */
  private readonly callbacks: { label: Label; stmt: Extract<Stmt, { kind: 'for' }> }[] = [];
  /** Deepest stack use of the frame being generated. */
  private peak = 0;
  /** The code emitted last cannot fall through (exit, return, break, continue): what follows is dead and not emitted. */
  private terminated = false;

  constructor(private readonly sh: GenShared, private readonly ctx: ProbeContext, private readonly varTypes: Map<string, TType>) {
    this.done = this.em.newLabel();
  }

  generate(p: Probe): { insns: Insn[]; slotLocs: (Loc | undefined)[]; functions: number[] } {
    this.em.loc = p.loc;
    this.em.emit(b.mov64(6, 1));
    const provider = this.ctx.spec.provider;
    if (this.sh.exitFlag !== undefined && provider !== 'END') {
      // After exit(), do nothing: the run is over even if its links are still attached.
      const cont = this.em.newLabel();
      this.exitFlagPtr();
      this.em.jump('jeq', 0, b.imm(0), cont);
      this.em.emit(b.ldx(8, 1, 0, 0));
      this.em.jump('jne', 1, b.imm(0), this.done);
      this.em.place(cont);
    }
    // Scratch variables get fixed, zeroed slots so every path sees them initialised.
    for (const [name, type] of this.varTypes) {
      const off = this.alloc(sizeOf(type) || 8, p.loc);
      this.zero(off, sizeOf(type) || 8);
      this.vars.set(name, { type, off });
    }
    if (hasFor(p.body)) {
      // for loops run as callbacks: they find the probe's context here, through the variable area.
      this.ctxSlot = this.alloc(8, p.loc);
      this.em.emit(b.stx(8, 10, 6, this.ctxSlot));
    }
    this.varsBase = -this.sp;
    if (p.predicate) {
      this.em.loc = p.predicate.loc;
      const mark = this.sp;
      this.int(p.predicate);
      this.em.jump('jeq', 0, b.imm(0), this.done);
      this.sp = mark;
    }
    this.block(p.body);
    this.em.place(this.done);
    this.em.emit(b.mov64(0, b.imm(0)), b.exit());
    const mainPeak = this.peak;
    for (let c = this.callbacks.shift(); c; c = this.callbacks.shift()) {
      const cbPeak = this.callback(c.label, c.stmt);
      // The kernel limits the stack of a call chain, callbacks included, to 512 bytes (each frame rounded to 32).
      if (((mainPeak + 31) & ~31) + ((cbPeak + 31) & ~31) > STACK_LIMIT) {
        throw new ScriptError(`BPF stack limit of ${STACK_LIMIT} bytes exceeded (probe and for loop body together)`, c.stmt.loc);
      }
    }
    return this.em.finish();
  }

  /** Base register and offset of a scratch variable from where the code runs. */
  private varAt(slot: { off: number; local?: boolean }): [Reg, number] {
    return slot.local ? [10, slot.off] : [this.varReg, slot.off + this.varDelta];
  }

  /**
   * A for loop's body as a bpf_for_each_map_elem callback: r2 = key, r3 =
   * value, r4 = the probe frame's variable area. $kv is (key, value) in this
   * frame; `continue` returns 0 (next element), `break` and exit() return 1.
   * Returns the frame's stack use.
   */
  private callback(label: Label, s: Extract<Stmt, { kind: 'for' }>): number {
    const saved = { sp: this.sp, peak: this.peak, loops: this.loops, done: this.done, varReg: this.varReg, varDelta: this.varDelta, terminated: this.terminated, kv: this.vars.get(s.variable) };
    this.sp = 0;
    this.peak = 0;
    this.loops = [];
    this.terminated = false;
    const next = this.em.newLabel();
    this.done = this.em.newLabel();
    this.em.loc = s.loc;
    this.em.place(label);
    this.varReg = 9;
    this.varDelta = -this.varsBase;
    this.em.emit(b.mov64(9, 4), b.ldx(8, 6, 9, this.ctxSlot + this.varDelta));
    const { map } = this.mapOf(s.map);
    const kvType = this.sh.typer.forTypes.get(s) as Extract<TType, { kind: 'tuple' }>;
    const outerType = this.varTypes.get(s.variable);
    this.varTypes.set(s.variable, kvType);
    const kv = this.alloc(sizeOf(kvType), s.loc);
    this.zero(kv, sizeOf(kvType));
    const [keyOff, valOff] = tupleOffsets(kvType);
    const v = map.value;
    if (v.kind === 'agg' && (v.agg === 'avg' || v.agg === 'stats')) {
      // The value reads as the average, as @m[k] does.
      const zero = this.em.newLabel();
      this.em.emit(b.ldx(8, 1, 3, 0), b.mov64(0, b.imm(0)));
      this.em.jump('jeq', 1, b.imm(0), zero);
      this.em.emit(b.ldx(8, 0, 3, 8), { kind: 'alu', width: 64, op: v.signed ? 'sdiv' : 'div', dst: 0, src: 1 });
      this.em.place(zero);
      this.em.emit(b.stx(8, 10, 0, kv + valOff));
    } else this.copy(kv + valOff, 0, Math.min(map.valueSize, sizeOf(kvType.elems[1])), 3);
    this.copy(kv + keyOff, 0, Math.min(map.keys.length ? map.keySize : 8, sizeOf(kvType.elems[0])), 2);
    this.vars.set(s.variable, { type: kvType, off: kv, local: true });
    this.loops.push({ brk: this.done, cont: next });
    this.block(s.body);
    // Only reachable code: the kernel's verifier refuses the rest.
    if (!this.terminated || this.em.referenced(next)) {
      this.em.place(next);
      this.em.emit(b.mov64(0, b.imm(0)), b.exit());
    }
    if (this.em.referenced(this.done)) {
      this.em.place(this.done);
      this.em.emit(b.mov64(0, b.imm(1)), b.exit());
    }
    const peak = this.peak;
    this.sp = saved.sp;
    this.peak = saved.peak;
    this.loops = saved.loops;
    this.done = saved.done;
    this.varReg = saved.varReg;
    this.varDelta = saved.varDelta;
    this.terminated = saved.terminated;
    if (saved.kv) this.vars.set(s.variable, saved.kv);
    else this.vars.delete(s.variable);
    if (outerType) this.varTypes.set(s.variable, outerType);
    else this.varTypes.delete(s.variable);
    return peak;
  }

  /** r0 = &exit flag (or 0). */
  private exitFlagPtr(): void {
    const key = this.alloc(8, undefined);
    this.em.emit(b.st(8, 10, key, 0));
    this.lookup(this.sh.exitFlag!, key);
  }

  // ---- stack ----

  private alloc(size: number, loc: Loc | undefined): number {
    this.sp += align8(Math.max(size, 1));
    this.peak = Math.max(this.peak, this.sp);
    if (this.sp > STACK_LIMIT) throw new ScriptError(`BPF stack limit of ${STACK_LIMIT} bytes exceeded`, loc ?? this.em.loc);
    return -this.sp;
  }

  private zero(off: number, size: number): void {
    for (let i = 0; i < align8(size); i += 8) this.em.emit(b.st(8, 10, off + i, 0));
  }

  /** Copy `size` bytes (rounded up to 8) between stack buffers, or from a pointer register into a buffer. */
  private copy(dst: number, src: number, size: number, srcReg: Reg = 10): void {
    for (let i = 0; i < align8(size); i += 8) this.em.emit(b.ldx(8, 1, srcReg, src + i), b.stx(8, 10, 1, dst + i));
  }

  private stackPtr(reg: Reg, off: number): void {
    this.em.emit(b.mov64(reg, 10), b.add64(reg, b.imm(off)));
  }

  private mapFd(reg: Reg, index: number): void {
    this.em.emit(b.lddw(reg, BigInt(index), 'map_fd'));
  }

  private movImm(reg: Reg, v: bigint): void {
    if (v >= -0x80000000n && v <= 0x7fffffffn) this.em.emit(b.mov64(reg, b.imm(Number(v))));
    else this.em.emit(b.lddw(reg, v));
  }

  private typeOf(e: Expr): TType {
    return this.sh.typer.typeOf(e, this.ctx, this.varTypes);
  }

  // ---- statements ----

  private block(ss: readonly Stmt[]): void {
    for (const s of ss) {
      if (this.terminated) return;
      const mark = this.sp;
      this.em.loc = s.loc;
      this.stmt(s);
      this.sp = mark;
    }
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'expr':
        if (s.expr.kind === 'call') this.callStmt(s.expr);
        else this.expr(s.expr);
        return;
      case 'assign':
        if (s.target.kind === 'var') return this.assignVar(s.target.name, s.value);
        return this.assignMap(s.target, s.value);
      case 'if': {
        const els = this.em.newLabel();
        const end = this.em.newLabel();
        const mark = this.sp;
        this.int(s.cond);
        this.sp = mark;
        this.em.jump('jeq', 0, b.imm(0), els);
        this.block(s.then);
        const thenEnds = this.terminated;
        if (!thenEnds) this.em.goto(end);
        this.em.place(els);
        this.terminated = false;
        if (s.else) this.block(s.else);
        const elseEnds = this.terminated && s.else !== undefined;
        this.em.place(end);
        this.terminated = thenEnds && elseEnds;
        return;
      }
      case 'unroll':
        for (let i = 0; i < s.count && !this.terminated; i++) this.block(s.body);
        return;
      case 'while': {
        const top = this.em.newLabel();
        const brk = this.em.newLabel();
        this.em.place(top);
        const mark = this.sp;
        this.int(s.cond);
        this.sp = mark;
        this.em.jump('jeq', 0, b.imm(0), brk);
        this.loops.push({ brk, cont: top });
        this.block(s.body);
        this.loops.pop();
        if (!this.terminated) this.em.goto(top);
        this.terminated = false;
        this.em.place(brk);
        return;
      }
      case 'for': {
        // bpf_for_each_map_elem(map, callback, &variables, 0): the body is a callback subprogram.
        const { index, map } = this.mapOf(s.map);
        if (map.value.kind === 'agg' && (map.value.agg === 'hist' || map.value.agg === 'lhist')) {
          throw new ScriptError(`for loops over ${map.value.agg}() maps are not supported`, s.map.loc);
        }
        const label = this.em.newLabel();
        this.callbacks.push({ label, stmt: s });
        this.mapFd(1, index);
        this.em.funcAddr(2, label);
        this.em.emit(b.mov64(3, this.varReg), b.add64(3, b.imm(this.varsBase + this.varDelta)), b.mov64(4, b.imm(0)), b.call(H.for_each_map_elem));
        return;
      }
      case 'jump': {
        if (s.which === 'return' && this.varReg !== 10) throw new ScriptError(`'return' is not allowed in a for loop body`, s.loc);
        if (s.which === 'return') {
          this.em.goto(this.done);
          this.terminated = true;
          return;
        }
        const loop = this.loops[this.loops.length - 1];
        if (!loop) throw new ScriptError(`'${s.which}' statement is not allowed outside of a loop`, s.loc);
        this.em.goto(s.which === 'break' ? loop.brk : loop.cont);
        this.terminated = true;
        return;
      }
    }
  }

  private assignVar(name: string, value: Expr): void {
    const slot = this.vars.get(name)!;
    const v = this.expr(value);
    const [reg, off] = this.varAt(slot);
    if (v.kind === 'reg') this.em.emit(b.stx(8, reg, 0, off));
    else if (reg === 10) this.store(off, sizeOf(slot.type), v);
    else {
      const size = align8(sizeOf(slot.type)), n = Math.min(size, align8(v.size));
      for (let i = 0; i < n; i += 8) this.em.emit(b.ldx(8, 1, 10, v.off + i), b.stx(8, reg, 1, off + i));
      for (let i = n; i < size; i += 8) this.em.emit(b.st(8, reg, off + i, 0));
    }
  }

  /** Store a memory value into a buffer of `size` bytes, zero-padding or truncating. */
  private store(dst: number, size: number, v: Extract<Val, { kind: 'mem' }>): void {
    if (v.off === dst) return;
    const n = Math.min(align8(size), align8(v.size));
    this.copy(dst, v.off, n);
    if (align8(size) > n) this.zero(dst + n, align8(size) - n);
  }

  private mapOf(e: MapExpr): { map: TraceMap; index: number } {
    const index = this.sh.mapIndex.get(e.name);
    if (index === undefined) throw new ScriptError(`Undefined map: ${e.name}`, e.loc);
    return { map: this.sh.maps[index], index };
  }

  /** Lay out the key on the stack; `extra` reserves 8 trailing bytes (hist bucket). */
  private key(map: TraceMap, keys: readonly Expr[]): number {
    const off = this.alloc(map.keySize, undefined);
    this.zero(off, map.keySize);
    let at = off;
    map.keys.forEach((kt, i) => {
      const v = this.expr(keys[i]);
      if (v.kind === 'reg') this.em.emit(b.stx(8, 10, 0, at));
      else this.store(at, sizeOf(kt), v);
      at += align8(sizeOf(kt));
    });
    return off;
  }

  private lookup(index: number, keyOff: number): void {
    this.mapFd(1, index);
    this.stackPtr(2, keyOff);
    this.em.emit(b.call(H.map_lookup_elem));
  }

  private update(index: number, keyOff: number, valOff: number, flags: number): void {
    this.mapFd(1, index);
    this.stackPtr(2, keyOff);
    this.stackPtr(3, valOff);
    this.em.emit(b.mov64(4, b.imm(flags)), b.call(H.map_update_elem));
  }

  private assignMap(target: MapExpr, value: Expr): void {
    const { map, index } = this.mapOf(target);
    if (isAggCall(value)) return this.aggregate(map, index, target, value);
    const valOff = this.alloc(map.valueSize, undefined);
    const v = this.expr(value);
    if (v.kind === 'reg') this.em.emit(b.stx(8, 10, 0, valOff));
    else this.store(valOff, map.valueSize, v);
    const keyOff = this.key(map, target.keys);
    this.update(index, keyOff, valOff, 0);
  }

  private aggregate(map: TraceMap, index: number, target: MapExpr, call: Extract<Expr, { kind: 'call' }>): void {
    const agg = call.name;
    // The argument first (it may call helpers), kept on the stack.
    const argOff = this.alloc(8, call.loc);
    if (agg === 'count') this.em.emit(b.st(8, 10, argOff, 1));
    else {
      this.int(call.args[0]);
      this.em.emit(b.stx(8, 10, 0, argOff));
    }
    const keyOff = this.key(map, target.keys);
    if (agg === 'hist' || agg === 'lhist') {
      this.em.emit(b.ldx(8, 0, 10, argOff));
      if (agg === 'hist') this.log2Bucket();
      else {
        const l = map.value.kind === 'agg' ? map.value.lhist! : { min: 0, max: 0, step: 1 };
        this.linearBucket(l.min, l.max, l.step);
      }
      this.em.emit(b.stx(8, 10, 0, keyOff + map.keySize - 8));
      this.em.emit(b.st(8, 10, argOff, 1));
    }
    const fresh = this.em.newLabel();
    const end = this.em.newLabel();
    this.lookup(index, keyOff);
    this.em.jump('jeq', 0, b.imm(0), fresh);
    switch (agg) {
      case 'count': case 'sum': case 'hist': case 'lhist':
        // A per-CPU value is this CPU's alone: a plain add, no locked instruction.
        if (map.perCpu) this.em.emit(b.ldx(8, 1, 10, argOff), b.ldx(8, 2, 0, 0), b.add64(2, 1), b.stx(8, 0, 2, 0));
        else this.em.emit(b.ldx(8, 1, 10, argOff), { kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 0, src: 1, off: 0 });
        break;
      case 'avg': case 'stats':
        this.em.emit(b.mov64(1, b.imm(1)), { kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 0, src: 1, off: 0 });
        this.em.emit(b.ldx(8, 1, 10, argOff), { kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 0, src: 1, off: 8 });
        break;
      case 'min': case 'max': {
        const signed = map.value.kind === 'agg' && map.value.signed;
        const skip = this.em.newLabel();
        this.em.emit(b.ldx(8, 1, 0, 0), b.ldx(8, 2, 10, argOff));
        // keep the old value unless the new one is smaller (min) or larger (max)
        const cond: JmpCond = agg === 'min' ? (signed ? 'jsge' : 'jge') : signed ? 'jsle' : 'jle';
        this.em.jump(cond, 2, 1, skip);
        this.em.emit(b.stx(8, 0, 2, 0));
        this.em.place(skip);
        break;
      }
    }
    this.em.goto(end);
    this.em.place(fresh);
    const valOff = this.alloc(map.valueSize, call.loc);
    this.zero(valOff, map.valueSize);
    if (agg === 'avg' || agg === 'stats') {
      this.em.emit(b.st(8, 10, valOff, 1), b.ldx(8, 1, 10, argOff), b.stx(8, 10, 1, valOff + 8));
    } else this.em.emit(b.ldx(8, 1, 10, argOff), b.stx(8, 10, 1, valOff));
    this.update(index, keyOff, valOff, 1);
    this.em.place(end);
  }

  /** r0 = bpftrace's log2 bucket: 0 for negatives, 1 for zero, 2 + floor(log2(v)) otherwise. */
  private log2Bucket(): void {
    const neg = this.em.newLabel(), zero = this.em.newLabel(), end = this.em.newLabel();
    this.em.jump('jslt', 0, b.imm(0), neg);
    this.em.jump('jeq', 0, b.imm(0), zero);
    this.em.emit(b.mov64(3, b.imm(2)));
    for (const shift of [32, 16, 8, 4, 2, 1]) {
      const skip = this.em.newLabel();
      this.em.emit(b.mov64(2, b.imm(1)), b.lsh64(2, b.imm(shift)));
      this.em.jump('jlt', 0, 2, skip);
      this.em.emit(b.rsh64(0, b.imm(shift)), b.add64(3, b.imm(shift)));
      this.em.place(skip);
    }
    this.em.emit(b.mov64(0, 3));
    this.em.goto(end);
    this.em.place(neg);
    this.em.emit(b.mov64(0, b.imm(0)));
    this.em.goto(end);
    this.em.place(zero);
    this.em.emit(b.mov64(0, b.imm(1)));
    this.em.place(end);
  }

  /** r0 = lhist bucket: 0 below min, buckets+1 at or above max, else (v-min)/step+1. */
  private linearBucket(min: number, max: number, step: number): void {
    const buckets = Math.floor((max - min) / step);
    const low = this.em.newLabel(), high = this.em.newLabel(), end = this.em.newLabel();
    this.movImm(1, BigInt(min));
    this.em.jump('jslt', 0, 1, low);
    this.movImm(1, BigInt(max));
    this.em.jump('jsge', 0, 1, high);
    this.movImm(1, BigInt(min));
    this.em.emit(b.sub64(0, 1 as Reg), b.div64(0, b.imm(step)), b.add64(0, b.imm(1)));
    this.em.goto(end);
    this.em.place(low);
    this.em.emit(b.mov64(0, b.imm(0)));
    this.em.goto(end);
    this.em.place(high);
    this.em.emit(b.mov64(0, b.imm(buckets + 1)));
    this.em.place(end);
  }

  // ---- calls as statements ----

  private event(kind: EventKind, index: number, payload: { type: TType; expr: Expr }[]): void {
    let size = 8;
    const offsets: number[] = [];
    for (const p of payload) {
      offsets.push(size);
      size += align8(sizeOf(p.type) || 8);
    }
    const buf = this.alloc(size, this.em.loc);
    this.movImm(1, BigInt(EVENT_KIND[kind]) << 32n | BigInt(index));
    this.em.emit(b.stx(8, 10, 1, buf));
    payload.forEach((p, i) => {
      const v = this.expr(p.expr);
      if (v.kind === 'reg') this.em.emit(b.stx(8, 10, 0, buf + offsets[i]));
      else this.store(buf + offsets[i], sizeOf(p.type), v);
    });
    this.mapFd(1, this.sh.ringbuf);
    this.stackPtr(2, buf);
    this.em.emit(b.mov64(3, b.imm(size)), b.mov64(4, b.imm(0)), b.call(H.ringbuf_output));
  }

  private callStmt(e: Extract<Expr, { kind: 'call' }>): void {
    switch (e.name) {
      case 'printf': case 'system': case 'cat': {
        const fmt = (e.args[0] as Extract<Expr, { kind: 'str' }>).value;
        const args = e.args.slice(1).map((a) => ({ expr: a, type: this.typeOf(a) }));
        const offsets: number[] = [];
        let at = 8;
        for (const a of args) { offsets.push(at); at += align8(sizeOf(a.type) || 8); }
        const index = this.sh.formats.length;
        this.sh.formats.push({ parts: parseFormat(fmt), argTypes: args.map((a) => a.type), offsets });
        this.event(e.name === 'printf' ? 'printf' : e.name === 'system' ? 'system' : 'cat', index, args);
        return;
      }
      case 'exit': {
        if (this.sh.exitFlag !== undefined) {
          const skip = this.em.newLabel();
          this.exitFlagPtr();
          this.em.jump('jeq', 0, b.imm(0), skip);
          this.em.emit(b.st(8, 0, 0, 1));
          this.em.place(skip);
        }
        this.event('exit', 0, []);
        this.em.goto(this.done);
        this.terminated = true;
        return;
      }
      case 'time': {
        const index = this.sh.timeFormats.length;
        this.sh.timeFormats.push(e.args.length ? (e.args[0] as Extract<Expr, { kind: 'str' }>).value : '%H:%M:%S\n');
        this.event('time', index, []);
        return;
      }
      case 'print': {
        const a = e.args[0];
        if (a.kind === 'map' && a.keys.length === 0) {
          const arg = (i: number, dflt: number): number => {
            const x = e.args[i];
            return x?.kind === 'int' ? Number(BigInt.asUintN(32, x.value)) : dflt;
          };
          const index = this.sh.mapPrints.length;
          this.sh.mapPrints.push({ map: this.mapOf(a).index, top: arg(1, 0), div: arg(2, 1) });
          this.event('print_map', index, []);
          return;
        }
        const type = this.typeOf(a);
        const index = this.sh.printValues.length;
        this.sh.printValues.push(type);
        this.event('print_value', index, [{ type, expr: a }]);
        return;
      }
      case 'clear': case 'zero':
        this.event(e.name, this.mapOf(e.args[0] as MapExpr).index, []);
        return;
      case 'join': return this.join(e);
      case 'delete': {
        const target = e.args[0] as MapExpr;
        const { map, index } = this.mapOf(target);
        if (target.keys.length === 0 && map.keys.length > 0) {
          this.event('clear', index, []);
          return;
        }
        const keyOff = this.key(map, target.keys);
        this.mapFd(1, index);
        this.stackPtr(2, keyOff);
        this.em.emit(b.call(H.map_delete_elem));
        return;
      }
      case 'signal': {
        const a = e.args[0];
        const names: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGSTOP: 19, SIGCONT: 18 };
        if (a.kind === 'str') {
          const n = names[a.value] ?? names[`SIG${a.value}`];
          if (n === undefined) throw new ScriptError(`${a.value} is not a valid signal`, a.loc);
          this.em.emit(b.mov64(1, b.imm(n)));
        } else {
          this.int(a);
          this.em.emit(b.mov64(1, 0));
        }
        this.em.emit(b.call(H.send_signal));
        return;
      }
      default:
        this.expr(e);
    }
  }

  /**
   * join(array[, sep]): read up to JOIN_ARGS pointers from the array and the
   * strings they point at into the per-CPU record buffer, then send it.
   */
  private join(e: Extract<Expr, { kind: 'call' }>): void {
    const sep = e.args[1];
    const index = this.sh.joinSeparators.length;
    this.sh.joinSeparators.push(sep?.kind === 'str' ? sep.value : ' ');
    const arr = this.alloc(8, e.loc);
    const ptr = this.alloc(8, e.loc);
    const key = this.alloc(8, e.loc);
    this.int(e.args[0]);
    this.em.emit(b.stx(8, 10, 0, arr), b.st(8, 10, key, 0));
    const end = this.em.newLabel(), send = this.em.newLabel();
    this.lookup(this.sh.join!, key);
    this.em.jump('jeq', 0, b.imm(0), end);
    // r7 keeps the record across helper calls.
    this.em.emit(b.mov64(7, 0));
    this.movImm(1, BigInt(EVENT_KIND.join) << 32n | BigInt(index));
    this.em.emit(b.stx(8, 7, 1, 0), b.st(8, 7, 8, 0));
    for (let i = 0; i < JOIN_ARGS; i++) {
      this.em.emit(b.st(8, 10, ptr, 0));
      this.stackPtr(1, ptr);
      this.em.emit(b.mov64(2, b.imm(8)), b.ldx(8, 3, 10, arr), b.add64(3, b.imm(i * 8)), b.call(H.probe_read));
      this.em.emit(b.ldx(8, 3, 10, ptr));
      this.em.jump('jeq', 3, b.imm(0), send);
      this.em.emit(b.mov64(1, 7), b.add64(1, b.imm(16 + i * JOIN_ARG_SIZE)), b.mov64(2, b.imm(JOIN_ARG_SIZE)), b.call(H.probe_read_str));
      this.em.emit(b.st(8, 7, 8, i + 1));
    }
    this.em.place(send);
    this.mapFd(1, this.sh.ringbuf);
    this.em.emit(b.mov64(2, 7), b.mov64(3, b.imm(JOIN_RECORD_SIZE)), b.mov64(4, b.imm(0)), b.call(H.ringbuf_output));
    this.em.place(end);
  }

  // ---- expressions ----

  private int(e: Expr): void {
    const v = this.expr(e);
    if (v.kind !== 'reg') throw new ScriptError(`expected an integer, got ${this.typeOf(e).kind}`, e.loc);
  }

  /** Sign- or zero-extend r0 from `bits` according to `signed`. */
  private extend(reg: Reg, bits: number, signed: boolean): void {
    if (bits >= 64) return;
    if (signed) this.em.emit(b.lsh64(reg, b.imm(64 - bits)), b.arsh64(reg, b.imm(64 - bits)));
    else if (bits === 32) this.em.emit(b.mov32(reg, reg));
    else this.em.emit(b.and64(reg, b.imm((1 << bits) - 1)));
  }

  private expr(e: Expr): Val {
    this.em.loc = e.loc;
    switch (e.kind) {
      case 'int': this.movImm(0, e.value); return REG;
      case 'str': return this.stringLiteral(e.value);
      case 'param': {
        const v = this.sh.positional[e.index - 1];
        if (v !== undefined && !/^-?[0-9]+$/.test(v)) return this.stringLiteral(v);
        this.movImm(0, BigInt(v ?? 0));
        return REG;
      }
      case 'builtin': return this.builtin(e.name, e.loc);
      case 'var': {
        const slot = this.vars.get(e.name);
        if (!slot) throw new ScriptError(`Undefined or undeclared variable: ${e.name}`, e.loc);
        const [reg, off] = this.varAt(slot);
        if (isMemory(slot.type)) {
          if (reg === 10) return { kind: 'mem', off, size: sizeOf(slot.type) };
          // In a callback: a copy in this frame, where every memory value lives.
          const local = this.alloc(sizeOf(slot.type), e.loc);
          this.copy(local, off, sizeOf(slot.type), reg);
          return { kind: 'mem', off: local, size: sizeOf(slot.type) };
        }
        this.em.emit(b.ldx(8, 0, reg, off));
        return REG;
      }
      case 'map': return this.mapRead(e);
      case 'call': return this.call(e);
      case 'binary': return this.binary(e);
      case 'unary': {
        if (e.op === '*') {
          const t = this.typeOf(e);
          this.int(e.operand);
          return this.readPointer(t);
        }
        this.int(e.operand);
        if (e.op === '-') this.em.emit({ kind: 'neg', width: 64, dst: 0 });
        else if (e.op === '~') this.em.emit(b.xor64(0, b.imm(-1)));
        else this.boolify('jeq');
        return REG;
      }
      case 'ternary': {
        const t = this.typeOf(e);
        const els = this.em.newLabel(), end = this.em.newLabel();
        const out = isMemory(t) ? this.alloc(sizeOf(t), e.loc) : 0;
        this.int(e.cond);
        this.em.jump('jeq', 0, b.imm(0), els);
        const a = this.expr(e.then);
        if (a.kind === 'mem') this.store(out, sizeOf(t), a);
        this.em.goto(end);
        this.em.place(els);
        const c = this.expr(e.else);
        if (c.kind === 'mem') this.store(out, sizeOf(t), c);
        this.em.place(end);
        return isMemory(t) ? { kind: 'mem', off: out, size: sizeOf(t) } : REG;
      }
      case 'field': return this.field(e);
      case 'index': {
        const t = this.typeOf(e);
        const bt = this.typeOf(e.base);
        const size = bt.kind === 'ptr' && castType(bt.to, 0) ? Math.max(1, (castType(bt.to, 0) as { bits: number }).bits / 8) : 8;
        const tmp = this.alloc(8, e.loc);
        this.int(e.base);
        this.em.emit(b.stx(8, 10, 0, tmp));
        this.int(e.index);
        this.em.emit(b.mul64(0, b.imm(size)), b.ldx(8, 1, 10, tmp), b.add64(0, 1 as Reg));
        return this.readPointer(t);
      }
      case 'cast': {
        this.int(e.expr);
        const to = this.typeOf(e);
        if (to.kind === 'int') this.extend(0, to.bits, to.signed);
        return REG;
      }
      case 'tuple': {
        const t = this.typeOf(e) as Extract<TType, { kind: 'tuple' }>;
        const size = sizeOf(t);
        const off = this.alloc(size, e.loc);
        this.zero(off, size);
        const offs = tupleOffsets(t);
        e.elems.forEach((x, i) => {
          const v = this.expr(x);
          if (v.kind === 'reg') this.em.emit(b.stx(8, 10, 0, off + offs[i]));
          else this.store(off + offs[i], sizeOf(t.elems[i]), v);
        });
        return { kind: 'mem', off, size };
      }
      case 'incdec': {
        const delta = e.op === '++' ? 1 : -1;
        if (e.target.kind === 'var') {
          const [reg, off] = this.varAt(this.vars.get(e.target.name)!);
          this.em.emit(b.ldx(8, 0, reg, off), b.mov64(1, 0), b.add64(1, b.imm(delta)), b.stx(8, reg, 1, off));
          if (e.prefix) this.em.emit(b.mov64(0, 1));
          return REG;
        }
        const target = e.target as MapExpr;
        const { map, index } = this.mapOf(target);
        const old = this.alloc(8, e.loc);
        this.mapRead(target);
        this.em.emit(b.stx(8, 10, 0, old));
        const valOff = this.alloc(8, e.loc);
        this.em.emit(b.add64(0, b.imm(delta)), b.stx(8, 10, 0, valOff));
        const keyOff = this.key(map, target.keys);
        this.update(index, keyOff, valOff, 0);
        this.em.emit(b.ldx(8, 0, 10, e.prefix ? valOff : old));
        return REG;
      }
    }
  }

  /** Read a value of type t from the kernel address in r0 (probe_read_kernel). */
  private readPointer(t: TType): Val {
    const tmp = this.alloc(8, this.em.loc);
    const size = t.kind === 'int' ? t.bits / 8 : 8;
    this.em.emit(b.st(8, 10, tmp, 0), b.mov64(3, 0));
    this.stackPtr(1, tmp);
    this.em.emit(b.mov64(2, b.imm(size)), b.call(H.probe_read_kernel), b.ldx(8, 0, 10, tmp));
    if (t.kind === 'int') this.extend(0, t.bits, t.signed);
    return REG;
  }

  /** buf(src, len): the length (clamped to the buffer's size) in the first 8 bytes, then the bytes read. */
  private buffer(e: Extract<Expr, { kind: 'call' }>): Val {
    const t = this.typeOf(e) as Extract<TType, { kind: 'buffer' }>;
    const off = this.alloc(8 + t.size, e.loc);
    this.zero(off, 8 + t.size);
    const src = this.expr(e.args[0]);
    const srcTmp = this.alloc(8, e.loc);
    if (src.kind === 'reg') this.em.emit(b.stx(8, 10, 0, srcTmp));
    const len = e.args[1];
    if (len === undefined || len.kind === 'int') this.em.emit(b.mov64(0, b.imm(t.size)));
    else {
      this.int(len);
      const ok = this.em.newLabel();
      this.em.jump('jle', 0, b.imm(t.size), ok);
      this.em.emit(b.mov64(0, b.imm(t.size)));
      this.em.place(ok);
    }
    this.em.emit(b.stx(8, 10, 0, off));
    if (src.kind === 'mem') {
      // An array already on the stack: copy it (the length only limits what prints).
      this.copy(off + 8, src.off, Math.min(t.size, src.size));
      return { kind: 'mem', off, size: 8 + t.size };
    }
    this.em.emit(b.mov64(2, 0), b.ldx(8, 3, 10, srcTmp));
    this.stackPtr(1, off + 8);
    this.em.emit(b.call(H.probe_read));
    return { kind: 'mem', off, size: 8 + t.size };
  }

  private stringLiteral(s: string): Val {
    const bytes = new TextEncoder().encode(s);
    const size = bytes.length + 1;
    const off = this.alloc(size, this.em.loc);
    for (let i = 0; i < align8(size); i += 8) {
      let v = 0n;
      for (let j = 7; j >= 0; j--) v = (v << 8n) | BigInt(bytes[i + j] ?? 0);
      if (v === 0n) this.em.emit(b.st(8, 10, off + i, 0));
      else {
        this.movImm(1, BigInt.asIntN(64, v));
        this.em.emit(b.stx(8, 10, 1, off + i));
      }
    }
    return { kind: 'mem', off, size };
  }

  private boolify(cond: JmpCond, src: Reg | { imm: number } = b.imm(0)): void {
    const t = this.em.newLabel();
    this.em.emit(b.mov64(2, b.imm(1)));
    this.em.jump(cond, 0, src, t);
    this.em.emit(b.mov64(2, b.imm(0)));
    this.em.place(t);
    this.em.emit(b.mov64(0, 2));
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Val {
    if (e.op === '&&' || e.op === '||') {
      const short = this.em.newLabel(), end = this.em.newLabel();
      this.int(e.left);
      this.em.jump(e.op === '&&' ? 'jeq' : 'jne', 0, b.imm(0), short);
      this.int(e.right);
      this.boolify('jne');
      this.em.goto(end);
      this.em.place(short);
      this.em.emit(b.mov64(0, b.imm(e.op === '&&' ? 0 : 1)));
      this.em.place(end);
      return REG;
    }
    const lt = this.typeOf(e.left);
    if (lt.kind === 'string') return this.stringCompare(e);
    // As bpftrace: a comparison is signed only when both sides are, a right shift when its left side is.
    const bothSigned = isSigned(lt) && isSigned(this.typeOf(e.right));
    const signed = e.op === '>>' ? isSigned(lt) : bothSigned;
    const tmp = this.alloc(8, e.loc);
    this.int(e.left);
    this.em.emit(b.stx(8, 10, 0, tmp));
    this.int(e.right);
    this.em.emit(b.mov64(1, 0), b.ldx(8, 0, 10, tmp));
    const cmp: Partial<Record<string, JmpCond>> = {
      '==': 'jeq', '!=': 'jne', '<': signed ? 'jslt' : 'jlt', '<=': signed ? 'jsle' : 'jle', '>': signed ? 'jsgt' : 'jgt', '>=': signed ? 'jsge' : 'jge',
    };
    const c = cmp[e.op];
    if (c) { this.boolify(c, 1); return REG; }
    const ops: Record<string, Insn> = {
      '+': b.add64(0, 1 as Reg), '-': b.sub64(0, 1 as Reg), '*': b.mul64(0, 1 as Reg), '/': b.div64(0, 1 as Reg), '%': b.mod64(0, 1 as Reg),
      '&': b.and64(0, 1 as Reg), '|': b.or64(0, 1 as Reg), '^': b.xor64(0, 1 as Reg), '<<': b.lsh64(0, 1 as Reg), '>>': signed ? b.arsh64(0, 1 as Reg) : b.rsh64(0, 1 as Reg),
    };
    this.em.emit(ops[e.op]);
    return REG;
  }

  /** String equality: byte by byte up to the shorter buffer or the first NUL. */
  private stringCompare(e: Extract<Expr, { kind: 'binary' }>): Val {
    const a = this.expr(e.left) as Extract<Val, { kind: 'mem' }>;
    const c = this.expr(e.right) as Extract<Val, { kind: 'mem' }>;
    const ne = this.em.newLabel(), eq = this.em.newLabel(), end = this.em.newLabel();
    const n = Math.min(a.size, c.size);
    for (let i = 0; i < n; i++) {
      this.em.emit(b.ldx(1, 1, 10, a.off + i), b.ldx(1, 2, 10, c.off + i));
      this.em.jump('jne', 1, 2, ne);
      this.em.jump('jeq', 1, b.imm(0), eq);
    }
    // Equal over the common length: equal if the longer one ends there too.
    if (a.size !== c.size) {
      const longer = a.size > c.size ? a : c;
      this.em.emit(b.ldx(1, 1, 10, longer.off + n));
      this.em.jump('jne', 1, b.imm(0), ne);
    }
    this.em.place(eq);
    this.em.emit(b.mov64(0, b.imm(e.op === '==' ? 1 : 0)));
    this.em.goto(end);
    this.em.place(ne);
    this.em.emit(b.mov64(0, b.imm(e.op === '==' ? 0 : 1)));
    this.em.place(end);
    return REG;
  }

  private mapRead(e: MapExpr): Val {
    const { map, index } = this.mapOf(e);
    const keyOff = this.key(map, e.keys);
    if (map.value.kind === 'agg' && (map.value.agg === 'hist' || map.value.agg === 'lhist')) {
      throw new ScriptError('hist and lhist maps can not be read', e.loc);
    }
    if (isMemory(map.value)) {
      const out = this.alloc(map.valueSize, e.loc);
      this.zero(out, map.valueSize);
      const miss = this.em.newLabel();
      this.lookup(index, keyOff);
      this.em.jump('jeq', 0, b.imm(0), miss);
      this.copy(out, 0, map.valueSize, 0);
      this.em.place(miss);
      return { kind: 'mem', off: out, size: map.valueSize };
    }
    const miss = this.em.newLabel(), end = this.em.newLabel();
    this.lookup(index, keyOff);
    this.em.jump('jeq', 0, b.imm(0), miss);
    if (map.value.kind === 'agg' && (map.value.agg === 'avg' || map.value.agg === 'stats')) {
      this.em.emit(b.ldx(8, 1, 0, 0), b.ldx(8, 2, 0, 8));
      this.em.jump('jeq', 1, b.imm(0), miss);
      this.em.emit({ kind: 'alu', width: 64, op: map.value.signed ? 'sdiv' : 'div', dst: 2, src: 1 }, b.mov64(0, 2));
    } else this.em.emit(b.ldx(8, 0, 0, 0));
    this.em.goto(end);
    this.em.place(miss);
    this.em.emit(b.mov64(0, b.imm(0)));
    this.em.place(end);
    return REG;
  }

  private field(e: Extract<Expr, { kind: 'field' }>): Val {
    const bt = this.typeOf(e.base);
    if (bt.kind === 'tuple') {
      const v = this.expr(e.base) as Extract<Val, { kind: 'mem' }>;
      const i = Number(e.field);
      const off = v.off + tupleOffsets(bt)[i];
      const et = bt.elems[i];
      if (isMemory(et)) return { kind: 'mem', off, size: sizeOf(et) };
      this.em.emit(b.ldx(8, 0, 10, off));
      return REG;
    }
    if (bt.kind === 'args' && this.ctx.fn) {
      // fentry/fexit: the context is an array of u64 arguments
      const i = this.ctx.fn.params.findIndex((x) => x.name === e.field);
      const t = this.ctx.fn.params[i].type;
      this.em.emit(b.ldx(8, 0, 6, i * 8));
      if (t.kind === 'int') this.extend(0, t.bits, t.signed);
      return REG;
    }
    if (bt.kind === 'ptr') return this.member(e, bt);
    // tracepoint args: fields of the record the context points at
    const f = this.ctx.args!.fields.find((x) => x.name === e.field)!;
    if (f.dataLoc) {
      const off = this.alloc(STR_DEFAULT, e.loc);
      this.zero(off, STR_DEFAULT);
      this.em.emit(b.ldx(4, 3, 6, f.offset), b.and64(3, b.imm(0xffff)), b.add64(3, 6 as Reg));
      this.stackPtr(1, off);
      this.em.emit(b.mov64(2, b.imm(STR_DEFAULT)), b.call(H.probe_read_str));
      return { kind: 'mem', off, size: STR_DEFAULT };
    }
    if (f.type.kind === 'string') {
      const size = f.size;
      const off = this.alloc(size, e.loc);
      this.zero(off, size);
      for (let i = 0; i < size; i++) this.em.emit(b.ldx(1, 1, 6, f.offset + i), b.stx(1, 10, 1, off + i));
      return { kind: 'mem', off, size };
    }
    const size = f.size >= 8 ? 8 : f.size >= 4 ? 4 : f.size >= 2 ? 2 : 1;
    this.em.emit(b.ldx(size, 0, 6, f.offset));
    if (f.type.kind === 'int') {
      const bits = Math.min(f.type.bits, size * 8);
      this.extend(0, bits, f.type.signed);
    }
    return REG;
  }

  /** A kernel struct member through BTF: the address is computed, the value read with probe_read_kernel. */
  private member(e: Extract<Expr, { kind: 'field' }>, bt: Extract<TType, { kind: 'ptr' }>): Val {
    const m = findMember(this.sh.typer.btf()!, bt.to, e.field)!;
    this.int(e.base);
    if (m.offset) this.em.emit(b.add64(0, b.imm(m.offset)));
    const t = m.type;
    if (t.kind === 'ptr' && t.embedded) return REG;
    if (t.kind === 'string') {
      const off = this.alloc(t.size + 1, e.loc);
      this.zero(off, t.size + 1);
      this.em.emit(b.mov64(3, 0));
      this.stackPtr(1, off);
      this.em.emit(b.mov64(2, b.imm(t.size)), b.call(H.probe_read_kernel));
      return { kind: 'mem', off, size: t.size };
    }
    const tmp = this.alloc(8, e.loc);
    this.em.emit(b.st(8, 10, tmp, 0), b.mov64(3, 0));
    this.stackPtr(1, tmp);
    this.em.emit(b.mov64(2, b.imm(Math.min(8, m.size))), b.call(H.probe_read_kernel), b.ldx(8, 0, 10, tmp));
    if (t.kind === 'int') this.extend(0, t.bits, t.signed);
    return REG;
  }

  /** The stack trace map of a kstack/ustack type, created on first use. */
  private stackMap(t: StackTType): number {
    const limit = t.limit ?? DEFAULT_STACK_DEPTH;
    const mode = t.mode ?? 'bpftrace';
    let spec = this.sh.stacks.find((s) => s.limit === limit && s.mode === mode);
    if (!spec) {
      spec = { index: this.sh.firstStackMap + this.sh.stacks.length, limit, mode };
      this.sh.stacks.push(spec);
    }
    return spec.index;
  }

  private builtin(name: string, loc: Loc, stack?: StackTType): Val {
    const c = (h: number) => this.em.emit(b.call(h));
    switch (name) {
      case 'pid': c(H.get_current_pid_tgid); this.em.emit(b.rsh64(0, b.imm(32))); return REG;
      case 'tid': c(H.get_current_pid_tgid); this.em.emit(b.mov32(0, 0)); return REG;
      case 'uid': c(H.get_current_uid_gid); this.em.emit(b.mov32(0, 0)); return REG;
      case 'gid': c(H.get_current_uid_gid); this.em.emit(b.rsh64(0, b.imm(32))); return REG;
      case 'nsecs': c(H.ktime_get_ns); return REG;
      case 'elapsed': c(H.ktime_get_ns); this.movImm(1, this.sh.startNs); this.em.emit(b.sub64(0, 1 as Reg)); return REG;
      case 'cpu': c(H.get_smp_processor_id); return REG;
      case 'numaid': c(H.get_numa_node_id); return REG;
      case 'rand': c(H.get_prandom_u32); return REG;
      case 'jiffies': c(H.jiffies64); return REG;
      case 'cgroup': c(H.get_current_cgroup_id); return REG;
      case 'curtask': c(H.get_current_task); return REG;
      case 'ctx': this.em.emit(b.mov64(0, 6)); return REG;
      case 'cpid':
        if (this.sh.cpid === undefined) throw new ScriptError('cpid cannot be used without child command', loc);
        this.movImm(0, BigInt(this.sh.cpid));
        return REG;
      case 'comm': {
        const off = this.alloc(16, loc);
        this.zero(off, 16);
        this.stackPtr(1, off);
        this.em.emit(b.mov64(2, b.imm(16)));
        c(H.get_current_comm);
        return { kind: 'mem', off, size: 16 };
      }
      case 'probe': this.movImm(0, BigInt(this.ctx.probeId)); return REG;
      case 'func': return this.stringLiteral(this.ctx.spec.func);
      case 'retval': {
        const p = this.ctx.spec.provider;
        if (p === 'fexit') {
          this.em.emit(b.ldx(8, 0, 6, (this.ctx.fn?.params.length ?? 0) * 8));
          const t = this.ctx.fn?.ret;
          if (t?.kind === 'int') this.extend(0, t.bits, t.signed);
        } else this.em.emit(b.ldx(8, 0, 6, PT_REGS_RC));
        return REG;
      }
      case 'kstack': case 'ustack': {
        this.em.emit(b.mov64(1, 6));
        this.mapFd(2, this.stackMap(stack ?? { kind: name }));
        this.em.emit(b.mov64(3, b.imm(name === 'ustack' ? BPF_F_USER_STACK : 0)));
        c(H.get_stackid);
        if (name === 'ustack') {
          // bpftrace packs the pid above the stack id: user addresses only mean something in their process.
          const id = this.alloc(8, loc);
          this.em.emit(b.stx(8, 10, 0, id));
          c(H.get_current_pid_tgid);
          this.em.emit(b.lsh64(0, b.imm(32)), b.ldx(8, 1, 10, id), b.or64(0, 1));
        }
        return REG;
      }
      case 'username': c(H.get_current_uid_gid); this.em.emit(b.mov32(0, 0)); return REG;
    }
    const m = /^(s?arg)([0-9]+)$/.exec(name);
    if (m) {
      const i = Number(m[2]);
      const p = this.ctx.spec.provider;
      if (p === 'fentry' || p === 'rawtracepoint') this.em.emit(b.ldx(8, 0, 6, i * 8));
      else {
        if (i >= PT_REGS_ARGS.length) throw new ScriptError(`${name} is not available on x86-64 (6 register arguments)`, loc);
        this.em.emit(b.ldx(8, 0, 6, PT_REGS_ARGS[i]));
      }
      return REG;
    }
    throw new ScriptError(`Unknown identifier: '${name}'`, loc);
  }

  private call(e: Extract<Expr, { kind: 'call' }>): Val {
    switch (e.name) {
      case 'kstack': case 'ustack': return this.builtin(e.name, e.loc, this.typeOf(e) as StackTType);
      case 'str': {
        const t = this.typeOf(e) as Extract<TType, { kind: 'string' }>;
        const src = this.expr(e.args[0]);
        if (src.kind === 'mem') return src;
        const tmp = this.alloc(8, e.loc);
        this.em.emit(b.stx(8, 10, 0, tmp));
        const off = this.alloc(t.size, e.loc);
        this.zero(off, t.size);
        this.em.emit(b.ldx(8, 3, 10, tmp));
        this.stackPtr(1, off);
        this.em.emit(b.mov64(2, b.imm(t.size)), b.call(H.probe_read_str));
        return { kind: 'mem', off, size: t.size };
      }
      case 'buf': return this.buffer(e);
      case 'ksym': this.int(e.args[0]); return REG;
      case 'reg': {
        const name = (e.args[0] as Extract<Expr, { kind: 'str' }>).value;
        this.em.emit(b.ldx(8, 0, 6, PT_REGS_OFFSETS[name]));
        return REG;
      }
      case 'usym': {
        const off = this.alloc(16, e.loc);
        this.int(e.args[0]);
        this.em.emit(b.stx(8, 10, 0, off), b.call(H.get_current_pid_tgid), b.rsh64(0, b.imm(32)), b.stx(8, 10, 0, off + 8));
        return { kind: 'mem', off, size: 16 };
      }
      case 'kaddr': {
        const name = (e.args[0] as Extract<Expr, { kind: 'str' }>).value;
        const addr = this.sh.kaddr(name);
        if (addr === undefined) throw new ScriptError(`Failed to resolve kernel symbol: ${name}`, e.loc);
        this.movImm(0, BigInt.asIntN(64, addr));
        return REG;
      }
      case 'ntop': {
        const off = this.alloc(24, e.loc);
        this.zero(off, 24);
        const [af, addr] = e.args.length === 2 ? e.args : [undefined, e.args[0]];
        const at = this.typeOf(addr);
        if (at.kind === 'string') {
          const v = this.expr(addr) as Extract<Val, { kind: 'mem' }>;
          this.copy(off + 8, v.off, Math.min(16, v.size));
          this.em.emit(b.st(8, 10, off, v.size >= 16 ? 10 : 2));
        } else {
          this.int(addr);
          this.em.emit(b.stx(4, 10, 0, off + 8), b.st(8, 10, off, 2));
        }
        if (af) { this.int(af); this.em.emit(b.stx(8, 10, 0, off)); }
        return { kind: 'mem', off, size: 24 };
      }
      case 'strftime': {
        const off = this.alloc(16, e.loc);
        const index = this.sh.timeFormats.length;
        this.sh.timeFormats.push((e.args[0] as Extract<Expr, { kind: 'str' }>).value);
        this.int(e.args[1]);
        this.em.emit(b.stx(8, 10, 0, off + 8), b.st(8, 10, off, index));
        return { kind: 'mem', off, size: 16 };
      }
      case 'sizeof': {
        const a = e.args[0];
        this.movImm(0, BigInt(a.kind === 'cast' || a.kind === 'builtin' ? sizeOf(this.typeOf(a)) : 8));
        return REG;
      }
      case 'strncmp': {
        const a = this.expr(e.args[0]) as Extract<Val, { kind: 'mem' }>;
        const c = this.expr(e.args[1]) as Extract<Val, { kind: 'mem' }>;
        const n = Math.min(Number((e.args[2] as Extract<Expr, { kind: 'int' }>).value), a.size, c.size);
        const ne = this.em.newLabel(), end = this.em.newLabel();
        this.em.emit(b.mov64(0, b.imm(0)));
        for (let i = 0; i < n; i++) {
          this.em.emit(b.ldx(1, 1, 10, a.off + i), b.ldx(1, 2, 10, c.off + i));
          this.em.jump('jne', 1, 2, ne);
          this.em.jump('jeq', 1, b.imm(0), end);
        }
        this.em.goto(end);
        this.em.place(ne);
        this.em.emit(b.mov64(0, b.imm(1)));
        this.em.place(end);
        return REG;
      }
      default:
        this.callStmt(e);
        this.em.emit(b.mov64(0, b.imm(0)));
        return REG;
    }
  }
}

export { U64 };
