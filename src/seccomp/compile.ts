/**
 * Policy -> classic BPF seccomp filter.
 *
 * Shape of the output:
 *   1. `ld [arch]`, one `jeq` per AUDIT_ARCH, else the bad-arch action
 *      (x86_64 and x32 share AUDIT_ARCH_X86_64 and split on nr >= x32 bit);
 *   2. per architecture, a binary search over the "islands" of syscall
 *      numbers not handled by the default action (runs of consecutive
 *      numbers with the same plain action collapse into one island), down to
 *      chains of a few `jeq`/range tests that share their `ret`s, so a call
 *      costs about log2(islands) + 4 comparisons;
 *   3. at each leaf either `ret action` or the rules for that call, tried in
 *      precedence order (first match wins, which is the policy's "highest
 *      precedence wins"), with 64-bit argument tests done on 32-bit halves.
 */
import { BPF_CLASS, BPF_JMP_OP, BPF_MAXINSNS, BPF_MODE, BPF_SIZE, BPF_SRC, type SockFilter } from '../cbpf/insn.js';
import { type Action, actionRank, actionToRet, ACT, sameAction } from './actions.js';
import { ARCH_NAMES, ARCHES, AUDIT_ARCH, type ArchInfo, type ArchName, X32_SYSCALL_BIT } from './arch.js';
import { OFFSET_ARCH, OFFSET_NR } from './data.js';
import { condition, simplify } from './compare.js';
import { SeccompCompileError } from './errors.js';
import { type Label, Program, assemble } from './layout.js';
import type { Policy, Rule } from './policy.js';
import { checkPolicy } from './validate.js';

export interface CompileResult {
  readonly filter: SockFilter[];
  /** Syscall names no architecture knows (ignored, as runc does); names other ABIs have are dropped silently. */
  readonly warnings: string[];
}

const LD_W_ABS = BPF_CLASS.LD | BPF_SIZE.W | BPF_MODE.ABS;
const RET_K = BPF_CLASS.RET | BPF_SRC.K;

export function compile(policy: Policy): CompileResult {
  checkPolicy(policy, 'policy');
  const warnings: string[] = [];
  const known = new Set<string>();
  for (const r of policy.rules) {
    // Profiles name calls of every architecture; only a name no table knows is worth a word.
    if (!known.has(r.syscall) && !ARCH_NAMES.some((a) => Object.hasOwn(ARCHES[a].syscalls, r.syscall))) {
      warnings.push(`unknown syscall '${r.syscall}' ignored${r.origin ? ` (${r.origin})` : ''}`);
    }
    known.add(r.syscall);
  }
  const bad = policy.badArchAction ?? ACT.killProcess();
  const p = new Program();
  p.insn(LD_W_ABS, OFFSET_ARCH);
  // Group architectures by AUDIT_ARCH, keeping the policy's order (native first).
  const groups = new Map<number, ArchName[]>();
  for (const a of policy.arches) {
    const g = groups.get(ARCHES[a].auditArch) ?? [];
    g.push(a);
    groups.set(ARCHES[a].auditArch, g);
  }
  const entries = [...groups].map(([audit, arches]) => ({ audit, arches, label: p.label() }));
  const segments = new Map(policy.arches.map((a) => [a, segmentsFor(policy, ARCHES[a])] as const));
  const pool = new SharedBlocks();
  for (const [a, segs] of segments) for (const s of segs) if (s.handler.t === 'rules') pool.count(s.handler, ARCHES[a]);
  const emit = (a: ArchName) => dispatch(p, policy, ARCHES[a], segments.get(a)!, pool);
  for (const e of entries) {
    const next = p.label();
    p.jump(BPF_JMP_OP.JEQ, e.audit, e.label, next);
    p.place(next);
  }
  p.insn(RET_K, actionToRet(bad));
  for (const e of entries) {
    p.place(e.label);
    p.insn(LD_W_ABS, OFFSET_NR);
    if (e.audit === AUDIT_ARCH.X86_64) {
      const x64 = e.arches.includes('x86_64');
      const x32 = e.arches.includes('x32');
      const badL = p.label();
      const lowL = x64 ? p.label() : badL;
      const highL = x32 ? p.label() : badL;
      if (x64) {
        // nr -1 (a tracer skipping the call) stays with x86_64, as libseccomp has it.
        const upper = p.label();
        p.jump(BPF_JMP_OP.JGE, X32_SYSCALL_BIT, upper, lowL);
        p.place(upper);
        p.jump(BPF_JMP_OP.JEQ, 0xffffffff, lowL, highL);
      } else {
        p.jump(BPF_JMP_OP.JGE, X32_SYSCALL_BIT, highL, lowL);
      }
      if (!x64 || !x32) {
        p.place(badL);
        p.insn(RET_K, actionToRet(bad));
      }
      if (x64) { p.place(lowL); emit('x86_64'); }
      if (x32) { p.place(highL); emit('x32'); }
    } else {
      emit(e.arches[0]);
    }
  }
  pool.emit(p);
  const filter = assemble(p);
  if (filter.length > BPF_MAXINSNS) {
    throw new SeccompCompileError(`filter needs ${filter.length} instructions; the kernel accepts at most ${BPF_MAXINSNS}`);
  }
  return { filter, warnings };
}

/** What happens to one syscall number: a plain action, or rules to test. */
type Handler =
  | { readonly t: 'action'; readonly action: Action }
  | { readonly t: 'rules'; readonly rules: readonly Rule[]; readonly otherwise: Action };

interface Segment { readonly start: number; readonly handler: Handler }

/** The rules of one syscall reduced to what can change the outcome. */
function handlerFor(rules: readonly Rule[], defaultAction: Action): Handler {
  // Stable sort: highest precedence first, ties in policy order.
  const sorted = rules.map((r, i) => ({ r, i })).sort((a, b) => actionRank(a.r.action) - actionRank(b.r.action) || a.i - b.i).map((x) => x.r);
  const live: Rule[] = [];
  let otherwise = defaultAction;
  for (const r of sorted) {
    if (r.args.length === 0) { otherwise = r.action; break; } // later rules can never decide
    live.push(r);
  }
  // A trailing rule whose action equals the fallback changes nothing.
  while (live.length > 0 && sameAction(live[live.length - 1].action, otherwise)) live.pop();
  return live.length === 0 ? { t: 'action', action: otherwise } : { t: 'rules', rules: live, otherwise };
}

function segmentsFor(policy: Policy, arch: ArchInfo): Segment[] {
  const byNr = new Map<number, Rule[]>();
  for (const r of policy.rules) {
    if (!Object.hasOwn(arch.syscalls, r.syscall)) continue;
    const nr = arch.syscalls[r.syscall] >>> 0;
    const list = byNr.get(nr) ?? [];
    list.push(r);
    byNr.set(nr, list);
  }
  const segs: Segment[] = [];
  const push = (start: number, handler: Handler) => {
    // A syscall right after another replaces the default range opened behind it.
    if (segs.length > 0 && segs[segs.length - 1].start === start) segs.pop();
    const last = segs[segs.length - 1];
    if (last && last.handler.t === 'action' && handler.t === 'action' && sameAction(last.handler.action, handler.action)) return;
    segs.push({ start, handler });
  };
  const dflt: Handler = { t: 'action', action: policy.defaultAction };
  push(0, dflt);
  for (const nr of [...byNr.keys()].sort((a, b) => a - b)) {
    push(nr, handlerFor(simplify(byNr.get(nr)!, arch.bits), policy.defaultAction));
    if (nr < 0xffffffff) push(nr + 1, dflt);
  }
  return segs;
}

/** Islands per linear chain at the bottom of the search tree. */
const CHAIN = 6;

/**
 * Rule blocks that come out the same on several architectures (x86_64 and
 * x32, aarch64 and riscv64 share word size and byte order) are emitted once,
 * after all the dispatch code, since cBPF jumps only forward.
 */
class SharedBlocks {
  private readonly users = new Map<string, Set<ArchName>>();
  private readonly blocks = new Map<string, { label: Label; handler: Handler; arch: ArchInfo }>();

  private static key(h: Handler, arch: ArchInfo): string {
    const rules = h.t === 'rules' ? h.rules.map((r) => [actionToRet(r.action), r.args.map((c) => [c.index, c.op, String(c.value), String(c.valueTwo ?? 0n)])]) : [];
    return JSON.stringify([arch.bits, arch.endian, h.t === 'rules' ? actionToRet(h.otherwise) : 0, rules]);
  }

  count(h: Handler, arch: ArchInfo): void {
    const k = SharedBlocks.key(h, arch);
    const set = this.users.get(k) ?? new Set<ArchName>();
    set.add(arch.name);
    this.users.set(k, set);
  }

  /** The pooled block's label, or undefined when only one architecture uses it. */
  label(p: Program, h: Handler, arch: ArchInfo): Label | undefined {
    const k = SharedBlocks.key(h, arch);
    if ((this.users.get(k)?.size ?? 0) < 2) return undefined;
    let b = this.blocks.get(k);
    if (!b) {
      b = { label: p.label(), handler: h, arch };
      this.blocks.set(k, b);
    }
    return b.label;
  }

  emit(p: Program): void {
    const rets = new Map<number, Label>();
    const retLabel: RetLabel = (ret) => {
      const l = rets.get(ret) ?? p.label();
      rets.set(ret, l);
      return l;
    };
    for (const b of this.blocks.values()) {
      p.place(b.label);
      leaf(p, b.handler, b.arch, retLabel);
    }
    for (const [ret, label] of rets) {
      p.place(label);
      p.insn(RET_K, ret);
    }
  }
}

function dispatch(p: Program, policy: Policy, arch: ArchInfo, segs: readonly Segment[], pool: SharedBlocks): void {
  // Islands: the ranges whose handling differs from the default; everything between falls through.
  const islands: Array<{ start: number; end: number; handler: Handler }> = [];
  segs.forEach((s, i) => {
    if (s.handler.t === 'action' && sameAction(s.handler.action, policy.defaultAction)) return;
    islands.push({ start: s.start, end: i + 1 < segs.length ? segs[i + 1].start : 2 ** 32, handler: s.handler });
  });
  const tree = (lo: number, hi: number): void => {
    if (hi - lo <= CHAIN) { chain(lo, hi); return; }
    const mid = (lo + hi) >> 1;
    const left = p.label();
    const right = p.label();
    p.jump(BPF_JMP_OP.JGE, islands[mid].start, right, left);
    p.place(left);
    tree(lo, mid);
    p.place(right);
    tree(mid, hi);
  };
  // A few islands tested one after another; returns shared within the chain.
  const chain = (lo: number, hi: number): void => {
    const rets = new Map<number, Label>();
    const retLabel: RetLabel = (ret) => {
      const l = rets.get(ret) ?? p.label();
      rets.set(ret, l);
      return l;
    };
    const blocks: Array<{ label: Label; handler: Handler }> = [];
    for (let i = lo; i < hi; i++) {
      const { start, end, handler } = islands[i];
      let target: Label;
      if (handler.t === 'action') {
        target = retLabel(actionToRet(handler.action));
      } else {
        const pooled = pool.label(p, handler, arch);
        if (pooled !== undefined) {
          target = pooled;
        } else {
          target = p.label();
          blocks.push({ label: target, handler });
        }
      }
      const next = p.label();
      if (end - start === 1) {
        p.jump(BPF_JMP_OP.JEQ, start, target, next);
      } else {
        if (end < 2 ** 32) {
          const inRange = p.label();
          p.jump(BPF_JMP_OP.JGE, end, next, inRange);
          p.place(inRange);
        }
        p.jump(BPF_JMP_OP.JGE, start, target, next);
      }
      p.place(next);
    }
    p.insn(RET_K, actionToRet(policy.defaultAction));
    for (const b of blocks) {
      p.place(b.label);
      leaf(p, b.handler, arch, retLabel);
    }
    for (const [ret, label] of rets) {
      p.place(label);
      p.insn(RET_K, ret);
    }
  };
  tree(0, islands.length);
}

/** Returns share one `ret` per value within a chain; `retLabel` hands out its label. */
type RetLabel = (ret: number) => Label;

function leaf(p: Program, h: Handler, arch: ArchInfo, retLabel: RetLabel): void {
  if (h.t === 'action') { p.ja(retLabel(actionToRet(h.action))); return; }
  h.rules.forEach((r, ri) => {
    const last = ri === h.rules.length - 1;
    // The last rule's failure goes straight to the fallback's shared ret.
    const fail = last ? retLabel(actionToRet(h.otherwise)) : p.label();
    r.args.forEach((c, ci) => {
      const final = ci === r.args.length - 1;
      const pass = final ? retLabel(actionToRet(r.action)) : p.label();
      condition(p, c, arch, pass, fail);
      if (!final) p.place(pass);
    });
    if (!last) p.place(fail);
  });
}
