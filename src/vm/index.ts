/**
 * The userspace eBPF virtual machine: a sandboxed address space (one
 * WebAssembly linear memory split into checked regions, shared with the
 * WebAssembly JIT), the reference interpreter with RFC 9669 semantics plus
 * Linux's additions, and the helper ABI hosts use to provide helpers.
 *
 * `run(program, { mem })` runs once with the conformance-suite convention
 * (r1 = input memory, r2 = its length); `new Vm(program, options)` prepares a
 * program for repeated runs on the interpreter, and `prepare(program,
 * { engine })` on either engine: the WebAssembly JIT (src/jit) by default.
 * See https://www.rfc-editor.org/rfc/rfc9669.
 */
export { run, Vm, DEFAULT_BUDGET, INPUT_REGION, type RunOptions, type RunResult, type VmOptions, type CallResult } from './vm.js';
export { AddressSpace, type LinearMemory, type Region, type MapOptions, type AddressSpaceOptions } from './memory.js';
export type { Helper, HelperTable, HelperContext, ArgIndex, CallbackRunner } from './helpers.js';
export { type Engine, type EngineFactory, type PreparedProgram, ENGINES, DEFAULT_ENGINE, isEngine, resolveEngine, prepare, registerEngine } from './engine.js';
export { MAY_GOTO_BUDGET } from './interpreter.js';
export * from './errors.js';
export type { VerifiedFacts } from './verified.js';
export {
  NULL_GUARD, STACK_SIZE, MAX_FRAMES, STACK_BASE, STACK_STRIDE, HEAP_BASE, PAGE_SIZE, framePointer,
} from './layout.js';
