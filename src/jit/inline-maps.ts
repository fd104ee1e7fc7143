import { HELPER_NAMES } from '../asm/helper-names.js';
import { KEY_HASH, TABLE_COUNT, TABLE_FREE, TABLE_HEAD, TABLE_TAIL, TABLE_USED } from '../maps/hash-table.js';
import type { HashTableLayout } from '../maps/hash-table.js';
import type { MapLayout } from '../maps/layout.js';
import { MAX_FRAMES, STACK_BASE, STACK_SIZE, STACK_STRIDE } from '../vm/layout.js';
import { INLINE_DECLINED, type InlineFunction, type InlineHelper } from './translate.js';
import { Code, I32, I64, Op } from './wasm.js';

/**
 * bpf_map_lookup_elem, update and delete compiled into the module for
 * the maps a program can know when it is compiled (a runtime collection's
 * HASH and ARRAY maps): the call compares r1 with each map's pointer and
 * runs that map's code, with its sizes and addresses as constants, on the
 * very bytes the host's HashMap and ArrayMap use (src/maps/hash-table.ts).
 *
 * Everything else declines to the host, which then does exactly what it
 * did before: another pointer in r1 (a forged one, an inner map the set does
 * not know), and a key or value that is not wholly inside one of the
 * stacks or of the ranges the caller names (the host checks it as the
 * interpreter does and raises the same VmMemoryError, or serves a key in a
 * packet or a context). So nothing a program passes is trusted unless it is
 * one of those maps and its arguments are plainly in bounds. Per-CPU and
 * LRU maps have no layout (their lookups depend on the current CPU or
 * reorder the table) and always go to the host.
 *
 * Also read by: HashTable (the layout and hash function this code must
 * match byte for byte; test/jit/inline-maps.test.ts compares the tables).
 */

const LOOKUP = HELPER_NAMES.indexOf('bpf_map_lookup_elem');
const UPDATE = HELPER_NAMES.indexOf('bpf_map_update_elem');
const DELETE = HELPER_NAMES.indexOf('bpf_map_delete_elem');

/** Keys longer than this go to the host (the code unrolls one compare per 4 bytes). */
const MAX_INLINE_KEY = 64;
/** Values longer than this are copied with memory.copy rather than unrolled loads and stores. */
const MAX_UNROLLED_COPY = 64;

const EINVAL = -22, EEXIST = -17, ENOENT = -2, E2BIG = -7;


// Dispatcher function locals: parameters r1 (0), r2 (1), r3 (2), r4 (3), then i32s.
const P_MAP = 0, P_KEY = 1, P_VALUE = 2, P_FLAGS = 3;
const L_A = 4, L_VA = 5, L_H = 6, L_B = 7, L_S = 8, L_P = 9, L_W = 10;
const WORDS = MAX_INLINE_KEY / 4;
const L_J = L_W + WORDS, L_HOME = L_J + 1;
const LOCALS: readonly (readonly [number, typeof I32])[] = [[L_HOME + 1 - L_A, I32]];

const sets = new Map<string, ReadonlyMap<number, InlineHelper>>();
const SETS_KEPT = 64;

/**
 * The inline helpers for these maps, or undefined when there are none.
 * Keys and values the program passes are read in place when they lie in a
 * stack or in one of `readable` (the maps' values, global data: ranges that
 * stay mapped as long as the module is used), else the call declines.
 * Equal arguments give the same object, so the JIT's module cache (keyed by
 * the set's identity) shares modules between collections made from one
 * object.
 */
export function inlineMapHelpers(layouts: readonly MapLayout[], readable: readonly ReadableRange[] = []): ReadonlyMap<number, InlineHelper> | undefined {
  const maps = layouts.filter((m) => m.kind === 'array' || m.keySize <= MAX_INLINE_KEY);
  if (maps.length === 0) return undefined;
  const ranges = readable.map((r) => ({ start: r.start, size: r.size }));
  const key = JSON.stringify([maps, ranges]);
  let set = sets.get(key);
  if (set === undefined) {
    const lookup: InlineHelper = (c, site) => {
      const f = site.func('map_lookup_elem', () => dispatcher(maps, ranges, 'lookup'));
      for (let r = 1; r <= 4; r++) c.localGet(r);
      c.call(f);
    };
    const update: InlineHelper = (c, site) => {
      const f = site.func('map_update_elem', () => dispatcher(maps, ranges, 'update'));
      for (let r = 1; r <= 4; r++) c.localGet(r);
      c.call(f);
    };
    const del: InlineHelper = (c, site) => {
      const f = site.func('map_delete_elem', () => dispatcher(maps, ranges, 'delete'));
      for (let r = 1; r <= 4; r++) c.localGet(r);
      c.call(f);
    };
    set = new Map([[LOOKUP, lookup], [UPDATE, update], [DELETE, del]]);
    if (sets.size >= SETS_KEPT) sets.delete(sets.keys().next().value!);
    sets.set(key, set);
  }
  return set;
}

/** (r1, r2, r3, r4) -> r0: one branch per map, INLINE_DECLINED for any other r1. */
function dispatcher(maps: readonly MapLayout[], ranges: readonly ReadableRange[], op: 'lookup' | 'update' | 'delete'): InlineFunction {
  const c = new Code();
  for (const m of maps) {
    c.localGet(P_MAP);
    c.i64(m.handle);
    c.op(Op.i64_eq);
    c.block(Op.if);
    if (m.kind === 'hash') {
      if (op === 'lookup') hashLookup(c, m, ranges);
      else if (op === 'update') hashUpdate(c, m, ranges);
      else hashDelete(c, m, ranges);
    } else if (op === 'lookup') arrayLookup(c, m, ranges);
    else if (op === 'update') arrayUpdate(c, m, ranges);
    else {
      // Array elements cannot be deleted; the key must still be readable.
      inBounds(c, ranges, P_KEY, 4, L_A);
      ret(c, EINVAL);
    }
    c.op(Op.end);
  }
  c.i64(INLINE_DECLINED);
  return { params: [I64, I64, I64, I64], results: [I64], locals: LOCALS, body: c };
}

type HashLayout = Extract<MapLayout, { kind: 'hash' }>;
type ArrayLayout = Extract<MapLayout, { kind: 'array' }>;

function ret(c: Code, v: number | bigint): void {
  c.i64(v);
  c.op(Op.return);
}

/** A range of the address space the host keeps mapped and readable for as long as the maps live (their values). */
export interface ReadableRange {
  readonly start: number;
  readonly size: number;
}

/**
 * Decline unless [p, p + size) lies in one frame's stack (the regions at
 * STACK_BASE + i * STACK_STRIDE, STACK_SIZE bytes each) or in one of
 * `ranges`; leaves p in the i32 local `into`. The stack test comes first:
 * that is where programs keep their keys.
 */
function inBounds(c: Code, ranges: readonly ReadableRange[], p: number, size: number, into: number): void {
  c.block(Op.block);
  if (size <= STACK_SIZE) {
    c.localGet(p);
    c.i64(STACK_BASE);
    c.op(Op.i64_sub);
    c.i64(MAX_FRAMES * STACK_STRIDE);
    c.op(Op.i64_lt_u);
    c.block(Op.if);
    c.localGet(p);
    c.op(Op.i32_wrap_i64);
    c.i32(STACK_BASE);
    c.op(Op.i32_sub);
    c.i32(STACK_STRIDE - 1);
    c.op(Op.i32_and);
    c.i32(STACK_SIZE - size);
    c.op(Op.i32_le_u);
    c.brIf(1);
    c.op(Op.end);
  }
  for (const r of ranges) {
    if (r.size < size) continue;
    c.localGet(p);
    c.i64(r.start);
    c.op(Op.i64_sub);
    c.i64(r.size - size + 1);
    c.op(Op.i64_lt_u);
    c.brIf(0);
  }
  ret(c, INLINE_DECLINED);
  c.op(Op.end);
  c.localGet(p);
  c.op(Op.i32_wrap_i64);
  c.localSet(into);
}

/** The key at L_A as words in L_W.., zero-extended at the end, hashed into L_H and bucket L_B (see KEY_HASH). */
function hashKey(c: Code, m: HashLayout): number {
  const k = m.keySize;
  const words = Math.ceil(k / 4);
  for (let i = 0; i < words; i++) {
    const tail = Math.min(4, k - 4 * i);
    c.localGet(L_A);
    if (tail === 4) c.mem(Op.i32_load, 4 * i);
    else if (tail === 1) c.mem(Op.i32_load8_u, 4 * i);
    else {
      c.mem(Op.i32_load16_u, 4 * i);
      if (tail === 3) {
        c.localGet(L_A);
        c.mem(Op.i32_load8_u, 4 * i + 2);
        c.i32(16);
        c.op(Op.i32_shl);
        c.op(Op.i32_or);
      }
    }
    c.localSet(L_W + i);
  }
  bucketOf(c, m, (i) => c.localGet(L_W + i));
  c.localSet(L_B);
  return words;
}

/** Leave the bucket of a key whose i-th word `word(i)` pushes (KEY_HASH; L_H is scratch). */
function bucketOf(c: Code, m: HashLayout, word: (i: number) => void): void {
  c.i32(Math.imul(m.keySize, KEY_HASH.m0));
  for (let i = 0; i < Math.ceil(m.keySize / 4); i++) {
    word(i);
    c.op(Op.i32_xor);
    c.i32(KEY_HASH.m1 | 0);
    c.op(Op.i32_mul);
    xorShift(c, 15);
  }
  xorShift(c, 16);
  c.i32(KEY_HASH.m2 | 0);
  c.op(Op.i32_mul);
  xorShift(c, 13);
  c.i32(m.table.mask);
  c.op(Op.i32_and);
}

/** h ^= h >>> bits, on the value at the top of the stack (L_H is scratch). */
function xorShift(c: Code, bits: number): void {
  c.localTee(L_H);
  c.localGet(L_H);
  c.i32(bits);
  c.op(Op.i32_shr_u);
  c.op(Op.i32_xor);
}

/**
 * The probe loop: `found` runs with the slot + 1 in L_S (and must return);
 * falls through with L_B at the empty bucket when the key is absent.
 */
function probe(c: Code, m: HashLayout, words: number, found: () => void): void {
  const t = m.table;
  c.block(Op.block);
  c.block(Op.loop);
  c.localGet(L_B);
  loadBucket(c, t, L_S);
  for (let i = 0; i < words; i++) {
    c.localGet(L_P);
    c.mem(Op.i32_load, t.keys - t.keyStride + 4 * i);
    c.localGet(L_W + i);
    c.op(Op.i32_eq);
    if (i > 0) c.op(Op.i32_and);
  }
  c.block(Op.if);
  found();
  c.op(Op.end);
  c.localGet(L_B);
  nextBucket(c, t);
  c.localSet(L_B);
  c.br(0);
  c.op(Op.end);
  c.op(Op.end);
}

/**
 * With a bucket index on the stack: its slot + 1 into local `slot`, out of
 * the enclosing block (br_if 1) when the bucket is empty, else the slot's
 * key record in L_P (see keyRecord).
 */
function loadBucket(c: Code, t: HashTableLayout, slot: number): void {
  c.i32(2);
  c.op(Op.i32_shl);
  c.mem(Op.i32_load, t.buckets);
  c.localTee(slot);
  c.op(Op.i32_eqz);
  c.brIf(1);
  keyRecord(c, t, slot);
}

/** The bucket after the one on the stack (they wrap around). */
function nextBucket(c: Code, t: HashTableLayout): void {
  c.i32(1);
  c.op(Op.i32_add);
  c.i32(t.mask);
  c.op(Op.i32_and);
}

/** L_P = (slot + 1 in local `slot`) * keyStride: that slot's key words are at L_P + keys - keyStride. */
function keyRecord(c: Code, t: HashTableLayout, slot: number): void {
  c.localGet(slot);
  c.i32(t.keyStride);
  c.op(Op.i32_mul);
  c.localSet(L_P);
}

/**
 * In the insertion/LRU order: the `field` link of slot + 1 in local `of`
 * becomes local `value`; when `of` is 0 (no such slot), the order's head
 * (for next) or tail (for prev) does.
 */
function setLink(c: Code, t: HashTableLayout, of: number, field: 'next' | 'prev', value: number): void {
  c.localGet(of);
  c.block(Op.if);
  c.localGet(of);
  c.i32(3);
  c.op(Op.i32_shl);
  c.localGet(value);
  c.mem(Op.i32_store, t.links - (field === 'next' ? 4 : 8));
  c.op(Op.else);
  c.i32(0);
  c.localGet(value);
  c.mem(Op.i32_store, t.header + (field === 'next' ? TABLE_HEAD : TABLE_TAIL));
  c.op(Op.end);
}

/** The table's entry count, plus or minus one. */
function addCount(c: Code, t: HashTableLayout, op: typeof Op.i32_add | typeof Op.i32_sub): void {
  c.i32(0);
  c.i32(0);
  c.mem(Op.i32_load, t.header + TABLE_COUNT);
  c.i32(1);
  c.op(op);
  c.mem(Op.i32_store, t.header + TABLE_COUNT);
}

/** i64 address of the value of slot + 1 in L_S. */
function slotValue(c: Code, values: number, slotSize: number): void {
  c.localGet(L_S);
  c.i32(slotSize);
  c.op(Op.i32_mul);
  c.i32((values - slotSize) | 0);
  c.op(Op.i32_add);
}

function hashLookup(c: Code, m: HashLayout, ranges: readonly ReadableRange[]): void {
  inBounds(c, ranges, P_KEY, m.keySize, L_A);
  const words = hashKey(c, m);
  probe(c, m, words, () => {
    slotValue(c, m.values, m.slotSize);
    c.op(Op.i64_extend_i32_u);
    c.op(Op.return);
  });
  ret(c, 0);
}

/** The update arguments' checks shared by both kinds: pointers on the stack, flags 0..2. */
function updateArgs(c: Code, ranges: readonly ReadableRange[], keySize: number, valueSize: number): void {
  inBounds(c, ranges, P_KEY, keySize, L_A);
  inBounds(c, ranges, P_VALUE, valueSize, L_VA);
  flagsFail(c, Op.i64_gt_u, 2, EINVAL);
}

/** Return E2BIG when the i32 on the stack (a slot or index) is `maxEntries` or more. */
function tooBigAt(c: Code, maxEntries: number): void {
  c.i32(maxEntries | 0);
  c.op(Op.i32_ge_u);
  c.block(Op.if);
  ret(c, E2BIG);
  c.op(Op.end);
}

/** Return `errno` when the flags compare true with `flag` (`cmp`: an i64 comparison). */
function flagsFail(c: Code, cmp: typeof Op.i64_eq | typeof Op.i64_gt_u, flag: number, errno: number): void {
  c.localGet(P_FLAGS);
  c.i64(flag);
  c.op(cmp);
  c.block(Op.if);
  ret(c, errno);
  c.op(Op.end);
}

/** Copy `size` bytes from the i32 address in local `src` to the one on the stack top (kept in L_P). */
function copyValue(c: Code, src: number, size: number): void {
  c.localSet(L_P);
  if (size > MAX_UNROLLED_COPY) {
    c.localGet(L_P);
    c.localGet(src);
    c.i32(size);
    c.memoryCopy();
    return;
  }
  for (let o = 0; o < size;) {
    const n = size - o >= 8 ? 8 : size - o >= 4 ? 4 : size - o >= 2 ? 2 : 1;
    const [load, store] = n === 8 ? [Op.i64_load, Op.i64_store] : n === 4 ? [Op.i64_load32_u, Op.i64_store32]
      : n === 2 ? [Op.i64_load16_u, Op.i64_store16] : [Op.i64_load8_u, Op.i64_store8];
    c.localGet(L_P);
    c.localGet(src);
    c.mem(load, o);
    c.mem(store, o);
    o += n;
  }
}

function hashUpdate(c: Code, m: HashLayout, ranges: readonly ReadableRange[]): void {
  const t = m.table;
  updateArgs(c, ranges, m.keySize, m.valueSize);
  const words = hashKey(c, m);
  probe(c, m, words, () => {
    flagsFail(c, Op.i64_eq, 1, EEXIST);
    slotValue(c, m.values, m.slotSize);
    copyValue(c, L_VA, m.valueSize);
    ret(c, 0);
  });
  flagsFail(c, Op.i64_eq, 2, ENOENT);
  // A slot: the free list's first, else the next never used one, else the map is full.
  c.i32(0);
  c.mem(Op.i32_load, t.header + TABLE_FREE);
  c.localTee(L_S);
  c.block(Op.if);
  c.i32(0);
  c.localGet(L_S);
  c.i32(3);
  c.op(Op.i32_shl);
  c.mem(Op.i32_load, t.links - 4); // next of slot S - 1
  c.mem(Op.i32_store, t.header + TABLE_FREE);
  c.op(Op.else);
  c.i32(0);
  c.mem(Op.i32_load, t.header + TABLE_USED);
  c.localTee(L_S);
  tooBigAt(c, t.maxEntries);
  c.i32(0);
  c.localGet(L_S);
  c.i32(1);
  c.op(Op.i32_add);
  c.localTee(L_S);
  c.mem(Op.i32_store, t.header + TABLE_USED);
  c.op(Op.end);
  // The key, as whole words (the stored key's zero padding included).
  keyRecord(c, t, L_S);
  for (let i = 0; i < words; i++) {
    c.localGet(L_P);
    c.localGet(L_W + i);
    c.mem(Op.i32_store, t.keys - t.keyStride + 4 * i);
  }
  c.localGet(L_B);
  c.i32(2);
  c.op(Op.i32_shl);
  c.localGet(L_S);
  c.mem(Op.i32_store, t.buckets);
  // Append to the order: prev = tail, next = 0, then tail's next (or head) and tail.
  c.i32(0);
  c.mem(Op.i32_load, t.header + TABLE_TAIL);
  c.localSet(L_H);
  c.localGet(L_S);
  c.i32(3);
  c.op(Op.i32_shl);
  c.localTee(L_P);
  c.localGet(L_H);
  c.mem(Op.i32_store, t.links - 8);
  c.localGet(L_P);
  c.i32(0);
  c.mem(Op.i32_store, t.links - 4);
  setLink(c, t, L_H, 'next', L_S);
  c.i32(0);
  c.localGet(L_S);
  c.mem(Op.i32_store, t.header + TABLE_TAIL);
  addCount(c, t, Op.i32_add);
  slotValue(c, m.values, m.slotSize);
  copyValue(c, L_VA, m.valueSize);
  ret(c, 0);
}

/**
 * As HashTable.remove: the bucket (the probe run after it shifted back
 * over the hole), the place in the order, the key's bytes, then the slot
 * goes on the free list.
 */
function hashDelete(c: Code, m: HashLayout, ranges: readonly ReadableRange[]): void {
  const t = m.table;
  inBounds(c, ranges, P_KEY, m.keySize, L_A);
  const words = hashKey(c, m);
  probe(c, m, words, () => {
    // L_B is the hole, L_J walks the run after it, L_VA holds the slot + 1 at L_J.
    c.localGet(L_B);
    c.localSet(L_J);
    c.block(Op.block);
    c.block(Op.loop);
    c.localGet(L_J);
    nextBucket(c, t);
    c.localTee(L_J);
    loadBucket(c, t, L_VA);
    bucketOf(c, m, (i) => {
      c.localGet(L_P);
      c.mem(Op.i32_load, t.keys - t.keyStride + 4 * i);
    });
    c.localSet(L_HOME);
    // It stays unless its home lies cyclically outside (hole, j]: inside means hole < home
    // and home <= j when the run does not wrap (hole <= j), either of them when it does.
    const inRun = (join: typeof Op.i32_and | typeof Op.i32_or): void => {
      c.localGet(L_B);
      c.localGet(L_HOME);
      c.op(Op.i32_lt_u);
      c.localGet(L_HOME);
      c.localGet(L_J);
      c.op(Op.i32_le_u);
      c.op(join);
    };
    c.localGet(L_B);
    c.localGet(L_J);
    c.op(Op.i32_le_u);
    c.block(Op.if, I32);
    inRun(Op.i32_and);
    c.op(Op.else);
    inRun(Op.i32_or);
    c.op(Op.end);
    c.op(Op.i32_eqz);
    c.block(Op.if);
    c.localGet(L_B);
    c.i32(2);
    c.op(Op.i32_shl);
    c.localGet(L_VA);
    c.mem(Op.i32_store, t.buckets);
    c.localGet(L_J);
    c.localSet(L_B);
    c.op(Op.end);
    c.br(0);
    c.op(Op.end);
    c.op(Op.end);
    c.localGet(L_B);
    c.i32(2);
    c.op(Op.i32_shl);
    c.i32(0);
    c.mem(Op.i32_store, t.buckets);
    // Unlink: L_J = prev, L_HOME = next.
    c.localGet(L_S);
    c.i32(3);
    c.op(Op.i32_shl);
    c.localTee(L_P);
    c.mem(Op.i32_load, t.links - 8);
    c.localSet(L_J);
    c.localGet(L_P);
    c.mem(Op.i32_load, t.links - 4);
    c.localSet(L_HOME);
    setLink(c, t, L_J, 'next', L_HOME);
    setLink(c, t, L_HOME, 'prev', L_J);
    // prev = -1 (free), next = the free list; the key's bytes zeroed.
    c.localGet(L_P);
    c.i32(-1);
    c.mem(Op.i32_store, t.links - 8);
    c.localGet(L_P);
    c.i32(0);
    c.mem(Op.i32_load, t.header + TABLE_FREE);
    c.mem(Op.i32_store, t.links - 4);
    c.i32(0);
    c.localGet(L_S);
    c.mem(Op.i32_store, t.header + TABLE_FREE);
    keyRecord(c, t, L_S);
    for (let o = 0; o < t.keyStride; o += 4) {
      c.localGet(L_P);
      c.i32(0);
      c.mem(Op.i32_store, t.keys - t.keyStride + o);
    }
    addCount(c, t, Op.i32_sub);
    ret(c, 0);
  });
  ret(c, ENOENT);
}

function arrayLookup(c: Code, m: ArrayLayout, ranges: readonly ReadableRange[]): void {
  inBounds(c, ranges, P_KEY, 4, L_A);
  c.localGet(L_A);
  c.mem(Op.i32_load, 0);
  c.localTee(L_S);
  c.i32(m.maxEntries | 0);
  c.op(Op.i32_ge_u);
  c.block(Op.if);
  ret(c, 0);
  c.op(Op.end);
  c.localGet(L_S);
  c.i32(m.slotSize);
  c.op(Op.i32_mul);
  c.i32(m.values | 0);
  c.op(Op.i32_add);
  c.op(Op.i64_extend_i32_u);
  c.op(Op.return);
}

function arrayUpdate(c: Code, m: ArrayLayout, ranges: readonly ReadableRange[]): void {
  updateArgs(c, ranges, 4, m.valueSize);
  c.localGet(L_A);
  c.mem(Op.i32_load, 0);
  c.localTee(L_S);
  tooBigAt(c, m.maxEntries);
  flagsFail(c, Op.i64_eq, 1, EEXIST);
  c.localGet(L_S);
  c.i32(m.slotSize);
  c.op(Op.i32_mul);
  c.i32(m.values | 0);
  c.op(Op.i32_add);
  copyValue(c, L_VA, m.valueSize);
  ret(c, 0);
}
