/**
 * Classic BPF compiled to JavaScript, for filtering captures at speed.
 * A program that only jumps forward (all but libpcap's protochain) becomes
 * structured code: every jump target closes a labelled block opened at the
 * top, so a jump is a `break` to that label and V8 sees plain branches,
 * which it compiles to straight machine code. The statements can also be
 * embedded in a generated loop (cbpfToJsStatements; the pcap scan does so,
 * to run a whole capture without a call per packet). A program that jumps
 * backwards becomes one `switch` on pc inside a loop, each instruction a
 * `case`, with the jump budget counted. Both have libpcap's semantics,
 * exactly those of the interpreter in run.ts (loads outside the captured
 * bytes and division by zero return 0; shifts of 32 or more give 0;
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

/** Filter code to embed in generated JavaScript (see cbpfToJsStatements). */
export interface CbpfJsStatements {
  /** Declarations of the locals the statements use (`let A = 0, ...;`): run them once per packet, before `code`. */
  readonly locals: string;
  /** The statements: every path ends in one of the `ret` snippets. */
  readonly code: string;
}

const loopError = (pc: number): CbpfLoopError =>
  new CbpfLoopError('the program jumps backwards more than its loop budget allows (it loops)', pc);

/** How the generated code leaves the program and moves between instructions. */
interface Emitter {
  /** Statements that end the run with this value (a JavaScript expression). */
  ret(value: string): string;
  /** Statements that continue at instruction `to` (never the next one: that falls through). */
  jump(from: number, to: number): string | undefined;
}

/**
 * One instruction as JavaScript, or undefined when the interpreter must run
 * the program (invalid opcode or scratch index, jump past the end,
 * ancillary or negative-offset load, running off the end).
 */
function insnJs(filter: readonly SockFilter[], pc: number, e: Emitter, mem: Set<number>): string | undefined {
  const n = filter.length;
  const f = filter[pc];
  const k = f.k >>> 0;
  const code = f.code;
  const next = pc + 1;
  const go = (t: number): string | undefined => (t === next ? '' : e.jump(pc, t));
  const cond = (test: string): string | undefined => {
    const t = next + f.jt;
    const el = next + f.jf;
    if (t >= n || el >= n) return undefined;
    if (t === el) return go(t);
    const jt = go(t);
    const je = go(el);
    if (jt === undefined || je === undefined) return undefined;
    if (t === next) return `if (!(${test})) { ${je} }`;
    if (el === next) return `if (${test}) { ${jt} }`;
    return `if (${test}) { ${jt} } else { ${je} }`;
  };
  const needsNext = !(code === 0x06 || code === 0x16 || (code & 0x07) === 0x05);
  if (needsNext && next >= n) return undefined; // would run past the end: the interpreter reports it
  const R0 = e.ret('0');
  const abs = (size: number, expr: string): string | undefined =>
    k >= 0x80000000 ? undefined : `if (${k} > caplen - ${size}) { ${R0} } p = start + ${k}; ${expr}`;
  const ind = (size: number, expr: string): string =>
    `p = X + ${k}; if (p > caplen - ${size}) { ${R0} } p += start; ${expr}`;
  const W = 'A = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;';
  const H = 'A = (buf[p] << 8) | buf[p + 1];';
  const B = 'A = buf[p];';
  const scratch = (): boolean => {
    if (k >= BPF_MEMWORDS) return false;
    mem.add(k);
    return true;
  };
  switch (code) {
    case 0x06: return e.ret(String(k));
    case 0x16: return e.ret('A');
    case 0x20: return abs(4, W);
    case 0x28: return abs(2, H);
    case 0x30: return abs(1, B);
    case 0x40: return ind(4, W);
    case 0x48: return ind(2, H);
    case 0x50: return ind(1, B);
    case 0xb1: return k >= 0x80000000 ? undefined : `if (${k} >= caplen) { ${R0} } X = (buf[start + ${k}] & 15) << 2;`;
    case 0x80: return 'A = wirelen >>> 0;';
    case 0x81: return 'X = wirelen >>> 0;';
    case 0x00: return `A = ${k};`;
    case 0x01: return `X = ${k};`;
    case 0x60: return scratch() ? `A = m${k};` : undefined;
    case 0x61: return scratch() ? `X = m${k};` : undefined;
    case 0x02: return scratch() ? `m${k} = A;` : undefined;
    case 0x03: return scratch() ? `m${k} = X;` : undefined;
    case 0x05: {
      const t = next + (k | 0);
      return t < 0 || t >= n ? undefined : go(t);
    }
    case 0x15: return cond(`A === ${k}`);
    case 0x25: return cond(`A > ${k}`);
    case 0x35: return cond(`A >= ${k}`);
    case 0x45: return cond(`(A & ${k}) !== 0`);
    case 0x1d: return cond('A === X');
    case 0x2d: return cond('A > X');
    case 0x3d: return cond('A >= X');
    case 0x4d: return cond('(A & X) !== 0');
    case 0x04: return `A = (A + ${k}) >>> 0;`;
    case 0x14: return `A = (A - ${k}) >>> 0;`;
    case 0x24: return `A = Math.imul(A, ${k}) >>> 0;`;
    case 0x34: return k === 0 ? R0 : `A = Math.floor(A / ${k}) >>> 0;`;
    case 0x94: return k === 0 ? R0 : `A = (A % ${k}) >>> 0;`;
    case 0x54: return `A = (A & ${k}) >>> 0;`;
    case 0x44: return `A = (A | ${k}) >>> 0;`;
    case 0xa4: return `A = (A ^ ${k}) >>> 0;`;
    case 0x64: return k >= 32 ? 'A = 0;' : `A = (A << ${k}) >>> 0;`;
    case 0x74: return k >= 32 ? 'A = 0;' : `A = A >>> ${k};`;
    case 0x0c: return 'A = (A + X) >>> 0;';
    case 0x1c: return 'A = (A - X) >>> 0;';
    case 0x2c: return 'A = Math.imul(A, X) >>> 0;';
    case 0x3c: return `if (X === 0) { ${R0} } A = Math.floor(A / X) >>> 0;`;
    case 0x9c: return `if (X === 0) { ${R0} } A = (A % X) >>> 0;`;
    case 0x5c: return 'A = (A & X) >>> 0;';
    case 0x4c: return 'A = (A | X) >>> 0;';
    case 0xac: return 'A = (A ^ X) >>> 0;';
    case 0x6c: return 'A = X >= 32 ? 0 : (A << X) >>> 0;';
    case 0x7c: return 'A = X >= 32 ? 0 : A >>> X;';
    case 0x84: return 'A = -A >>> 0;';
    case 0x07: return 'X = A;';
    case 0x87: return 'A = X;';
  }
  return undefined;
}

const declare = (mem: Set<number>, extra = ''): string =>
  `let A = 0, X = 0, p = 0${extra}${[...mem].map((i) => `, m${i} = 0`).join('')};`;

/** Labelled blocks nest once per jump target; past this many, the switch form is used (parsers limit nesting). */
const MAX_TARGETS = 1500;

/**
 * A program that only jumps forward, as JavaScript statements (see
 * CbpfJsStatements) reading the packet at buf[start..start+caplen) with its
 * wire length in `wirelen` (those four names must be in scope); `ret(value)`
 * gives the statements that end a run with a value (a `return`, or a store
 * and a `break` out of an enclosing labelled block). The code uses the
 * locals A, X, p, m0..m15 and labels L<n>. Undefined for programs with
 * backward jumps and for those compileCbpfToJs leaves to the interpreter.
 */
export function cbpfToJsStatements(filter: readonly SockFilter[], ret: (value: string) => string): CbpfJsStatements | undefined {
  const n = filter.length;
  if (n === 0) return undefined;
  const targets = new Set<number>();
  const emitter: Emitter = {
    ret,
    jump: (from, to) => {
      if (to <= from) return undefined;
      targets.add(to);
      return `break L${to};`;
    },
  };
  const mem = new Set<number>();
  const lines: string[] = [];
  for (let pc = 0; pc < n; pc++) {
    const s = insnJs(filter, pc, emitter, mem);
    if (s === undefined) return undefined;
    lines.push(s);
  }
  if (targets.size > MAX_TARGETS) return undefined;
  // Block L<t> holds instructions 0..t-1, so `break L<t>` continues at t; innermost is the nearest target.
  const order = [...targets].sort((a, b) => b - a);
  const out = [order.map((t) => `L${t}: {`).join(' ')];
  for (let pc = 0; pc < n; pc++) {
    if (targets.has(pc)) out.push('}');
    out.push(lines[pc]);
  }
  return { locals: declare(mem), code: out.join('\n') };
}

/** Compile a filter for the libpcap dialect, or undefined when it must run on the interpreter. */
export function compileCbpfToJs(filter: readonly SockFilter[], loopBudget: number): CompiledCbpf | undefined {
  let body: string;
  const structured = cbpfToJsStatements(filter, (v) => `return ${v};`);
  if (structured) {
    body = `
    return function cbpfFilter(buf, start, caplen, wirelen) {
      ${structured.locals}
      ${structured.code}
    };`;
  } else {
    const switched = switchForm(filter, loopBudget);
    if (switched === undefined) return undefined;
    body = switched;
  }
  try {
    return new Function('loopError', body)(loopError) as CompiledCbpf;
  } catch {
    return undefined; // code generation refused by the host
  }
}

/** The general form: a switch on pc in a loop, backward jumps counted against the budget. */
function switchForm(filter: readonly SockFilter[], loopBudget: number): string | undefined {
  const n = filter.length;
  if (n === 0) return undefined;
  const emitter: Emitter = {
    ret: (v) => `return ${v};`,
    jump: (from, to) => (to <= from ? `if (--budget < 0) throw loopError(${from}); pc = ${to}; continue;` : `pc = ${to}; continue;`),
  };
  const mem = new Set<number>();
  const lines: string[] = [];
  for (let pc = 0; pc < n; pc++) {
    const s = insnJs(filter, pc, emitter, mem);
    if (s === undefined) return undefined;
    lines.push(`case ${pc}: ${s}`);
  }
  return `
    return function cbpfFilter(buf, start, caplen, wirelen) {
      ${declare(mem, `, pc = 0, budget = ${loopBudget >>> 0}`)}
      for (;;) {
        switch (pc) {
          ${lines.join('\n          ')}
        }
      }
    };`;
}
