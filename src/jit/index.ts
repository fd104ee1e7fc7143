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
 * It is the default engine: src/vm's prepare() builds JitPrograms (falling
 * back to the interpreter only where WebAssembly refuses a module). Helpers
 * call back into the program through HelperContext.callFunction (the
 * module exports `callback(slot, pc)`, which runs a function one frame
 * deeper); tail calls are the runtime's: bpf_tail_call halts the program
 * and the runtime starts the target, on either engine.
 *
 * `inlineHelpers` compiles hot helpers into the module (an emitter per
 * helper id, used instead of the host call).
 */
export { compile, runJit, JitProgram, type JitOptions } from './program.js';
export { analyse, translate, type Translation, type TranslateOptions, type ProgramShape, type InlineHelper } from './translate.js';
export { JitCompileError } from './errors.js';
export { ModuleBuilder, Code, ByteWriter, Op, I32, I64, F64 } from './wasm.js';
