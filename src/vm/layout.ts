/**
 * The fixed layout of the sandboxed address space, shared by the
 * interpreter and the WebAssembly JIT (both see the same addresses).
 *
 *   0x00000 .. 0x0ffff   never mapped: null and small offsets fault
 *   0x10000 .. 0x1ffff   call-frame stacks: frame i's 512 bytes at
 *                        STACK_BASE + i * STACK_STRIDE, each followed by an
 *                        unmapped gap, so one frame cannot reach another
 *   0x20000 ..           regions the host maps (input memory, context,
 *                        packet, map values), page-aligned, with an
 *                        unmapped guard page between neighbours
 *
 * An eBPF address is the byte offset in the linear memory; the upper 32
 * bits of a 64-bit address are always zero.
 */

/** Granularity of the region table. */
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

/** WebAssembly memories grow in 64 KiB pages. */
export const WASM_PAGE_SIZE = 65536;

/** Bytes at the start of the address space that are never mapped. */
export const NULL_GUARD = 0x10000;

/** Stack bytes per call frame (Linux's MAX_BPF_STACK). */
export const STACK_SIZE = 512;

/** Frames including the entry function (Linux's MAX_CALL_FRAMES). */
export const MAX_FRAMES = 8;

/** First frame's stack. */
export const STACK_BASE = NULL_GUARD;

/** Distance between two frames' stacks: one page of stack, one guard page. */
export const STACK_STRIDE = 2 * PAGE_SIZE;

/** Where host regions start. */
export const HEAP_BASE = STACK_BASE + MAX_FRAMES * STACK_STRIDE;

/** Frame pointer (r10) of frame `depth` (0 = the entry function): one past its stack's top. */
export function framePointer(depth: number): number {
  return STACK_BASE + depth * STACK_STRIDE + STACK_SIZE;
}
