/**
 * Instruction buffer with symbolic labels: jumps name a label and are
 * resolved to slot offsets by `finish()`. Each instruction remembers the
 * script span it was generated for, so a verifier complaint about
 * instruction N can point back at the line that produced it.
 */
import type { Insn, JmpCond, Reg, Source } from '../isa/index.js';
import type { Loc } from './errors.js';

export type Label = number;

type Pending =
  | { readonly insn: Insn; readonly loc: Loc | undefined }
  | { readonly jump: { cond: JmpCond | 'ja'; dst: Reg; src: Source; target: Label }; readonly loc: Loc | undefined }
  | { readonly label: Label }
  /** lddw dst, function at label (BPF_PSEUDO_FUNC: a callback for a helper). */
  | { readonly func: { dst: Reg; target: Label }; readonly loc: Loc | undefined };

export class Emitter {
  private readonly items: Pending[] = [];
  private nextLabel = 0;
  private readonly used = new Set<Label>();
  loc: Loc | undefined;

  /** Does some jump or function address name this label? */
  referenced(label: Label): boolean {
    return this.used.has(label);
  }

  emit(...insns: Insn[]): void {
    for (const insn of insns) this.items.push({ insn, loc: this.loc });
  }

  newLabel(): Label {
    return this.nextLabel++;
  }

  place(label: Label): void {
    this.items.push({ label });
  }

  jump(cond: JmpCond, dst: Reg, src: Source, target: Label): void {
    this.used.add(target);
    this.items.push({ jump: { cond, dst, src, target }, loc: this.loc });
  }

  funcAddr(dst: Reg, target: Label): void {
    this.used.add(target);
    this.items.push({ func: { dst, target }, loc: this.loc });
  }

  goto(target: Label): void {
    this.used.add(target);
    this.items.push({ jump: { cond: 'ja', dst: 0, src: 0, target }, loc: this.loc });
  }

  /**
   * The program, for each instruction (by slot) the span it came from, and
   * the first slot of every function a funcAddr named (subprograms).
   */
  finish(): { insns: Insn[]; slotLocs: (Loc | undefined)[]; functions: number[] } {
    const labelSlot = new Map<Label, number>();
    let slot = 0;
    for (const it of this.items) {
      if ('label' in it) labelSlot.set(it.label, slot);
      else if ('insn' in it) slot += it.insn.kind === 'lddw' ? 2 : 1;
      else if ('func' in it) slot += 2;
      else slot += 1;
    }
    const insns: Insn[] = [];
    const slotLocs: (Loc | undefined)[] = [];
    slot = 0;
    for (const it of this.items) {
      if ('label' in it) continue;
      if ('insn' in it) {
        insns.push(it.insn);
        slotLocs.push(it.loc);
        if (it.insn.kind === 'lddw') slotLocs.push(it.loc);
        slot += it.insn.kind === 'lddw' ? 2 : 1;
        continue;
      }
      if ('func' in it) {
        const target = labelSlot.get(it.func.target);
        if (target === undefined) throw new Error(`internal: label ${it.func.target} never placed`);
        // The kernel finds the function at the lddw's slot + imm + 1.
        insns.push({ kind: 'lddw', dst: it.func.dst, pseudo: 'func', imm: BigInt.asUintN(32, BigInt(target - (slot + 1))) });
        slotLocs.push(it.loc, it.loc);
        slot += 2;
        continue;
      }
      const target = labelSlot.get(it.jump.target);
      if (target === undefined) throw new Error(`internal: label ${it.jump.target} never placed`);
      const off = target - (slot + 1);
      const j = it.jump;
      insns.push(j.cond === 'ja' ? { kind: 'ja', long: false, off } : { kind: 'jmp', width: 64, cond: j.cond, dst: j.dst, src: j.src, off });
      slotLocs.push(it.loc);
      slot += 1;
    }
    const functions = [...new Set(this.items.flatMap((it) => ('func' in it ? [labelSlot.get(it.func.target)!] : [])))].sort((a, b) => a - b);
    return { insns, slotLocs, functions };
  }
}
