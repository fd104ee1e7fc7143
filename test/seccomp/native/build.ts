/**
 * Compiles the C helpers of the seccomp tests with gcc into build/seccomp/,
 * keyed by a hash of the source so edits rebuild and reruns do not.
 * A missing gcc or libseccomp-dev is a failure, not a skip.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

function build(name: string, libs: string[]): string {
  const src = join(here, `${name}.c`);
  const hash = createHash('sha256').update(readFileSync(src)).update(libs.join(' ')).digest('hex').slice(0, 12);
  const dir = join(root, 'build/seccomp');
  const exe = join(dir, `${name}-${hash}`);
  if (!existsSync(exe)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', `${exe}.tmp`, src, ...libs]);
    execFileSync('mv', [`${exe}.tmp`, exe]);
  }
  return exe;
}

/** The syscall probe (probe.c). */
export const probePath = (): string => build('probe', []);
/** The libseccomp exporter (scmp-export.c). */
export const scmpExportPath = (): string => build('scmp-export', ['-lseccomp']);
