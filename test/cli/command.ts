/** Running CLI commands in-process from tests, and their scratch directories. */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../../src/cli/io.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `command argv...` with its output captured, reading `stdin` (default: nothing) as its standard input. */
export async function runCommand(command: Command, argv: string[], stdin: string | Uint8Array = ''): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  const input = typeof stdin === 'string' ? new TextEncoder().encode(stdin) : stdin;
  const code = await command(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), readStdin: async () => input });
  return { code, stdout, stderr };
}

/** A fresh temporary directory, removed when the test file's tests are done. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
