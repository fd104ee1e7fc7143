/**
 * The runtime's C fixtures (test/fixtures/runtime/*.bpf.c), compiled with
 * clang-19 -target bpfel -O2 -g into build/fixtures (cached by content).
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBpf, readBytes } from '../helpers/fixtures.js';

export const RUNTIME_FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/runtime');

export function runtimeFixtureNames(): string[] {
  return readdirSync(RUNTIME_FIXTURES_DIR).filter((f) => f.endsWith('.bpf.c')).map((f) => f.slice(0, -'.bpf.c'.length)).sort();
}

/** Bytes of a compiled runtime fixture ('unit/unit' for the ones under unit/). */
export async function runtimeFixture(name: string): Promise<Uint8Array> {
  return readBytes(await runtimeFixturePath(name));
}

export async function runtimeFixturePath(name: string): Promise<string> {
  return compileBpf(join(RUNTIME_FIXTURES_DIR, `${name}.bpf.c`), 'el', [RUNTIME_FIXTURES_DIR]);
}
