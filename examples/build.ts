/**
 * Compiles the examples' BPF C (examples/<name>/<name>.bpf.c) with clang-19
 * into build/examples/, with a vmlinux.h generated from the running
 * kernel's BTF (`bpftool btf dump ... format c`) into build/. Rebuilds only
 * when the source changed (keyed by its hash). Run directly to build all.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'build/examples');
export const EXAMPLES = ['killsecret', 'icmpcount', 'tcpstates', 'syscount', 'xdpdrop'] as const;
/** Objects compiled like the examples but driven by bench/ (no main.ts). */
export const BENCH_OBJECTS = ['ringbench'] as const;
export type ExampleName = (typeof EXAMPLES)[number] | (typeof BENCH_OBJECTS)[number];

function vmlinuxH(): string {
  const path = join(ROOT, 'build/vmlinux.h');
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 1 << 30 });
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }
  return dirname(path);
}

/** Path of the compiled object for example `name`, compiling it when needed. */
export function exampleObject(name: ExampleName): string {
  return compileBpf(join(ROOT, 'examples', name, `${name}.bpf.c`));
}

/** Compile any BPF C file that includes vmlinux.h into build/examples (cached by content hash). */
export function compileBpf(src: string): string {
  const name = src.replace(/^.*\//, '').replace(/\.bpf\.c$/, '');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const out = join(OUT, `${name}-${hash}.bpf.o`);
  if (existsSync(out)) return out;
  mkdirSync(OUT, { recursive: true });
  const inc = vmlinuxH();
  execFileSync(process.env.CLANG ?? 'clang-19', ['-target', 'bpf', '-O2', '-g', `-I${inc}`, '-c', src, '-o', `${out}.tmp`], { stdio: 'pipe' });
  renameSync(`${out}.tmp`, out);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const n of EXAMPLES) console.log(exampleObject(n));
}
