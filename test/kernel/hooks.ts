/** The hooks fixture (test/kernel/bpf/hooks.bpf.c), compiled once and parsed. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBpf } from '../../examples/build.js';
import { loadCollectionSpec, type CollectionSpec } from '../../src/elf/index.js';

export const HOOKS_SRC = join(dirname(fileURLToPath(import.meta.url)), 'bpf/hooks.bpf.c');

export function hooksObject(): string {
  return compileBpf(HOOKS_SRC);
}

export function hooksSpec(): CollectionSpec {
  return loadCollectionSpec(new Uint8Array(readFileSync(hooksObject())));
}

export const SLOT = { XDP: 0, TCX: 1, SOCK: 2, CGROUP: 3, PERF: 4, TP_BTF: 5, FENTRY: 6, RAWTP: 7, SOCK_CREATE: 8 } as const;

export const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
export const u64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
