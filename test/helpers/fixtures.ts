/**
 * The C fixtures in test/fixtures/bpf, compiled once with clang-19 into
 * build/fixtures/ (ignored), keyed by a hash of the source and flags.
 * Missing clang-19 is a failure, not a skip: CI installs it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'test/fixtures/bpf');
export const FIXTURE_BUILD_DIR = join(ROOT, 'build/fixtures');

export const FIXTURE_NAMES = ['maps', 'globals', 'subprogs', 'sections', 'core', 'core_flavors', 'struct_ops', 'core_task'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];
export type Endian = 'el' | 'eb';

const CLANG = process.env.CLANG ?? 'clang-19';

function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let clangChecked = false;
function requireClang(): void {
  if (clangChecked) return;
  if (!hasTool(CLANG, ['--version'])) {
    throw new Error(`${CLANG} is required to build the BPF test fixtures: install clang-19 (apt-get install clang-19) or set CLANG`);
  }
  clangChecked = true;
}

const ARCH_INCLUDE: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/**
 * A vmlinux.h for the CO-RE fixture: `bpftool btf dump ... format c` of the
 * running kernel when possible, else our own generator's output.
 */
export async function vmlinuxHeader(): Promise<string> {
  const out = join(FIXTURE_BUILD_DIR, 'vmlinux.h');
  if (existsSync(out)) return out;
  mkdirSync(FIXTURE_BUILD_DIR, { recursive: true });
  let text: string;
  try {
    text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 1 << 30, encoding: 'utf8' });
  } catch {
    const { Btf } = await import('../../src/btf/index.js');
    const { dumpCHeader } = await import('../../src/btf/index.js');
    text = dumpCHeader(Btf.parse(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux'))));
  }
  writeFileSync(out + '.tmp', text);
  renameSync(out + '.tmp', out);
  return out;
}

/** Compile a C file to a BPF object with the project's flags (plus `extraFlags`); cached by content hash. */
export async function compileBpf(source: string, endian: Endian = 'el', extraIncludes: string[] = [], extraFlags: string[] = []): Promise<string> {
  requireClang();
  const text = readFileSync(source);
  const includes = [...extraIncludes];
  if (text.includes('"vmlinux.h"')) includes.push(dirname(await vmlinuxHeader()));
  const flags = ['-target', `bpf${endian}`, '-O2', '-g', '-mcpu=v3', `-I/usr/include/${ARCH_INCLUDE[arch()] ?? 'x86_64-linux-gnu'}`, ...includes.map((i) => `-I${i}`), ...extraFlags];
  const h = createHash('sha256').update(text).update(flags.join(' '));
  for (const inc of includes) if (existsSync(join(inc, 'vmlinux.h'))) h.update(readFileSync(join(inc, 'vmlinux.h')));
  const base = source.replace(/^.*\//, '').replace(/\.c$/, '');
  const out = join(FIXTURE_BUILD_DIR, `${base}.${endian}.${h.digest('hex').slice(0, 16)}.o`);
  if (existsSync(out)) return out;
  mkdirSync(FIXTURE_BUILD_DIR, { recursive: true });
  execFileSync(CLANG, [...flags, '-c', source, '-o', out + '.tmp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(out + '.tmp', out);
  return out;
}

/** Path of a compiled corpus object. */
export async function fixture(name: FixtureName, endian: Endian = 'el'): Promise<string> {
  return compileBpf(join(SRC, `${name}.bpf.c`), endian);
}

/** Every corpus object, little-endian, plus big-endian builds of those where byte order matters. */
export async function allFixtures(): Promise<{ name: FixtureName; endian: Endian; path: string }[]> {
  const out: { name: FixtureName; endian: Endian; path: string }[] = [];
  for (const name of FIXTURE_NAMES) out.push({ name, endian: 'el', path: await fixture(name, 'el') });
  for (const name of ['maps', 'globals', 'subprogs'] as const) out.push({ name, endian: 'eb', path: await fixture(name, 'eb') });
  return out;
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** Run a reference tool and return its stdout. */
export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
}

export function toolAvailable(cmd: string): boolean {
  return hasTool(cmd, ['--version']);
}

/**
 * The reference per-program loader (test/fixtures/bpf/tools/libbpf_load_one.c)
 * built with cc against the system's libbpf, or why it cannot be built.
 */
export function libbpfLoadOne(): { path: string } | { error: string } {
  const src = join(SRC, 'tools/libbpf_load_one.c');
  const text = readFileSync(src);
  const out = join(FIXTURE_BUILD_DIR, `libbpf_load_one.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return { path: out };
  mkdirSync(FIXTURE_BUILD_DIR, { recursive: true });
  try {
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', out + '.tmp', src, '-lbpf'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    return { error: `cannot build ${src} (needs cc and libbpf-dev): ${(e as Error).message.split('\n')[0]}` };
  }
  renameSync(out + '.tmp', out);
  return { path: out };
}
