import type { HelperContext } from '../vm/index.js';

/**
 * Safe reads of program memory on behalf of helpers (probe_read and
 * printk's %s): a bad address gives undefined instead of a fault, as
 * copy_from_kernel_nofault returns -EFAULT.
 */
export function tryRead(ctx: HelperContext, addr: bigint, n: number): Uint8Array | undefined {
  if (addr < 0n || addr > 0xffffffffn) return undefined;
  try {
    const a = ctx.space.check(Number(addr), n, 'read');
    return ctx.space.bytes.slice(a, a + n);
  } catch {
    return undefined;
  }
}

/** A NUL-terminated string of at most `max` bytes (without the NUL), or undefined when the first byte is unreadable. */
export function tryReadString(ctx: HelperContext, addr: bigint, max: number): Uint8Array | undefined {
  if (addr < 0n || addr > 0xffffffffn) return undefined;
  const sp = ctx.space;
  const start = Number(addr);
  const region = sp.regionAt(start);
  if (region === undefined) return undefined;
  const end = Math.min(region.start + region.size, start + max);
  const b = sp.bytes;
  let i = start;
  while (i < end && b[i] !== 0) i++;
  return b.slice(start, i);
}

export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const x of bytes) s += String.fromCharCode(x);
  return s;
}
