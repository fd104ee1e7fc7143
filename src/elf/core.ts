/**
 * Applying a program's CO-RE relocations to its instructions, against a
 * target BTF (the kernel's, or any other): patch immediates and offsets,
 * adjust load sizes for fields whose size changed, and poison what cannot
 * be satisfied with libbpf's marker call (0xbad2310), so the verifier
 * rejects it only if that code is reachable.
 */
import { CoreError, resolveCoreRelocation, type CoreRelocationResult } from '../btf/core.js';
import type { Btf } from '../btf/spec.js';
import type { Insn } from '../isa/index.js';
import type { ProgramSpec } from './spec.js';

/** libbpf's poison marker: `call 0xbad2310` fails verification with a recognisable helper id. */
export const CORE_POISON_HELPER = 0xbad2310;

export interface AppliedCoreRelocation extends CoreRelocationResult {
  readonly insn: number;
}

function patch(insn: Insn, r: CoreRelocationResult, where: string): Insn {
  if (r.poison) {
    if (insn.kind === 'lddw') throw new CoreError(`${where}: cannot poison a 64-bit load (${r.description})`);
    return { kind: 'call', helper: CORE_POISON_HELPER };
  }
  const v = r.targetValue;
  switch (insn.kind) {
    case 'alu':
      if (typeof insn.src === 'number') throw new CoreError(`${where}: relocation on a register ALU instruction`);
      if (r.validate && BigInt(insn.src.imm) !== r.localValue) throw new CoreError(`${where}: instruction has ${insn.src.imm}, expected ${r.localValue} (${r.description})`);
      if (v < -0x80000000n || v > 0xffffffffn) throw new CoreError(`${where}: value ${v} does not fit a 32-bit immediate`);
      return { ...insn, src: { imm: Number(BigInt.asIntN(32, v)) } };
    case 'ldx': case 'st': case 'stx': {
      if (r.validate && BigInt(insn.off) !== r.localValue) throw new CoreError(`${where}: offset ${insn.off}, expected ${r.localValue} (${r.description})`);
      if (v > 0x7fffn) throw new CoreError(`${where}: offset ${v} does not fit 16 bits`);
      let size = insn.size;
      if (r.localSize && r.targetSize && r.targetSize !== r.localSize) {
        if (size !== r.localSize) throw new CoreError(`${where}: access size ${size} is not the field's size ${r.localSize}`);
        if (r.targetSize !== 1 && r.targetSize !== 2 && r.targetSize !== 4 && r.targetSize !== 8) throw new CoreError(`${where}: field size ${r.targetSize} cannot be loaded`);
        size = r.targetSize;
      }
      return { ...insn, off: Number(v), size } as Insn;
    }
    case 'lddw':
      if (r.validate && BigInt.asUintN(64, insn.imm) !== BigInt.asUintN(64, r.localValue)) throw new CoreError(`${where}: 64-bit load has ${insn.imm}, expected ${r.localValue} (${r.description})`);
      return { ...insn, imm: BigInt.asUintN(64, v) };
    default:
      throw new CoreError(`${where}: CO-RE relocation on a ${insn.kind} instruction`);
  }
}

/** The program's instructions with every CO-RE relocation applied for `target`. */
export function applyCoreRelocations(program: ProgramSpec, local: Btf, target: Btf): { insns: Insn[]; relocations: AppliedCoreRelocation[] } {
  const insns = program.insns.slice();
  const relocations: AppliedCoreRelocation[] = [];
  for (const relo of program.coreRelocations) {
    const where = `program '${program.name}' instruction ${relo.insn}`;
    let r: CoreRelocationResult;
    try {
      r = resolveCoreRelocation(local, target, relo);
    } catch (e) {
      if (e instanceof CoreError) throw new CoreError(`${where}: ${e.reason}`, { cause: e });
      throw e;
    }
    insns[relo.insn] = patch(insns[relo.insn], r, where);
    relocations.push({ ...r, insn: relo.insn });
  }
  return { insns, relocations };
}
