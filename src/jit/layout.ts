/**
 * Where the JIT keeps its scratch words: in the never-mapped null guard at
 * the bottom of the linear memory (src/vm/layout.ts), which no eBPF access
 * can reach (every address there faults), so the module and its JavaScript
 * side exchange helper arguments, results and the region cache through
 * plain memory instead of BigInt-typed parameters.
 */

/** r0 after a run, and a helper's result. */
export const SCR_R0 = 0x100;
/** Argument n (1..5) of a helper call: SCR_R0 + 8 * n. */
export const SCR_ARG = SCR_R0;
/** Remaining instruction budget after a run (f64). */
export const SCR_BUDGET = 0x130;
/**
 * Region cache, two entries per access kind (read, write). The first is
 * loaded into locals when a function starts (and after calls); the second,
 * the region of the latest miss, is read from memory when the first does
 * not match. Each entry: the start of the region, then for each access size S (1, 2, 4, 8) the number of
 * valid start offsets, max(0, length - S + 1); an access at A is in the
 * region iff (A - start) <u that count (unsigned, 64-bit), one compare.
 * All zero (the initial state) caches nothing.
 */
export const SCR_RLO = 0x140;
export const SCR_WLO = 0x168;
export const SCR_RLO2 = 0x190;
export const SCR_WLO2 = 0x1b8;
/** Offset of the count for access size `size` from the kind's start word. */
export function cacheCountOffset(size: 1 | 2 | 4 | 8): number {
  return 8 + 8 * (size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3);
}
