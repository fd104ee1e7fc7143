/**
 * Argument conditions in classic BPF. seccomp_data holds 64-bit arguments,
 * cBPF compares 32-bit words, so each test looks at the high word first and
 * at the low word only when the high words leave the answer open. 32-bit
 * ABIs pass 32-bit arguments: only the low word is compared there.
 */
import { BPF_ALU_OP, BPF_CLASS, BPF_JMP_OP, BPF_MODE, BPF_SIZE, BPF_SRC } from '../cbpf/insn.js';
import type { ArchInfo } from './arch.js';
import { argWordOffsets } from './data.js';
import type { Label, Program } from './layout.js';
import type { ArgCondition, Rule } from './policy.js';

const LD_W_ABS = BPF_CLASS.LD | BPF_SIZE.W | BPF_MODE.ABS;
const AND_K = BPF_CLASS.ALU | BPF_ALU_OP.AND | BPF_SRC.K;

/** A condition's fate known at compile time, for the ABI's argument width. */
function constantCondition(c: ArgCondition, bits: 32 | 64): boolean | undefined {
  const max = bits === 32 ? 0xffffffffn : 0xffffffffffffffffn;
  const v = c.value & max;
  switch (c.op) {
    case 'masked_eq': return v === 0n ? true : undefined; // (arg & 0) == (datum & 0)
    case 'ge': return v === 0n ? true : undefined;
    case 'lt': return v === 0n ? false : undefined;
    case 'le': return v === max ? true : undefined;
    case 'gt': return v === max ? false : undefined;
    default: return undefined;
  }
}

/** Drops conditions that always hold and rules with one that never does. */
export function simplify(rules: readonly Rule[], bits: 32 | 64): Rule[] {
  const out: Rule[] = [];
  for (const r of rules) {
    const fates = r.args.map((c) => constantCondition(c, bits));
    if (fates.includes(false)) continue;
    out.push(fates.includes(true) ? { ...r, args: r.args.filter((_, i) => fates[i] === undefined) } : r);
  }
  return out;
}

const hiWord = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const loWord = (v: bigint) => Number(v & 0xffffffffn);

/** Jumps to `pass` when the condition holds, to `fail` otherwise; clobbers A. */
export function condition(p: Program, c: ArgCondition, arch: ArchInfo, pass: Label, fail: Label): void {
  const { lo, hi } = argWordOffsets(c.index, arch.endian);
  const { JEQ, JGT, JGE } = BPF_JMP_OP;
  const v = c.value;
  if (arch.bits === 32) {
    // A 32-bit ABI passes 32-bit arguments: compare the low word only.
    p.insn(LD_W_ABS, lo);
    switch (c.op) {
      case 'eq': p.jump(JEQ, loWord(v), pass, fail); break;
      case 'ne': p.jump(JEQ, loWord(v), fail, pass); break;
      case 'gt': p.jump(JGT, loWord(v), pass, fail); break;
      case 'ge': p.jump(JGE, loWord(v), pass, fail); break;
      case 'lt': p.jump(JGE, loWord(v), fail, pass); break;
      case 'le': p.jump(JGT, loWord(v), fail, pass); break;
      case 'masked_eq':
        p.insn(AND_K, loWord(v));
        p.jump(JEQ, loWord((c.valueTwo ?? 0n) & v), pass, fail);
        break;
    }
    return;
  }
  const low = p.label();
  switch (c.op) {
    case 'eq':
    case 'ne': {
      const [yes, no] = c.op === 'eq' ? [pass, fail] : [fail, pass];
      p.insn(LD_W_ABS, hi);
      p.jump(JEQ, hiWord(v), low, no);
      p.place(low);
      p.insn(LD_W_ABS, lo);
      p.jump(JEQ, loWord(v), yes, no);
      return;
    }
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      // Ordered on (hi, lo): the high words decide unless they are equal.
      const greater = c.op === 'gt' || c.op === 'ge';
      const [above, below] = greater ? [pass, fail] : [fail, pass];
      const eqHi = p.label();
      p.insn(LD_W_ABS, hi);
      if (hiWord(v) !== 0xffffffff) p.jump(JGT, hiWord(v), above, eqHi); // nothing is above the top word
      p.place(eqHi);
      p.jump(JEQ, hiWord(v), low, below);
      p.place(low);
      p.insn(LD_W_ABS, lo);
      // gt: lo > v; ge: lo >= v; lt = !ge; le = !gt.
      const op = c.op === 'gt' || c.op === 'le' ? JGT : JGE;
      p.jump(op, loWord(v), above, below);
      return;
    }
    case 'masked_eq': {
      const want = (c.valueTwo ?? 0n) & v; // libseccomp's reading: the datum is masked too
      // A half whose mask is zero always matches (want is masked too); simplify() removed the all-zero mask.
      const checkLo = loWord(v) !== 0;
      if (hiWord(v) !== 0) {
        p.insn(LD_W_ABS, hi);
        p.insn(AND_K, hiWord(v));
        p.jump(JEQ, hiWord(want), checkLo ? low : pass, fail);
      }
      if (checkLo) {
        p.place(low);
        p.insn(LD_W_ABS, lo);
        p.insn(AND_K, loWord(v));
        p.jump(JEQ, loWord(want), pass, fail);
      }
      return;
    }
  }
}
