/**
 * Classic BPF with symbolic jump targets, and the pass that turns it into
 * real instructions. cBPF conditional jumps carry 8-bit forward offsets, so a
 * target more than 255 instructions away is reached through a trampoline: an
 * unconditional `ja` (32-bit offset) placed right after the jump. Inserting
 * one only lengthens other jumps, so the pass repeats until nothing changes.
 */
import { BPF_CLASS, BPF_JMP_OP, BPF_SRC, type SockFilter } from '../cbpf/insn.js';
import { SeccompCompileError } from './errors.js';

export type Label = number & { readonly __label: unique symbol };

export type Item =
  | { readonly t: 'label'; readonly label: Label }
  | { readonly t: 'insn'; readonly code: number; readonly k: number }
  | { t: 'jmp'; readonly code: number; readonly k: number; jt: Label; jf: Label }
  | { readonly t: 'ja'; readonly target: Label };

export class Program {
  readonly items: Item[] = [];
  private next = 0;

  label(): Label {
    return this.next++ as Label;
  }

  place(label: Label): void {
    this.items.push({ t: 'label', label });
  }

  insn(code: number, k = 0): void {
    this.items.push({ t: 'insn', code, k: k >>> 0 });
  }

  /** A conditional jump (BPF_JMP | op | BPF_K). */
  jump(op: number, k: number, jt: Label, jf: Label): void {
    this.items.push({ t: 'jmp', code: BPF_CLASS.JMP | op | BPF_SRC.K, k: k >>> 0, jt, jf });
  }

  ja(target: Label): void {
    this.items.push({ t: 'ja', target });
  }
}

const MAX_SHORT = 255;

/** Resolves labels, inserting trampolines for far targets. */
export function assemble(prog: Program): SockFilter[] {
  let items = prog.items.slice();
  let fresh = 1 << 30; // trampoline labels, above any the builder hands out
  for (;;) {
    const pos = positions(items);
    const out: Item[] = [];
    let changed = false;
    let index = 0;
    for (const it of items) {
      if (it.t === 'label') { out.push(it); continue; }
      if (it.t === 'jmp') {
        const far = (l: Label) => target(pos, l, index) - (index + 1) > MAX_SHORT;
        const farT = far(it.jt);
        const farF = far(it.jf);
        if (farT || farF) {
          changed = true;
          const jt = farT ? (fresh++ as Label) : it.jt;
          const jf = farF ? (fresh++ as Label) : it.jf;
          out.push({ t: 'jmp', code: it.code, k: it.k, jt, jf });
          if (farT) out.push({ t: 'label', label: jt }, { t: 'ja', target: it.jt });
          if (farF) out.push({ t: 'label', label: jf }, { t: 'ja', target: it.jf });
          index++;
          continue;
        }
      }
      out.push(it);
      index++;
    }
    items = out;
    if (!changed) break;
  }
  const pos = positions(items);
  const insns: SockFilter[] = [];
  for (const it of items) {
    const i = insns.length;
    switch (it.t) {
      case 'label': break;
      case 'insn': insns.push({ code: it.code, jt: 0, jf: 0, k: it.k }); break;
      case 'jmp': insns.push({ code: it.code, jt: target(pos, it.jt, i) - i - 1, jf: target(pos, it.jf, i) - i - 1, k: it.k }); break;
      case 'ja': insns.push({ code: BPF_CLASS.JMP | BPF_JMP_OP.JA, jt: 0, jf: 0, k: target(pos, it.target, i) - i - 1 }); break;
    }
  }
  return insns;
}

function positions(items: readonly Item[]): Map<Label, number> {
  const pos = new Map<Label, number>();
  let n = 0;
  for (const it of items) {
    if (it.t === 'label') pos.set(it.label, n);
    else n++;
  }
  return pos;
}

function target(pos: Map<Label, number>, l: Label, from: number): number {
  const p = pos.get(l);
  // Both are compiler bugs, not user errors; say so plainly rather than emit a bad filter.
  if (p === undefined) throw new SeccompCompileError(`internal: label ${l} never placed`);
  if (p <= from) throw new SeccompCompileError(`internal: backward jump at ${from}`);
  return p;
}
