import type { Insn } from '../isa/index.js';
import type { AddressSpace } from './memory.js';
import { Vm, type CallResult, type RunResult, type VmOptions } from './vm.js';

/** Execution engines: the reference interpreter, or the WebAssembly JIT. */
export type Engine = 'interp' | 'jit';

export const ENGINES: readonly Engine[] = ['interp', 'jit'];

export function isEngine(name: string): name is Engine {
  return (ENGINES as readonly string[]).includes(name);
}

/** A program prepared for repeated runs, whichever engine runs it (Vm is the interpreter's). */
export interface PreparedProgram {
  /** The engine that actually runs it. */
  readonly engine: Engine;
  readonly space: AddressSpace;
  /** Conformance convention: `mem` copied into a writable region, r1 = its address, r2 = its length. */
  run(mem?: Uint8Array, options?: { budget?: number }): RunResult;
  /** Run from the entry with r1..r5 = args. */
  call(args?: readonly (number | bigint)[], options?: { budget?: number }): CallResult;
}

/** Prepares a program on one engine. */
export type EngineFactory = (program: readonly Insn[] | Uint8Array, options: VmOptions) => PreparedProgram;

/**
 * Engines by name. The interpreter is always here; the WebAssembly JIT lives
 * in src/jit (which depends on this layer, not the reverse) and joins with
 * registerEngine('jit', compile).
 */
const registry = new Map<Engine, EngineFactory>([['interp', (program, options) => new Vm(program, options)]]);

/** Make `engine` available to prepare(); returns a function that undoes it. */
export function registerEngine(engine: Engine, factory: EngineFactory): () => void {
  const previous = registry.get(engine);
  registry.set(engine, factory);
  return () => {
    if (previous) registry.set(engine, previous);
    else registry.delete(engine);
  };
}

/**
 * The engine that will actually run a program when `requested` is asked for:
 * an engine nobody registered (the JIT, until src/jit registers it) falls
 * back to the interpreter.
 */
export function resolveEngine(requested: Engine = 'interp'): Engine {
  return registry.has(requested) ? requested : 'interp';
}

/** Prepare a program for repeated runs on the chosen engine (see resolveEngine). */
export function prepare(program: readonly Insn[] | Uint8Array, options: VmOptions & { readonly engine?: Engine } = {}): PreparedProgram {
  return registry.get(resolveEngine(options.engine))!(program, options);
}
