/**
 * Live collections on the VM: `loadCollection(spec)` creates an object's
 * maps in one address space, relocates its programs against them and
 * prepares them with the helpers their type may call; `loadObject(bytes)`
 * does the same from an ELF file. Programs run on packets (XDP, tc,
 * socket filter, cgroup skb), raw contexts or memory, following tail calls,
 * and report r0, the verdict's name, the packet after the run and the
 * trace_printk output: a unit-test API for eBPF programs.
 */
export { VmCollection, loadCollection, type LoadCollectionOptions, type MapDump } from './collection.js';
export { VmProgram, type ProgramRunInput, type ProgramRunResult } from './program.js';
export { loadObject, loadObjectSync } from './object.js';
export { RuntimeLoadError, RuntimeInputError } from './errors.js';
