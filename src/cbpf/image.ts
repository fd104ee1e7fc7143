/**
 * Listings in the three formats of `tcpdump -d`, `-dd` and `-ddd`, printed
 * byte for byte as libpcap 1.10's bpf_dump / bpf_image do (the tests compare
 * with the installed libpcap).
 */
import { ancillaryImage } from './ancillary.js';
import type { SockFilter } from './insn.js';

/** 1: `tcpdump -d` (readable), 2: `-dd` (C array), 3: `-ddd` (decimal, what iptables/tc take). */
export type DumpLevel = 1 | 2 | 3;

const signed = (k: number) => k | 0;
const hex = (k: number) => `0x${(k >>> 0).toString(16)}`;
const abs = (k: number) => `[${ancillaryImage(k) ?? signed(k)}]`;

const ALU_NAMES = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'neg', 'mod', 'xor'] as const;
const JMP_NAMES = ['ja', 'jeq', 'jgt', 'jge', 'jset'] as const;

/** The mnemonic and operand bpf_image prints for one instruction at index n. */
export function imageParts(f: SockFilter, n: number): { op: string; operand: string } {
  const k = f.k >>> 0;
  switch (f.code) {
    case 0x06: return { op: 'ret', operand: `#${signed(k)}` };
    case 0x16: return { op: 'ret', operand: '' };
    case 0x20: return { op: 'ld', operand: abs(k) };
    case 0x28: return { op: 'ldh', operand: abs(k) };
    case 0x30: return { op: 'ldb', operand: abs(k) };
    case 0x80: return { op: 'ld', operand: '#pktlen' };
    case 0x40: return { op: 'ld', operand: `[x + ${signed(k)}]` };
    case 0x48: return { op: 'ldh', operand: `[x + ${signed(k)}]` };
    case 0x50: return { op: 'ldb', operand: `[x + ${signed(k)}]` };
    case 0x00: return { op: 'ld', operand: `#${hex(k)}` };
    case 0x01: return { op: 'ldx', operand: `#${hex(k)}` };
    case 0xb1: return { op: 'ldxb', operand: `4*([${signed(k)}]&0xf)` };
    case 0x60: return { op: 'ld', operand: `M[${signed(k)}]` };
    case 0x61: return { op: 'ldx', operand: `M[${signed(k)}]` };
    case 0x02: return { op: 'st', operand: `M[${signed(k)}]` };
    case 0x03: return { op: 'stx', operand: `M[${signed(k)}]` };
    case 0x05: return { op: 'ja', operand: `${(n + 1 + k) | 0}` };
    case 0x84: return { op: 'neg', operand: '' };
    case 0x07: return { op: 'tax', operand: '' };
    case 0x87: return { op: 'txa', operand: '' };
  }
  const cls = f.code & 0x07;
  const opIdx = (f.code & 0xf0) >> 4;
  const isX = (f.code & 0x08) !== 0;
  if (f.code < 0x100 && cls === 0x04 && opIdx < ALU_NAMES.length && opIdx !== 8) {
    const op = ALU_NAMES[opIdx];
    if (isX) return { op, operand: 'x' };
    const useHex = op === 'and' || op === 'or' || op === 'xor';
    return { op, operand: useHex ? `#${hex(k)}` : `#${signed(k)}` };
  }
  if (f.code < 0x100 && cls === 0x05 && opIdx >= 1 && opIdx < JMP_NAMES.length) {
    return { op: JMP_NAMES[opIdx], operand: isX ? 'x' : `#${hex(k)}` };
  }
  return { op: 'unimp', operand: hex(f.code) };
}

/** bpf_image appends jt/jf for every JMP-class code whose op is not JA, even unknown ones. */
const isConditional = (code: number) => (code & 0x07) === 0x05 && (code & 0xf0) !== 0;

/** One line of `tcpdump -d` for instruction n (bpf_image). */
export function formatInsn(f: SockFilter, n: number): string {
  const { op, operand } = imageParts(f, n);
  const idx = `(${String(n).padStart(3, '0')})`;
  if (isConditional(f.code)) {
    return `${idx} ${op.padEnd(8)} ${operand.padEnd(16)} jt ${n + 1 + f.jt}\tjf ${n + 1 + f.jf}`;
  }
  return `${idx} ${op.padEnd(8)} ${operand}`;
}

/** The whole listing, each line ending in a newline, as `tcpdump -d`/`-dd`/`-ddd` print it. */
export function dumpFilter(filter: readonly SockFilter[], level: DumpLevel = 1): string {
  if (level === 3) {
    return `${filter.length}\n${filter.map((f) => `${f.code} ${f.jt} ${f.jf} ${f.k >>> 0}\n`).join('')}`;
  }
  if (level === 2) {
    return filter.map((f) => `{ 0x${f.code.toString(16)}, ${f.jt}, ${f.jf}, 0x${(f.k >>> 0).toString(16).padStart(8, '0')} },\n`).join('');
  }
  return filter.map((f, i) => `${formatInsn(f, i)}\n`).join('');
}

/** The one-line form `iptables -m bpf --bytecode` and `tc ... bpf bytecode` take: `4,48 0 0 9,...`. */
export function bytecodeString(filter: readonly SockFilter[]): string {
  return [String(filter.length), ...filter.map((f) => `${f.code} ${f.jt} ${f.jf} ${f.k >>> 0}`)].join(',');
}
