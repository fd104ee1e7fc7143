/**
 * Architectures a seccomp policy can name: the AUDIT_ARCH_* value the kernel
 * puts in seccomp_data.arch, the word size and byte order (which decide how
 * 64-bit arguments split into 32-bit words), and the syscall table.
 *
 * x32 shares AUDIT_ARCH_X86_64 with x86_64; its system calls are told apart
 * by __X32_SYSCALL_BIT (0x40000000) in the syscall number.
 */
import type { Endian } from './data.js';
import { SYSCALLS_AARCH64 } from './syscalls/aarch64.js';
import { SYSCALLS_ARM } from './syscalls/arm.js';
import { SYSCALLS_MIPS } from './syscalls/mips.js';
import { SYSCALLS_MIPS64 } from './syscalls/mips64.js';
import { SYSCALLS_MIPSEL } from './syscalls/mipsel.js';
import { SYSCALLS_MIPSEL64 } from './syscalls/mipsel64.js';
import { SYSCALLS_PPC64 } from './syscalls/ppc64.js';
import { SYSCALLS_PPC64LE } from './syscalls/ppc64le.js';
import { SYSCALLS_RISCV64 } from './syscalls/riscv64.js';
import { SYSCALLS_S390X } from './syscalls/s390x.js';
import { SYSCALLS_X32 } from './syscalls/x32.js';
import { SYSCALLS_X86 } from './syscalls/x86.js';
import { SYSCALLS_X86_64 } from './syscalls/x86_64.js';

export type ArchName =
  | 'x86_64' | 'x86' | 'x32' | 'aarch64' | 'arm' | 'riscv64' | 'ppc64le' | 'ppc64' | 's390x'
  | 'mips' | 'mipsel' | 'mips64' | 'mipsel64';

export interface ArchInfo {
  readonly name: ArchName;
  /** libseccomp / OCI spelling, `SCMP_ARCH_X86_64`. */
  readonly scmpName: string;
  /** Go's GOARCH spelling, used by Docker profiles' includes.arches. */
  readonly goName: string;
  readonly auditArch: number;
  readonly bits: 32 | 64;
  readonly endian: Endian;
  /** Syscall numbers as they appear in seccomp_data.nr (x32 numbers include the x32 bit). */
  readonly syscalls: Readonly<Record<string, number>>;
}

export const X32_SYSCALL_BIT = 0x40000000;

// AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000).
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
  RISCV64: 0xc00000f3,
  PPC64LE: 0xc0000015,
  PPC64: 0x80000015,
  S390X: 0x80000016,
  MIPS: 0x00000008,
  MIPSEL: 0x40000008,
  MIPS64: 0x80000008,
  MIPSEL64: 0xc0000008,
} as const;

const arch = (
  name: ArchName, scmpName: string, goName: string, auditArch: number, bits: 32 | 64, endian: Endian,
  syscalls: Readonly<Record<string, number>>,
): ArchInfo => ({ name, scmpName, goName, auditArch, bits, endian, syscalls });

export const ARCHES: Readonly<Record<ArchName, ArchInfo>> = {
  x86_64: arch('x86_64', 'SCMP_ARCH_X86_64', 'amd64', AUDIT_ARCH.X86_64, 64, 'little', SYSCALLS_X86_64),
  x86: arch('x86', 'SCMP_ARCH_X86', '386', AUDIT_ARCH.I386, 32, 'little', SYSCALLS_X86),
  x32: arch('x32', 'SCMP_ARCH_X32', 'amd64p32', AUDIT_ARCH.X86_64, 64, 'little', SYSCALLS_X32),
  aarch64: arch('aarch64', 'SCMP_ARCH_AARCH64', 'arm64', AUDIT_ARCH.AARCH64, 64, 'little', SYSCALLS_AARCH64),
  arm: arch('arm', 'SCMP_ARCH_ARM', 'arm', AUDIT_ARCH.ARM, 32, 'little', SYSCALLS_ARM),
  riscv64: arch('riscv64', 'SCMP_ARCH_RISCV64', 'riscv64', AUDIT_ARCH.RISCV64, 64, 'little', SYSCALLS_RISCV64),
  ppc64le: arch('ppc64le', 'SCMP_ARCH_PPC64LE', 'ppc64le', AUDIT_ARCH.PPC64LE, 64, 'little', SYSCALLS_PPC64LE),
  ppc64: arch('ppc64', 'SCMP_ARCH_PPC64', 'ppc64', AUDIT_ARCH.PPC64, 64, 'big', SYSCALLS_PPC64),
  s390x: arch('s390x', 'SCMP_ARCH_S390X', 's390x', AUDIT_ARCH.S390X, 64, 'big', SYSCALLS_S390X),
  mips: arch('mips', 'SCMP_ARCH_MIPS', 'mips', AUDIT_ARCH.MIPS, 32, 'big', SYSCALLS_MIPS),
  mipsel: arch('mipsel', 'SCMP_ARCH_MIPSEL', 'mipsle', AUDIT_ARCH.MIPSEL, 32, 'little', SYSCALLS_MIPSEL),
  mips64: arch('mips64', 'SCMP_ARCH_MIPS64', 'mips64', AUDIT_ARCH.MIPS64, 64, 'big', SYSCALLS_MIPS64),
  mipsel64: arch('mipsel64', 'SCMP_ARCH_MIPSEL64', 'mips64le', AUDIT_ARCH.MIPSEL64, 64, 'little', SYSCALLS_MIPSEL64),
};

export const ARCH_NAMES = Object.keys(ARCHES) as ArchName[];

/** Accepts our name, the SCMP_ARCH_* name or Go's GOARCH name (`amd64`, `arm64`, `386`), any case. */
export function lookupArch(name: string): ArchInfo | undefined {
  const n = name.toLowerCase();
  for (const a of ARCH_NAMES) {
    const info = ARCHES[a];
    if (info.name === n || info.scmpName.toLowerCase() === n || info.goName === n) return info;
  }
  if (n === 'i386' || n === 'i686') return ARCHES.x86;
  if (n === 'amd64') return ARCHES.x86_64;
  return undefined;
}

/** The syscall number of `name` on `arch`, or undefined when that ABI lacks it. */
export function syscallNumber(arch: ArchName, name: string): number | undefined {
  const table = ARCHES[arch].syscalls;
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

const reverse = new Map<ArchName, Map<number, string>>();

/** The name of syscall `nr` on `arch`, if the table has one. */
export function syscallName(arch: ArchName, nr: number): string | undefined {
  let table = reverse.get(arch);
  if (!table) {
    table = new Map(Object.entries(ARCHES[arch].syscalls).map(([k, v]) => [v, k]));
    reverse.set(arch, table);
  }
  return table.get(nr >>> 0);
}

/**
 * Which of the policy's architectures a seccomp_data (arch, nr) belongs to:
 * x86_64 and x32 share an AUDIT_ARCH and split on the x32 bit.
 */
export function archOfData(arches: readonly ArchName[], auditArch: number, nr: number): ArchName | undefined {
  for (const a of arches) {
    if (ARCHES[a].auditArch !== auditArch >>> 0) continue;
    if (auditArch >>> 0 === AUDIT_ARCH.X86_64) {
      // As libseccomp: x32 is everything from the x32 bit up, except that nr -1
      // (a tracer skipping the call) belongs to x86_64 when the policy has it.
      const n = nr >>> 0;
      const isX32 = n >= X32_SYSCALL_BIT && !(n === 0xffffffff && arches.includes('x86_64'));
      if ((a === 'x32') !== isX32) continue;
    }
    return a;
  }
  return undefined;
}
