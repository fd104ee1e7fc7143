/**
 * ELF objects as clang writes them for eBPF (-target bpfel / bpfeb): a
 * bounds-checked ELF64 reader and `loadCollectionSpec`, which turns an
 * object into a plain, machine-independent description of its programs
 * (linked with their subprograms), maps, global data and externs. Nothing
 * here touches the kernel; src/vm and src/kernel turn the spec into live
 * objects. Section names follow libbpf's conventions
 * (https://docs.kernel.org/bpf/libbpf/program_types.html).
 */
export { ElfError } from './errors.js';
export {
  readElf, isElf, BPF_RELOC, EM_BPF, SHF, SHN, SHT,
  type BpfRelocName, type ElfFile, type ElfRelocation, type ElfRelocationSection, type ElfSection, type ElfSymbol,
  type SymbolBinding, type SymbolType, type SymbolVisibility,
} from './file.js';
export { loadCollectionSpec, readObjectBtf } from './collection.js';
export { SECTION_DEFS, findSectionDef, attachTarget, type SectionDef } from './sections.js';
export { PROGRAM_TYPES, ATTACH_TYPES, MAP_TYPES, mapTypeFromNumber, type ProgramType, type AttachType, type MapType } from './kinds.js';
export { toLittleEndianInsns } from './code.js';
export { programListings, type ProgramListing } from './listing.js';
export type * from './spec.js';
export { applyCoreRelocations, CORE_POISON_HELPER, type AppliedCoreRelocation } from './core.js';
