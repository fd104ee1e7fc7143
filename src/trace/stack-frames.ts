/**
 * kstack/ustack values to the frames bpftrace prints, whichever backend
 * holds the stack trace maps: split the value (a stack id; ustack's carries
 * the pid in its upper 32 bits), read the addresses the map keeps for the
 * id, and name them (`func+offset`, perf mode `hexaddr func+offset`, user
 * frames then ` (module)`; an unknown address as a C++ pointer prints).
 */
import { DEFAULT_STACK_DEPTH, type StackMapSpec } from './compiled.js';
import type { StackTType } from './output.js';
import { hexPointer, type UserSymbol } from './user-symbols.js';

/** Names user addresses of a process (undefined: unknown), e.g. UserSymbolizer.resolveAll. */
export type UserSymbols = (pid: number, addrs: readonly bigint[]) => readonly (UserSymbol | undefined)[];

/** The stack map a kstack/ustack type's values are ids in. */
export function stackMapOf(stacks: readonly StackMapSpec[], t: StackTType): StackMapSpec | undefined {
  const limit = t.limit ?? DEFAULT_STACK_DEPTH;
  const mode = t.mode ?? 'bpftrace';
  return stacks.find((s) => s.limit === limit && s.mode === mode);
}

/**
 * Frames of a stack value, given a lookup of the map's value by id;
 * undefined when get_stackid failed or the map lacks the id (bpftrace then
 * prints nothing).
 */
export function stackFrames(
  value: bigint, t: StackTType, lookup: (id: number) => Uint8Array | undefined,
  ksym: (addr: bigint) => string, userSymbols: UserSymbols | undefined,
): readonly string[] | undefined {
  const id = Number(BigInt.asIntN(32, value));
  const pid = Number(BigInt.asIntN(32, value >> 32n));
  if (id < 0) return undefined;
  const v = lookup(id);
  if (!v) return undefined;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const addrs: bigint[] = [];
  for (let i = 0; i < Math.min(t.limit ?? DEFAULT_STACK_DEPTH, Math.floor(v.length / 8)); i++) {
    const addr = dv.getBigUint64(i * 8, true);
    if (addr === 0n) break;
    addrs.push(addr);
  }
  const perf = t.mode === 'perf';
  if (t.kind === 'kstack') return addrs.map((a) => (perf ? `${a.toString(16)} ${ksym(a)}` : ksym(a)));
  const syms = userSymbols?.(pid, addrs) ?? [];
  return addrs.map((a, i) => {
    const s = syms[i];
    const name = s ? `${s.name}+${s.offset}` : hexPointer(a);
    return perf ? `${a.toString(16)} ${name} (${s ? s.module : '[unknown]'})` : name;
  });
}

/** A 4-byte stack map key. */
export function stackKey(id: number): Uint8Array {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, id, true);
  return key;
}
