/**
 * The part of the WebAssembly JavaScript API the JIT uses. The project's lib
 * settings (ES2022, no DOM) do not declare WebAssembly, so it is reached
 * through globalThis with these types.
 */
import type { LinearMemory } from '../vm/index.js';

export interface WasmModule {
  readonly __brand: 'WebAssembly.Module';
}

export interface WasmGlobal {
  value: number | bigint;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type ImportObject = Record<string, Record<string, LinearMemory | ((...args: number[]) => void)>>;

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => LinearMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: ImportObject) => WasmInstance;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The host's WebAssembly now, or undefined where there is none (or it was taken away). */
export function hostWasm(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}
