/**
 * The real `Sys`: libc's syscall(2) and close(2) through koffi.
 *
 * koffi is an optional dependency and is loaded on first use, so importing
 * bpfkit never fails where it is missing; every call then throws
 * NotSupportedError saying why.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { NotSupportedError } from '../errors/index.js';
import { BPF_CMD } from './constants.js';
import { ERRNO } from './errno.js';
import { SyscallError, type Syscall, type Sys } from './sys.js';

/** bpf(2)'s number per architecture (arch/<arch>/.../syscall tables). */
const BPF_SYSCALL_NR: Partial<Record<NodeJS.Architecture, number>> = {
  x64: 321,
  arm64: 280,
  riscv64: 280,
  loong64: 280,
  ia32: 357,
  arm: 386,
  s390x: 351,
  ppc64: 361,
};

/** The subset of koffi's API this file uses. */
interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
  address(value: unknown): bigint;
  errno(): number;
}

interface Native {
  syscall: (...args: unknown[]) => unknown;
  close: (fd: number) => unknown;
  address: (buf: Uint8Array) => bigint;
  errno: () => number;
  bpfNr: number;
}

let native: Native | NotSupportedError | undefined;

function load(): Native {
  if (native === undefined) native = tryLoad();
  if (native instanceof NotSupportedError) throw native;
  return native;
}

function tryLoad(): Native | NotSupportedError {
  if (process.platform !== 'linux') return new NotSupportedError('bpf(2)', `not Linux (platform ${process.platform})`);
  const bpfNr = BPF_SYSCALL_NR[process.arch];
  if (bpfNr === undefined) return new NotSupportedError('bpf(2)', `unknown syscall number on ${process.arch}`);
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    return new NotSupportedError('bpf(2)', 'koffi (optional dependency) is not installed', { cause: e });
  }
  try {
    const libc = koffi.load('libc.so.6');
    return {
      // Variadic: each extra argument is passed as a (type, value) pair.
      syscall: libc.func('long syscall(long, ...)'),
      close: libc.func('int close(int)') as (fd: number) => unknown,
      address: (buf) => koffi.address(buf),
      errno: () => koffi.errno(),
      bpfNr,
    };
  } catch (e) {
    return new NotSupportedError('bpf(2)', `cannot load libc.so.6 through koffi: ${(e as Error).message}`, { cause: e });
  }
}

/** True when the effective capabilities include CAP_BPF (39) or CAP_SYS_ADMIN (21). */
export function hasBpfCapability(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!m) return false;
    const caps = BigInt(`0x${m[1]}`);
    return ((caps >> 39n) & 1n) === 1n || ((caps >> 21n) & 1n) === 1n;
  } catch {
    return false;
  }
}

function fail(c: Syscall, errno: number): never {
  const err = new SyscallError(c, errno);
  if (c.kind === 'bpf' && errno === ERRNO.ENOSYS) {
    throw new NotSupportedError('bpf(2)', 'the kernel returned ENOSYS (built without CONFIG_BPF_SYSCALL?)', { cause: err });
  }
  if (c.kind === 'bpf' && errno === ERRNO.EPERM && !hasBpfCapability()) {
    throw new NotSupportedError('bpf(2)', 'EPERM: not root and no CAP_BPF', { cause: err });
  }
  throw err;
}

/** The Sys that makes real system calls. */
export const nativeSys: Sys = {
  call(c: Syscall): number {
    const n = load();
    switch (c.kind) {
      case 'bpf': {
        const view = new DataView(c.attr.buffer, c.attr.byteOffset, c.attr.byteLength);
        for (const p of c.pointers) {
          view.setBigUint64(p.offset, p.buf === undefined || p.buf.length === 0 ? 0n : n.address(p.buf), true);
        }
        const r = Number(n.syscall(n.bpfNr, 'int', BPF_CMD[c.cmd], 'void *', c.attr, 'uint', c.attr.byteLength));
        if (r < 0) fail(c, n.errno());
        return r;
      }
      case 'close': {
        const r = Number(n.close(c.fd));
        if (r < 0) fail(c, n.errno());
        return r;
      }
    }
  },
};

/** Why the native bridge cannot load here, or undefined when it can. */
export function nativeUnavailableReason(): string | undefined {
  try {
    load();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
