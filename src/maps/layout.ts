import type { HashTableLayout } from './hash-table.js';

/**
 * Where a map keeps its data in the linear memory, as plain numbers: what a
 * code generator (the JIT's inline map helpers, src/jit/inline-maps.ts)
 * needs to run the map's lookup and update without calling the host. Only
 * maps whose program-side lookup and update depend on nothing but these
 * bytes have one (HASH and ARRAY; not the per-CPU or LRU kinds).
 */
export type MapLayout =
  | {
    readonly kind: 'hash';
    /** The map's pointer as programs see it. */
    readonly handle: number;
    readonly keySize: number;
    readonly valueSize: number;
    /** Address of slot 0's value; slot s's is values + s * slotSize. */
    readonly values: number;
    readonly slotSize: number;
    readonly table: HashTableLayout;
  }
  | {
    readonly kind: 'array';
    readonly handle: number;
    readonly valueSize: number;
    readonly maxEntries: number;
    readonly values: number;
    readonly slotSize: number;
  };
