/** Run `bpfkit trace` in this process, capturing what it prints. */
import { main } from '../../src/cli/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runTrace(args: string[], stdin = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(['trace', ...args], {
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    readStdin: async () => new TextEncoder().encode(stdin),
  });
  return { code, stdout, stderr };
}
