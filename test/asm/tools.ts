/**
 * The external tools the differential tests compare with (llvm-19, bpftool).
 * A missing tool skips the test with the reason, unless BPFKIT_REQUIRE_TOOLS
 * is set (CI sets it), where it fails: CI installs them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';

const found = new Map<string, boolean>();

export function haveTool(name: string): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    ok = spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
    found.set(name, ok);
  }
  return ok;
}

/** True when every tool is there; otherwise skips `t` (or fails under BPFKIT_REQUIRE_TOOLS). */
export function needTools(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !haveTool(n));
  if (missing.length === 0) return true;
  const hint = missing.every((n) => n === 'bpftool') ? 'install bpftool' : 'install llvm-19 (apt-get install llvm-19 clang-19)';
  const why = `${missing.join(', ')} not found: ${hint}`;
  if (process.env.BPFKIT_REQUIRE_TOOLS) assert.fail(why);
  t.skip(why);
  return false;
}

/** A temporary directory removed when `fn` returns. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-asm-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LlvmObject {
  /** Raw bytes of the .text section. */
  readonly text: Uint8Array;
  /** `llvm-objdump -d` instruction lines of .text: slot index and instruction text. */
  readonly dump: { slot: number; text: string }[];
}

/** Parse `llvm-objdump -d` output into (slot, instruction text), dropping byte columns and `<label>` annotations. */
export function parseObjdump(out: string): { slot: number; text: string }[] {
  const lines: { slot: number; text: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+):\t(?:[0-9a-f]{2} )+[0-9a-f]{2}\t(.*)$/.exec(line);
    if (m) lines.push({ slot: Number(m[1]), text: normalise(m[2]) });
  }
  return lines;
}

/** Whitespace and objdump's target annotations do not count. */
export function normalise(text: string): string {
  return text.replace(/\s<[^<>]*>\s*$/, '').replace(/\s+/g, ' ').trim();
}

/** Assemble with llvm-mc-19 (or compile C with clang-19), then read .text back and disassemble it. */
export function llvmBuild(dir: string, source: string, lang: 's' | 'c', objdumpArgs: string[] = ['--mcpu=v4']): LlvmObject {
  const src = join(dir, `prog.${lang}`);
  const obj = join(dir, 'prog.o');
  const bin = join(dir, 'prog.bin');
  writeFileSync(src, source);
  if (lang === 's') execFileSync('llvm-mc-19', ['-triple', 'bpfel', '-mcpu=v4', '-filetype=obj', src, '-o', obj], { stdio: ['ignore', 'ignore', 'pipe'] });
  else execFileSync('clang-19', ['-target', 'bpf', '-mcpu=v4', '-O2', '-c', src, '-o', obj], { stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync('llvm-objcopy-19', ['-O', 'binary', '--only-section=.text', obj, bin]);
  const dump = execFileSync('llvm-objdump-19', ['-d', ...objdumpArgs, '--section=.text', obj], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { text: new Uint8Array(readFileSync(bin)), dump: parseObjdump(dump) };
}
