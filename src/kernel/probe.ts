/**
 * Whether bpf(2) is usable here at all, and if not, why.
 */
import { NotSupportedError } from '../errors/index.js';
import { nativeUnavailableReason } from './native.js';
import { loadProgram } from './program.js';
import { SyscallError } from './sys.js';

let cached: { reason: string | undefined } | undefined;

/**
 * Undefined when bpf(2) works here (koffi loads, we have the privileges,
 * and the trivial socket filter `r0 = 0; exit` loads); otherwise a short
 * reason: "not Linux", "koffi ... not installed", "EPERM: not root and no
 * CAP_BPF", .... Computed once per process.
 */
export function bpfUnusableReason(): string | undefined {
  cached ??= { reason: probe() };
  return cached.reason;
}

function probe(): string | undefined {
  const why = nativeUnavailableReason();
  if (why) return why;
  try {
    // mov64 r0, 0; exit, as bytes so the probe depends on nothing else.
    const insns = Uint8Array.of(0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0);
    loadProgram({ type: 'socket_filter', insns }).close();
    return undefined;
  } catch (e) {
    if (e instanceof NotSupportedError) return e.message;
    if (e instanceof SyscallError) {
      const root = typeof process.getuid === 'function' && process.getuid() === 0;
      return `${e.message}${root ? '' : ' (not root)'}`;
    }
    return `bpf(2) probe failed: ${(e as Error).message}`;
  }
}
