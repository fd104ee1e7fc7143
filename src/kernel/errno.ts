/**
 * Linux errno numbers that bpf(2) and its neighbours return, with their
 * names. These numbers are part of the kernel ABI (asm-generic/errno*.h,
 * shared by x86-64, arm64 and riscv64); test/kernel/layout.test.ts checks
 * them against the system's headers so a typo cannot hide here.
 */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7,
  EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16,
  EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EINVAL: 22, ENFILE: 23,
  EMFILE: 24, ENOTTY: 25, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, ERANGE: 34,
  ENAMETOOLONG: 36, ENOSYS: 38, ELOOP: 40, ENODATA: 61, EPROTO: 71,
  EBADMSG: 74, EOVERFLOW: 75, EILSEQ: 84, EOPNOTSUPP: 95, EADDRINUSE: 98,
  ENOBUFS: 105, ETIMEDOUT: 110, EALREADY: 114, EINPROGRESS: 115,
  ECANCELED: 125,
  /** Kernel-internal "not supported" that bpf(2) lets escape to user space. */
  ENOTSUPP: 524,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const NAMES = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/** The symbolic name of an errno number ("EINVAL"), or "errno N" when unknown. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}
