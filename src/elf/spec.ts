/**
 * The collection spec: plain data describing an object's programs, maps
 * and globals. The same bytes give a deep-equal spec on any machine; it
 * never depends on the running kernel (that happens when it is loaded).
 */
import type { Btf } from '../btf/spec.js';
import type { CoreReloKind } from '../btf/ext.js';
import type { Insn } from '../isa/index.js';
import type { AttachType, MapType, ProgramType } from './kinds.js';

/** A place in a program's instruction stream the loader must fill in. `insn` indexes ProgramSpec.insns. */
export type ProgramRelocation =
  /** lddw of a map's file descriptor (BPF_PSEUDO_MAP_FD). */
  | { readonly kind: 'map'; readonly insn: number; readonly map: string }
  /** lddw of an address inside a map's value (BPF_PSEUDO_MAP_VALUE): global data, .kconfig. */
  | { readonly kind: 'map_value'; readonly insn: number; readonly map: string; readonly offset: number }
  /** lddw of a kernel symbol (.ksyms extern): its address or BTF id, resolved at load. */
  | { readonly kind: 'ksym'; readonly insn: number; readonly name: string; readonly weak: boolean }
  /** call of a kernel function (kfunc) declared as an extern. */
  | { readonly kind: 'kfunc'; readonly insn: number; readonly name: string; readonly weak: boolean }
  /** bpf-to-bpf call, already linked: informational. */
  | { readonly kind: 'call'; readonly insn: number; readonly function: string }
  /** lddw of a function's address (BPF_PSEUDO_FUNC, callbacks), already linked. */
  | { readonly kind: 'func_addr'; readonly insn: number; readonly function: string };

export interface ProgramLineInfo {
  /** Instruction index in ProgramSpec.insns. */
  readonly insn: number;
  readonly fileName: string;
  readonly line: string;
  readonly lineNumber: number;
  readonly column: number;
}

export interface ProgramFuncInfo {
  readonly insn: number;
  readonly typeId: number;
}

export interface ProgramCoreRelocation {
  readonly insn: number;
  readonly typeId: number;
  readonly accessStr: string;
  readonly kind: CoreReloKind;
}

/** One function of the linked stream: the program itself at 0, then each subprogram appended. */
export interface ProgramFunction {
  readonly name: string;
  readonly section: string;
  /** First instruction index in ProgramSpec.insns. */
  readonly insn: number;
}

export interface ProgramSpec {
  readonly name: string;
  readonly section: string;
  readonly type: ProgramType;
  readonly attachType: AttachType;
  /** What the section names as target: 'do_unlinkat' in 'fentry/do_unlinkat'. */
  readonly attachTarget: string | undefined;
  readonly sleepable: boolean;
  readonly xdpFrags: boolean;
  readonly license: string;
  readonly kernelVersion: number;
  /** The main program followed by every subprogram it calls, calls fixed up. */
  readonly insns: readonly Insn[];
  readonly functions: readonly ProgramFunction[];
  readonly relocations: readonly ProgramRelocation[];
  readonly funcInfo: readonly ProgramFuncInfo[];
  readonly lineInfo: readonly ProgramLineInfo[];
  readonly coreRelocations: readonly ProgramCoreRelocation[];
}

export type MapOrigin = 'btf' | 'legacy' | 'data' | 'rodata' | 'bss' | 'kconfig' | 'struct_ops';
export type MapPinning = 'none' | 'by_name';

/**
 * An initial slot of a prog array or map-in-map (index -> program or map
 * name), or of a struct_ops map (member index -> program name).
 */
export interface MapInitialValue {
  readonly index: number;
  readonly name: string;
}

export interface MapSpec {
  readonly name: string;
  readonly origin: MapOrigin;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly pinning: MapPinning;
  readonly numaNode: number | undefined;
  readonly mapExtra: bigint;
  /** BTF type ids in the object's BTF (0: none). */
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  /** Template of the inner maps of a map-in-map. */
  readonly innerMap: MapSpec | undefined;
  readonly values: readonly MapInitialValue[];
  /**
   * Initial contents of a global data map (.data, .rodata, .bss, .kconfig)
   * or a struct_ops map: one value of valueSize bytes. Mutable on purpose:
   * set globals before load.
   */
  readonly data: Uint8Array | undefined;
  /** For global data maps: variable name -> offset and size inside `data`. */
  readonly variables: readonly GlobalVariable[];
}

export interface GlobalVariable {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** BTF type id of the variable's type (0 without BTF). */
  readonly typeId: number;
}

export type ExternKind = 'kconfig' | 'ksym';

export interface ExternSpec {
  readonly name: string;
  readonly kind: ExternKind;
  readonly weak: boolean;
  /** BTF id of the extern's declared type (its var's type, or its func), 0 if none. */
  readonly typeId: number;
  /** For kconfig externs: offset in the .kconfig map's value; else -1. */
  readonly offset: number;
  readonly size: number;
}

export interface CollectionSpec {
  readonly littleEndian: boolean;
  readonly license: string;
  readonly kernelVersion: number;
  readonly programs: ReadonlyMap<string, ProgramSpec>;
  readonly maps: ReadonlyMap<string, MapSpec>;
  readonly externs: readonly ExternSpec[];
  /** The object's BTF (datasec sizes and offsets filled in from the ELF), if any. */
  readonly btf: Btf | undefined;
}
