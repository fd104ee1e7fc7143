/**
 * Linking one program: its function first, then every function it calls
 * (directly, transitively, or by address for callbacks) appended after
 * it, as libbpf does; call offsets are rewritten for the new layout and
 * map, global data and extern references become relocations by name.
 */
import type { BtfExt } from '../btf/ext.js';
import { slotIndex, type Insn } from '../isa/index.js';
import type { CodeFunction, CodeSection } from './code.js';
import { ElfError } from './errors.js';
import { SHN, type ElfFile, type ElfRelocation } from './file.js';
import type {
  ExternSpec, ProgramCoreRelocation, ProgramFuncInfo, ProgramFunction, ProgramLineInfo, ProgramRelocation,
} from './spec.js';

/** What a symbol's section is, for resolving lddw relocations. */
export type SectionRole = 'btf_maps' | 'legacy_maps' | 'data' | 'code' | 'other';

export interface LinkContext {
  readonly elf: ElfFile;
  readonly code: ReadonlyMap<number, CodeSection>;
  readonly roles: ReadonlyMap<number, SectionRole>;
  readonly externs: ReadonlyMap<string, ExternSpec>;
  readonly ext: BtfExt | undefined;
}

export interface LinkedProgram {
  readonly insns: Insn[];
  readonly functions: ProgramFunction[];
  readonly relocations: ProgramRelocation[];
  readonly funcInfo: ProgramFuncInfo[];
  readonly lineInfo: ProgramLineInfo[];
  readonly coreRelocations: ProgramCoreRelocation[];
}

interface Fixup {
  readonly at: number;
  readonly target: number;
  readonly kind: 'call' | 'func_addr';
}

export function linkProgram(ctx: LinkContext, main: CodeFunction): LinkedProgram {
  const insns: Insn[] = [];
  const functions: ProgramFunction[] = [];
  const relocations: ProgramRelocation[] = [];
  const funcInfo: ProgramFuncInfo[] = [];
  const lineInfo: ProgramLineInfo[] = [];
  const coreRelocations: ProgramCoreRelocation[] = [];
  const placed = new Map<CodeFunction, number>();
  const fixups: Fixup[] = [];

  // Depth first, like libbpf: a subprogram is appended and processed at its
  // first call, before the caller's remaining instructions.
  const place = (f: CodeFunction): number => {
    let base = placed.get(f);
    if (base !== undefined) return base;
    base = insns.length;
    placed.set(f, base);
    for (let k = f.start; k < f.end; k++) insns.push(f.section.insns[k]);
    functions.push({ name: f.name, section: f.section.section.name, insn: base });
    process(f, base);
    return base;
  };

  const functionAt = (sec: CodeSection | undefined, slot: number, from: string, where: number): CodeFunction => {
    const idx = sec && slot >= 0 && slot < sec.insnAtSlot.length ? sec.insnAtSlot[slot] : -1;
    const f = idx >= 0 ? sec!.functions.find((g) => g.start === idx) : undefined;
    if (!f) throw new ElfError(`${from}: target (slot ${slot}${sec ? ` of '${sec.section.name}'` : ''}) is not the start of a function`, where, sec?.section.name);
    return f;
  };

  function process(f: CodeFunction, base: number): void {
    const sec = f.section;
    const secName = sec.section.name;
    for (let k = f.start; k < f.end; k++) {
      const at = base + (k - f.start);
      const insn = sec.insns[k];
      const slot = sec.slots[k];
      const rel = sec.relocations.get(slot);
      const where = sec.section.offset + slot * 8;
      const from = `'${f.name}' instruction ${k - f.start}`;
      if (insn.kind === 'call_local' || (rel && insn.kind === 'call')) {
        const imm = insn.kind === 'call_local' ? insn.off : insn.helper;
        if (rel) {
          const sym = ctx.elf.symbols[rel.symbol];
          if (sym.section === SHN.UNDEF) {
            const e = ctx.externs.get(sym.name);
            relocations.push({ kind: 'kfunc', insn: at, name: sym.name, weak: e?.weak ?? sym.binding === 'weak' });
            insns[at] = { kind: 'call_kfunc', btfId: 0, module: 0 };
            continue;
          }
          const g = functionAt(ctx.code.get(sym.section), sym.value / 8 + imm + 1, from, where);
          fixups.push({ at, target: place(g), kind: 'call' });
          relocations.push({ kind: 'call', insn: at, function: g.name });
        } else {
          const g = functionAt(sec, slot + imm + 1, from, where);
          fixups.push({ at, target: place(g), kind: 'call' });
          relocations.push({ kind: 'call', insn: at, function: g.name });
        }
        continue;
      }
      if (!rel) continue;
      if (insn.kind !== 'lddw') throw new ElfError(`${from}: relocation on a ${insn.kind} instruction`, where, secName);
      resolveLoad(ctx, rel, insn.imm, at, from, where, secName, insns, relocations, (slotTarget, symSection) => {
        const g = functionAt(ctx.code.get(symSection), slotTarget, from, where);
        fixups.push({ at, target: place(g), kind: 'func_addr' });
        relocations.push({ kind: 'func_addr', insn: at, function: g.name });
      });
    }
    if (ctx.ext) collectExt(ctx.ext, f, base, funcInfo, lineInfo, coreRelocations);
  }
  place(main);

  const byInsn = <T extends { insn: number }>(a: T, b: T): number => a.insn - b.insn;
  relocations.sort(byInsn);
  funcInfo.sort(byInsn);
  lineInfo.sort(byInsn);
  coreRelocations.sort(byInsn);
  const slots = slotIndex(insns);
  for (const fx of fixups) {
    const rel = slots[fx.target] - (slots[fx.at] + 1);
    insns[fx.at] = fx.kind === 'call' ? { kind: 'call_local', off: rel } : { kind: 'lddw', dst: (insns[fx.at] as Extract<Insn, { kind: 'lddw' }>).dst, pseudo: 'func', imm: BigInt(rel >>> 0) };
  }
  return { insns, functions, relocations, funcInfo, lineInfo, coreRelocations };
}

function resolveLoad(
  ctx: LinkContext, rel: ElfRelocation, imm: bigint, at: number, from: string, where: number, secName: string,
  insns: Insn[], relocations: ProgramRelocation[], funcAddr: (slot: number, section: number) => void,
): void {
  const sym = ctx.elf.symbols[rel.symbol];
  const insn = insns[at] as Extract<Insn, { kind: 'lddw' }>;
  const low = Number(BigInt.asIntN(32, imm));
  if (sym.section === SHN.UNDEF) {
    const e = ctx.externs.get(sym.name);
    if (e?.kind === 'kconfig') {
      relocations.push({ kind: 'map_value', insn: at, map: '.kconfig', offset: e.offset + low });
      insns[at] = { ...insn, pseudo: 'map_value', imm: BigInt(e.offset + low) << 32n };
    } else {
      relocations.push({ kind: 'ksym', insn: at, name: sym.name, weak: e?.weak ?? sym.binding === 'weak' });
    }
    return;
  }
  const role = ctx.roles.get(sym.section) ?? 'other';
  switch (role) {
    case 'btf_maps':
    case 'legacy_maps':
      if (sym.type === 'section') throw new ElfError(`${from}: map reference through a section symbol`, where, secName);
      relocations.push({ kind: 'map', insn: at, map: sym.name });
      insns[at] = { ...insn, pseudo: 'map_fd', imm: 0n };
      return;
    case 'data': {
      const offset = sym.value + low;
      const map = ctx.elf.sections[sym.section].name;
      relocations.push({ kind: 'map_value', insn: at, map, offset });
      insns[at] = { ...insn, pseudo: 'map_value', imm: BigInt(offset) << 32n };
      return;
    }
    case 'code':
      funcAddr((sym.value + low) / 8, sym.section);
      return;
    default:
      throw new ElfError(`${from}: reference to '${sym.name || ctx.elf.sections[sym.section]?.name}' in a section that is neither maps, data nor code`, where, secName);
  }
}

function collectExt(ext: BtfExt, f: CodeFunction, base: number, funcInfo: ProgramFuncInfo[], lineInfo: ProgramLineInfo[], core: ProgramCoreRelocation[]): void {
  const sec = f.section;
  const name = sec.section.name;
  const lo = sec.slots[f.start] * 8;
  const hi = sec.slots[f.end] * 8;
  const toInsn = (byteOff: number): number => {
    const i = byteOff % 8 === 0 ? sec.insnAtSlot[byteOff / 8] : -1;
    return i < 0 ? -1 : base + (i - f.start);
  };
  for (const r of ext.funcInfo.get(name) ?? []) {
    if (r.insnOff < lo || r.insnOff >= hi) continue;
    const insn = toInsn(r.insnOff);
    if (insn >= 0) funcInfo.push({ insn, typeId: r.typeId });
  }
  for (const r of ext.lineInfo.get(name) ?? []) {
    if (r.insnOff < lo || r.insnOff >= hi) continue;
    const insn = toInsn(r.insnOff);
    if (insn >= 0) lineInfo.push({ insn, fileName: r.fileName, line: r.line, lineNumber: r.lineNumber, column: r.column });
  }
  for (const r of ext.coreRelocations.get(name) ?? []) {
    if (r.insnOff < lo || r.insnOff >= hi) continue;
    const insn = toInsn(r.insnOff);
    if (insn >= 0) core.push({ insn, typeId: r.typeId, accessStr: r.accessStr, kind: r.kind });
  }
}
