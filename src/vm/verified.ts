/**
 * What an engine may take from the verifier's proof of one program: the
 * same shape as src/verifier's VerifiedFacts (declared here so src/vm does
 * not depend on src/verifier; `verify(insns, { facts: true }).facts`
 * satisfies it). The facts must come from verify() on the very same
 * instructions, program type and maps the engine runs: engines trust them
 * to drop bounds checks. Even wrong facts cannot make an engine touch host
 * memory outside the address space's WebAssembly.Memory (typed-array and
 * WebAssembly accesses are bounded by it), but the program may then read or
 * write any of the sandbox's regions, and a wild access surfaces as a
 * RangeError (interpreter) or RuntimeError (JIT) instead of VmMemoryError.
 */
export interface VerifiedFacts {
  /** Per 8-byte slot: 1 when some path reaches it. */
  readonly reached: Uint8Array;
  /** Per slot of a load, store or atomic: region bits; non-zero means proven in bounds on every path reaching it. */
  readonly memRegion: Uint8Array;
  /** Per slot of a div/mod by a register: 1 when the divisor is proven non-zero. */
  readonly divisorNonZero: Uint8Array;
  /** Bytes of stack the deepest call chain uses. */
  readonly stackDepth: number;
}

/** True when the access at `slot` was proven in bounds (facts cover it). */
export function provenAccess(facts: VerifiedFacts | undefined, slot: number): boolean {
  return facts !== undefined && slot < facts.memRegion.length && facts.memRegion[slot] !== 0;
}
