/**
 * The real `Sys`: libc's syscall(2) and close(2) through koffi.
 *
 * koffi is an optional dependency and is loaded on first use, so importing
 * bpfkit never fails where it is missing; every call then throws
 * NotSupportedError saying why.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NotSupportedError } from '../errors/index.js';
import { BPF_CMD } from './constants.js';
import { ERRNO } from './errno.js';
import { SyscallError, type PointerField, type Syscall, type Sys } from './sys.js';

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

/** perf_event_open(2)'s number per architecture. */
const PERF_EVENT_OPEN_NR: Partial<Record<NodeJS.Architecture, number>> = {
  x64: 298,
  arm64: 241,
  riscv64: 241,
  loong64: 241,
  ia32: 336,
  arm: 364,
  s390x: 331,
  ppc64: 319,
};

/** A koffi poll handle: libuv watching one fd on the Node event loop. */
export interface PollHandle {
  stop(): void;
  close(): void;
  unref(): void;
  ref(): void;
}

/** The subset of koffi's API this file uses. */
interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
  address(value: unknown): bigint;
  errno(): number;
  view(ptr: unknown, len: number): ArrayBuffer;
  /** The callback gets libuv's status (0, or a negative error) and the events. */
  node: { poll(fd: number, opts: { readable: boolean }, cb: (status: number, ev: { readable: boolean }) => void): PollHandle };
}

type Fn = (...args: unknown[]) => unknown;

interface Native {
  koffi: Koffi;
  syscall: Fn;
  close: (fd: number) => unknown;
  ioctl: Fn;
  setsockopt: Fn;
  epollCreate: Fn;
  epollCtl: Fn;
  mmap: Fn;
  munmap: Fn;
  clockGettime: Fn;
  address: (buf: Uint8Array) => bigint;
  errno: () => number;
  bpfNr: number;
  perfNr: number | undefined;
}

let native: Native | NotSupportedError | undefined;

function load(): Native {
  if (native === undefined) native = tryLoad();
  if (native instanceof NotSupportedError) throw native;
  return native;
}

/**
 * koffi's index.js loads https, crypto and zlib (for its prebuild
 * downloader) before the addon: about 20 ms of every kernel command's
 * start-up. Load the prebuilt addon for this platform directly when its
 * version is the package's, else go through the index as usual.
 */
function loadKoffi(): Koffi {
  const req = createRequire(import.meta.url);
  const index = req.resolve('koffi');
  const arch = ({ x64: 'x64', arm64: 'arm64' } as Partial<Record<string, string>>)[process.arch];
  const addon = join(dirname(index), 'build', 'koffi', `linux_${arch}`, 'koffi.node');
  if (arch !== undefined && existsSync(addon)) {
    try {
      const native = req(addon) as Koffi & { version?: string };
      const pkg = JSON.parse(readFileSync(join(dirname(index), 'package.json'), 'utf8')) as { version?: string };
      if (native.version === pkg.version) return native;
    } catch {
      // A musl system or a broken prebuild: the index knows what to try.
    }
  }
  return req('koffi') as Koffi;
}

function tryLoad(): Native | NotSupportedError {
  if (process.platform !== 'linux') return new NotSupportedError('bpf(2)', `not Linux (platform ${process.platform})`);
  const bpfNr = BPF_SYSCALL_NR[process.arch];
  if (bpfNr === undefined) return new NotSupportedError('bpf(2)', `unknown syscall number on ${process.arch}`);
  let koffi: Koffi;
  try {
    koffi = loadKoffi();
  } catch (e) {
    return new NotSupportedError('bpf(2)', 'koffi (optional dependency) is not installed', { cause: e });
  }
  try {
    const libc = koffi.load('libc.so.6');
    return {
      koffi,
      // Variadic: each extra argument is passed as a (type, value) pair.
      syscall: libc.func('long syscall(long, ...)'),
      close: libc.func('int close(int)') as (fd: number) => unknown,
      ioctl: libc.func('int ioctl(int, unsigned long, ...)'),
      setsockopt: libc.func('int setsockopt(int, int, int, void *, uint32_t)'),
      epollCreate: libc.func('int epoll_create1(int)'),
      epollCtl: libc.func('int epoll_ctl(int, int, int, void *)'),
      mmap: libc.func('void *mmap(void *, size_t, int, int, int, int64_t)'),
      munmap: libc.func('int munmap(void *, size_t)'),
      clockGettime: libc.func('int clock_gettime(int, void *)'),
      perfNr: PERF_EVENT_OPEN_NR[process.arch],
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
        fillPointers(n, c.attr, c.pointers);
        const r = Number(n.syscall(n.bpfNr, 'int', BPF_CMD[c.cmd], 'void *', c.attr, 'uint', c.attr.byteLength));
        if (r < 0) fail(c, n.errno());
        return r;
      }
      case 'close':
        return check(c, n, n.close(c.fd));
      case 'perf_event_open':
        if (n.perfNr === undefined) throw new NotSupportedError('perf_event_open(2)', `unknown syscall number on ${process.arch}`);
        fillPointers(n, c.attr, c.pointers);
        return check(c, n, n.syscall(n.perfNr, 'void *', c.attr, 'int', c.pid, 'int', c.cpu, 'int', c.groupFd, 'ulong', c.flags));
      case 'ioctl':
        return check(c, n, n.ioctl(c.fd, c.request, 'long', c.arg));
      case 'setsockopt':
        return check(c, n, n.setsockopt(c.fd, c.level, c.name, c.value, c.value.length));
      case 'epoll_create':
        return check(c, n, n.epollCreate(c.flags));
      case 'mmap':
        throw new RangeError('mmap goes through mmapFd, not Sys.call');
      case 'epoll_ctl': {
        // struct epoll_event is packed (12 bytes) on x86-64, naturally aligned (16) elsewhere.
        const packed = process.arch === 'x64' || process.arch === 'ia32';
        const ev = new Uint8Array(packed ? 12 : 16);
        const v = new DataView(ev.buffer);
        v.setUint32(0, c.events, true);
        v.setUint32(packed ? 4 : 8, c.fd, true);
        return check(c, n, n.epollCtl(c.epfd, c.op, c.fd, ev));
      }
    }
  },
};

function fillPointers(n: Native, attr: Uint8Array, pointers: readonly PointerField[]): void {
  const view = new DataView(attr.buffer, attr.byteOffset, attr.byteLength);
  for (const p of pointers) {
    view.setBigUint64(p.offset, p.buf === undefined || p.buf.length === 0 ? 0n : n.address(p.buf), true);
  }
}

function check(c: Syscall, n: Native, result: unknown): number {
  const r = Number(result);
  if (r < 0) fail(c, n.errno());
  return r;
}

/**
 * The address of a buffer, for pointers nested inside other structures
 * (bpf_prog_info's xlated_prog_insns). The caller keeps `buf` alive for
 * the duration of the call that uses it.
 */
export function addressOf(buf: Uint8Array): bigint {
  return buf.length === 0 ? 0n : load().address(buf);
}

/** Wall-clock time of boot in ns (CLOCK_REALTIME - CLOCK_BOOTTIME), to date load_time as bpftool does. */
export function bootEpochNs(): bigint {
  const n = load();
  const read = (clock: number): bigint => {
    const ts = new Uint8Array(16);
    n.clockGettime(clock, ts);
    const v = new DataView(ts.buffer);
    return v.getBigInt64(0, true) * 1_000_000_000n + v.getBigInt64(8, true);
  };
  const CLOCK_REALTIME = 0;
  const CLOCK_BOOTTIME = 7;
  return read(CLOCK_REALTIME) - read(CLOCK_BOOTTIME);
}

/** Memory shared with the kernel through mmap(2) of a kernel object's fd. */
export interface NativeMapping {
  /** The mapped bytes; never touch it after `unmap()`. */
  readonly buffer: ArrayBuffer;
  unmap(): void;
}

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

/** mmap(NULL, length, prot, MAP_SHARED, fd, offset). */
export function mmapFd(fd: number, length: number, writable: boolean, offset = 0): NativeMapping {
  const n = load();
  const ptr = n.mmap(null, length, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, offset);
  const addr = ptr === null ? 0n : n.koffi.address(ptr);
  if (addr === 0n || addr === 0xffffffffffffffffn) {
    const errno = n.errno();
    throw new SyscallError({ kind: 'mmap', fd, length, offset }, errno);
  }
  let mapped = true;
  return {
    buffer: n.koffi.view(ptr, length),
    unmap() {
      if (!mapped) return;
      mapped = false;
      n.munmap(ptr, length);
    },
  };
}

/** Watch `fd` for readability on the Node event loop (libuv poll, no thread). */
export function pollReadable(fd: number, onReadable: () => void): PollHandle {
  const n = load();
  return n.koffi.node.poll(fd, { readable: true }, (status, ev) => {
    // On an error status, still drain: the reader finds out for itself what is there.
    if (status < 0 || ev.readable) onReadable();
  });
}

/** Why the native bridge cannot load here, or undefined when it can. */
export function nativeUnavailableReason(): string | undefined {
  try {
    load();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
