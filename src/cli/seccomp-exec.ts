/**
 * The helper process behind `bpfkit seccomp run`: installs a seccomp filter
 * on itself and execve()s the command, which inherits the filter.
 *
 *     node seccomp-exec.js FILTER_BASE64 PATH_OR_NAME [ARGS...]
 *
 * Why a separate Node process with koffi rather than bwrap --seccomp or the
 * CLI process itself: a filter cannot be removed, so installing it in the
 * CLI would leave no one to report the command's fate; bwrap also builds a
 * mount namespace, which needs privileges or user namespaces, and may be
 * missing. This helper does only what seccomp needs:
 * prctl(PR_SET_NO_NEW_PRIVS), prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER),
 * execve. The filter applies to this thread only (no TSYNC), so Node's other
 * threads keep running unfiltered until execve ends them; and everything
 * execve needs (path, argv and envp as C memory) is built before the filter
 * goes in, so the filtered window holds nothing but the execve call.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

const PR_SET_NO_NEW_PRIVS = 38;
const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

interface Koffi {
  load(path: string): { func(decl: string): (...args: unknown[]) => number };
  address(v: unknown): bigint;
  errno(): number;
}

function fail(msg: string, code: number): never {
  process.stderr.write(`bpfkit seccomp run: ${msg}\n`);
  process.exit(code);
}

function resolveCommand(cmd: string): string {
  if (cmd.includes('/')) return cmd;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir || '.', cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  return fail(`${cmd}: command not found`, 127);
}

/** NUL-terminated strings plus a NULL-terminated pointer array, as C memory that stays put. */
function cStringArray(koffi: Koffi, strings: readonly string[], keep: Buffer[]): Buffer {
  const ptrs = Buffer.alloc(8 * (strings.length + 1));
  strings.forEach((s, i) => {
    const b = Buffer.from(`${s}\0`, 'utf8');
    keep.push(b);
    ptrs.writeBigUInt64LE(koffi.address(b), 8 * i);
  });
  keep.push(ptrs);
  return ptrs;
}

function main(): void {
  const [filterB64, cmd, ...args] = process.argv.slice(2);
  if (!filterB64 || !cmd) fail('usage: seccomp-exec FILTER_BASE64 COMMAND [ARGS...]', 2);
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    return fail(`koffi is not available: ${(e as Error).message}`, 126);
  }
  const libc = koffi.load('libc.so.6');
  const prctl = libc.func('int prctl(int option, ...)');
  const fcntl = libc.func('int fcntl(int fd, int cmd, ...)');
  const execve = libc.func('int execve(void *path, void *argv, void *envp)');

  const filter = Buffer.from(filterB64, 'base64');
  if (filter.length === 0 || filter.length % 8 !== 0) fail('filter is not a whole number of sock_filter records', 2);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (64-bit layout)
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(filter.length / 8, 0);
  fprog.writeBigUInt64LE(koffi.address(filter), 8);

  const path = resolveCommand(cmd);
  const keep: Buffer[] = [filter, fprog];
  const cPath = Buffer.from(`${path}\0`, 'utf8');
  const argv = cStringArray(koffi, [cmd, ...args], keep);
  const envp = cStringArray(koffi, Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`), keep);

  // Node opens its standard streams close-on-exec; the command must get them.
  for (const fd of [0, 1, 2]) {
    const flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, 'int', flags & ~FD_CLOEXEC);
  }

  if (prctl(PR_SET_NO_NEW_PRIVS, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) !== 0) {
    fail(`prctl(PR_SET_NO_NEW_PRIVS): errno ${koffi.errno()}`, 126);
  }
  if (prctl(PR_SET_SECCOMP, 'unsigned long', SECCOMP_MODE_FILTER, 'uint64', koffi.address(fprog)) !== 0) {
    fail(`prctl(PR_SET_SECCOMP): errno ${koffi.errno()} (the kernel rejected the filter)`, 126);
  }
  execve(cPath, argv, envp);
  // Still here: execve failed, possibly because the policy denies it.
  const errno = koffi.errno();
  keep.length = 0;
  fail(`execve ${path}: errno ${errno}`, errno === 2 ? 127 : 126);
}

main();
