/**
 * The WebAssembly JIT: compiles eBPF to a WebAssembly module that shares the
 * interpreter's address space (the very same WebAssembly.Memory, addresses
 * and regions), so both engines give the same r0, memory and errors.
 *
 * `compile(program, options)` returns a JitProgram with the Vm API
 * (`run(mem)`, `call(args)`); compiled modules are cached per program.
 * `verified: true` drops the memory checks for programs the verifier
 * accepted.
 *
 * `repeat(args, n)` runs a program n times inside the module, as the
 * kernel's BPF_PROG_TEST_RUN does (the benchmark's measure).
 *
 * Hooks left for later: hot helpers (map lookup/update, ktime, prandom)
 * compiled into the module once the maps runtime exists, through
 * `inlineHelpers` (an emitter per helper id, used instead of the host
 * call); tail calls (bpf_tail_call would become a return with a "tail"
 * status and the program index, on which the entry wrapper loops into the
 * next program's function, in the same module or through a table).
 */
export { compile, runJit, JitProgram, type JitOptions } from './program.js';
export { analyse, translate, type Translation, type TranslateOptions, type ProgramShape, type InlineHelper } from './translate.js';
export { JitCompileError } from './errors.js';
export { ModuleBuilder, Code, ByteWriter, Op, I32, I64, F64 } from './wasm.js';
