/**
 * Classic BPF compiled to a JavaScript function, for filtering captures at
 * speed: each instruction becomes a `case` of one switch on pc inside a
 * loop, so straight-line code falls through and a jump is one dense-switch
 * dispatch; V8 then compiles the function to machine code. libpcap's
 * semantics, exactly those of the interpreter in run.ts (loads outside the
 * captured bytes and division by zero return 0; shifts of 32 or more give 0;
 * backward `ja` within a budget).
 *
 * Only what the interpreter runs without errors is compiled: programs with
 * invalid opcodes, scratch indexes, jumps past the end, ancillary or
 * negative-offset loads return undefined, and so does a host that forbids
 * generating code (a Content-Security-Policy without 'unsafe-eval').
 */
import { CbpfLoopError } from './errors.js';
import { BPF_MEMWORDS, type SockFilter } from './insn.js';

/** A compiled filter: 0 rejects the packet at buf[start..start+caplen), else the snap length. */
export type CompiledCbpf = (buf: Uint8Array, start: number, caplen: number, wirelen: number) => number;

const loopError = (pc: number): CbpfLoopError =>
  new CbpfLoopError('the program jumps backwards more than its loop budget allows (it loops)', pc);

/** Compile a filter for the libpcap dialect, or undefined when it must run on the interpreter. */
export function compileCbpfToJs(filter: readonly SockFilter[], loopBudget: number): CompiledCbpf | undefined {
  const n = filter.length;
  if (n === 0) return undefined;
  const lines: string[] = [];
  const used = new Set<number>();
  const target = (pc: number, off: number): number => pc + 1 + off;
  for (let pc = 0; pc < n; pc++) {
    const f = filter[pc];
    const k = f.k >>> 0;
    const code = f.code;
    const next = pc + 1;
    const go = (t: number): string => (t === next ? '' : `pc = ${t}; continue;`);
    const cond = (test: string): string | undefined => {
      const t = target(pc, f.jt);
      const e = target(pc, f.jf);
      if (t >= n || e >= n) return undefined;
      if (t === e) return go(t) || '/* both branches fall through */';
      if (t === next) return `if (!(${test})) { pc = ${e}; continue; }`;
      if (e === next) return `if (${test}) { pc = ${t}; continue; }`;
      return `pc = (${test}) ? ${t} : ${e}; continue;`;
    };
    const needsNext = !(code === 0x06 || code === 0x16 || (code & 0x07) === 0x05);
    if (needsNext && next >= n) return undefined; // would run past the end: the interpreter reports it
    let s: string | undefined;
    const abs = (size: number, expr: string): string | undefined =>
      k >= 0x80000000 ? undefined : `if (${k} > caplen - ${size}) return 0; p = start + ${k}; ${expr}`;
    const ind = (size: number, expr: string): string =>
      `p = X + ${k}; if (p > caplen - ${size}) return 0; p += start; ${expr}`;
    const W = 'A = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;';
    const H = 'A = (buf[p] << 8) | buf[p + 1];';
    const B = 'A = buf[p];';
    const mem = (): boolean => {
      if (k >= BPF_MEMWORDS) return false;
      used.add(k);
      return true;
    };
    switch (code) {
      case 0x06: s = `return ${k};`; break;
      case 0x16: s = 'return A;'; break;
      case 0x20: s = abs(4, W); break;
      case 0x28: s = abs(2, H); break;
      case 0x30: s = abs(1, B); break;
      case 0x40: s = ind(4, W); break;
      case 0x48: s = ind(2, H); break;
      case 0x50: s = ind(1, B); break;
      case 0xb1: s = k >= 0x80000000 ? undefined : `if (${k} >= caplen) return 0; X = (buf[start + ${k}] & 15) << 2;`; break;
      case 0x80: s = 'A = wirelen >>> 0;'; break;
      case 0x81: s = 'X = wirelen >>> 0;'; break;
      case 0x00: s = `A = ${k};`; break;
      case 0x01: s = `X = ${k};`; break;
      case 0x60: s = mem() ? `A = m${k};` : undefined; break;
      case 0x61: s = mem() ? `X = m${k};` : undefined; break;
      case 0x02: s = mem() ? `m${k} = A;` : undefined; break;
      case 0x03: s = mem() ? `m${k} = X;` : undefined; break;
      case 0x05: {
        const t = pc + 1 + (k | 0);
        if (t < 0 || t >= n) return undefined;
        s = t <= pc ? `if (--budget < 0) throw loopError(${pc}); pc = ${t}; continue;` : go(t);
        break;
      }
      case 0x15: s = cond(`A === ${k}`); break;
      case 0x25: s = cond(`A > ${k}`); break;
      case 0x35: s = cond(`A >= ${k}`); break;
      case 0x45: s = cond(`(A & ${k}) !== 0`); break;
      case 0x1d: s = cond('A === X'); break;
      case 0x2d: s = cond('A > X'); break;
      case 0x3d: s = cond('A >= X'); break;
      case 0x4d: s = cond('(A & X) !== 0'); break;
      case 0x04: s = `A = (A + ${k}) >>> 0;`; break;
      case 0x14: s = `A = (A - ${k}) >>> 0;`; break;
      case 0x24: s = `A = Math.imul(A, ${k}) >>> 0;`; break;
      case 0x34: s = k === 0 ? 'return 0;' : `A = Math.floor(A / ${k}) >>> 0;`; break;
      case 0x94: s = k === 0 ? 'return 0;' : `A = (A % ${k}) >>> 0;`; break;
      case 0x54: s = `A = (A & ${k}) >>> 0;`; break;
      case 0x44: s = `A = (A | ${k}) >>> 0;`; break;
      case 0xa4: s = `A = (A ^ ${k}) >>> 0;`; break;
      case 0x64: s = k >= 32 ? 'A = 0;' : `A = (A << ${k}) >>> 0;`; break;
      case 0x74: s = k >= 32 ? 'A = 0;' : `A = A >>> ${k};`; break;
      case 0x0c: s = 'A = (A + X) >>> 0;'; break;
      case 0x1c: s = 'A = (A - X) >>> 0;'; break;
      case 0x2c: s = 'A = Math.imul(A, X) >>> 0;'; break;
      case 0x3c: s = 'if (X === 0) return 0; A = Math.floor(A / X) >>> 0;'; break;
      case 0x9c: s = 'if (X === 0) return 0; A = (A % X) >>> 0;'; break;
      case 0x5c: s = 'A = (A & X) >>> 0;'; break;
      case 0x4c: s = 'A = (A | X) >>> 0;'; break;
      case 0xac: s = 'A = (A ^ X) >>> 0;'; break;
      case 0x6c: s = 'A = X >= 32 ? 0 : (A << X) >>> 0;'; break;
      case 0x7c: s = 'A = X >= 32 ? 0 : A >>> X;'; break;
      case 0x84: s = 'A = -A >>> 0;'; break;
      case 0x07: s = 'X = A;'; break;
      case 0x87: s = 'A = X;'; break;
    }
    if (s === undefined) return undefined;
    lines.push(`case ${pc}: ${s}`);
  }
  const memDecl = [...used].map((i) => `m${i} = 0`).join(', ');
  const body = `
    return function cbpfFilter(buf, start, caplen, wirelen) {
      let A = 0, X = 0, p = 0, pc = 0, budget = ${loopBudget >>> 0}${memDecl ? `, ${memDecl}` : ''};
      for (;;) {
        switch (pc) {
          ${lines.join('\n          ')}
        }
      }
    };`;
  try {
    return new Function('loopError', body)(loopError) as CompiledCbpf;
  } catch {
    return undefined; // code generation refused by the host
  }
}
