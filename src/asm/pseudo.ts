import { LDDW_SRC, type LddwPseudo } from '../isa/index.js';

/** The src field of each 64-bit immediate kind, and back. */
export const LDDW_PSEUDO_NUMBER: Record<LddwPseudo, number> = LDDW_SRC;

export const LDDW_PSEUDO_BY_NUMBER: ReadonlyMap<number, LddwPseudo> = new Map(
  (Object.entries(LDDW_SRC) as [LddwPseudo, number][]).map(([k, v]) => [v, k]),
);
