import type { Insn } from '../isa/index.js';
import { JitCompileError } from '../jit/errors.js';
import { JitProgram } from '../jit/program.js';
import type { AddressSpace } from './memory.js';
import { Vm, type CallResult, type RunResult, type VmOptions } from './vm.js';

/** Execution engines: the reference interpreter, or the WebAssembly JIT. */
export type Engine = 'interp' | 'jit';

export const ENGINES: readonly Engine[] = ['interp', 'jit'];

/** The engine programs run on when the caller does not choose. */
export const DEFAULT_ENGINE: Engine = 'jit';

export function isEngine(name: string): name is Engine {
  return (ENGINES as readonly string[]).includes(name);
}

/** A program prepared for repeated runs, whichever engine runs it (Vm is the interpreter's). */
export interface PreparedProgram {
  /** The engine that actually runs it. */
  readonly engine: Engine;
  /**
   * Why it runs on another engine than the one asked for (the JIT refused
   * the program, or this platform has no WebAssembly); undefined otherwise.
   */
  readonly fallback?: string;
  readonly space: AddressSpace;
  /** Conformance convention: `mem` copied into a writable region, r1 = its address, r2 = its length. */
  run(mem?: Uint8Array, options?: { budget?: number }): RunResult;
  /** Run from the entry with r1..r5 = args. */
  call(args?: readonly (number | bigint)[], options?: { budget?: number }): CallResult;
}

/** Prepares a program on one engine. */
export type EngineFactory = (program: readonly Insn[] | Uint8Array, options: VmOptions) => PreparedProgram;

const hasWebAssembly = typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === 'object';

/**
 * The JIT, falling back to the interpreter where it cannot run the program:
 * both engines give identical results, so the fallback is only visible in
 * `engine` and `fallback`. Errors of the program itself (bad jumps, unknown
 * opcodes) are the same from both and are not caught.
 */
function jitOrInterp(program: readonly Insn[] | Uint8Array, options: VmOptions): PreparedProgram {
  if (!hasWebAssembly) return withFallback(new Vm(program, options), 'this platform has no WebAssembly');
  try {
    return new JitProgram(program, options);
  } catch (e) {
    if (!(e instanceof JitCompileError)) throw e;
    return withFallback(new Vm(program, options), e.message);
  }
}

function withFallback(vm: Vm, why: string): PreparedProgram {
  Object.defineProperty(vm, 'fallback', { value: why, enumerable: true });
  return vm;
}

/**
 * Engines by name. Both built-in engines are here, so the portable library
 * runs programs on the JIT with no set-up. src/jit is a sibling layer that
 * depends only on src/vm's leaf modules (memory, errors, helpers, lower,
 * vm), never on this registry or src/vm/index at evaluation time, so the
 * static import above forms no cycle. registerEngine replaces an engine
 * (tests, instrumented engines).
 */
const registry = new Map<Engine, EngineFactory>([
  ['interp', (program, options) => new Vm(program, options)],
  ['jit', jitOrInterp],
]);

/** Make `engine` available to prepare() (or replace it); returns a function that undoes it. */
export function registerEngine(engine: Engine, factory: EngineFactory): () => void {
  const previous = registry.get(engine);
  registry.set(engine, factory);
  return () => {
    if (previous) registry.set(engine, previous);
    else registry.delete(engine);
  };
}

/**
 * The engine that will be asked to run a program when `requested` is (the
 * default engine when none is): an engine removed from the registry falls
 * back to the interpreter. The JIT itself may still fall back to the
 * interpreter for one program (see PreparedProgram.fallback).
 */
export function resolveEngine(requested: Engine = DEFAULT_ENGINE): Engine {
  return registry.has(requested) ? requested : 'interp';
}

/** Prepare a program for repeated runs on the chosen engine (default: the JIT; see resolveEngine). */
export function prepare(program: readonly Insn[] | Uint8Array, options: VmOptions & { readonly engine?: Engine } = {}): PreparedProgram {
  return registry.get(resolveEngine(options.engine))!(program, options);
}
