/**
 * Names for the stack frames of recorded events: the {"symbols": [...]}
 * table of a recording (kernel functions, and each process's own), looked
 * up as the live system would be (the function containing the address;
 * a size of 0 reaches up to the next function).
 */
import type { UserSymbol } from '../user-symbols.js';
import type { UserSymbols } from '../stack-frames.js';
import { frameAddress, type RecordedSymbol } from './events.js';

interface Entry { readonly start: bigint; readonly end: bigint; readonly name: string; readonly module: string }

class Table {
  private readonly entries: Entry[];
  constructor(syms: readonly RecordedSymbol[]) {
    const sorted = syms.map((s) => ({ start: frameAddress(s.addr), size: frameAddress(s.size), name: s.name, module: s.module ?? '[unknown]' }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.entries = sorted.map((s, i) => ({ start: s.start, end: s.size > 0n ? s.start + s.size : sorted[i + 1]?.start ?? 1n << 64n, name: s.name, module: s.module }));
  }
  find(addr: bigint): Entry | undefined {
    let lo = 0, hi = this.entries.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid].start <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    const e = this.entries[best];
    return e && addr < e.end ? e : undefined;
  }
}

export interface RecordedResolvers {
  /** `name` (ksym()) or the address in hex. */
  ksym(addr: bigint): string;
  /** `name+offset` (kstack frames) or the address in hex. */
  ksymOffset(addr: bigint): string;
  userSymbols: UserSymbols;
}

export function recordedResolvers(symbols: readonly RecordedSymbol[]): RecordedResolvers {
  const kernel = new Table(symbols.filter((s) => s.pid === undefined));
  const byPid = new Map<number, Table>();
  for (const pid of new Set(symbols.flatMap((s) => (s.pid === undefined ? [] : [s.pid])))) byPid.set(pid, new Table(symbols.filter((s) => s.pid === pid)));
  const hex = (a: bigint) => `0x${a.toString(16)}`;
  return {
    ksym: (a) => kernel.find(a)?.name ?? hex(a),
    ksymOffset: (a) => {
      const e = kernel.find(a);
      return e ? `${e.name}+${a - e.start}` : hex(a);
    },
    userSymbols: (pid, addrs) => addrs.map((a): UserSymbol | undefined => {
      const e = byPid.get(pid)?.find(a);
      return e ? { name: e.name, offset: a - e.start, module: e.module } : undefined;
    }),
  };
}
