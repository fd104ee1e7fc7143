/**
 * The assembler: text in the llvm, kernel-log or ubpf syntax to `Insn[]`.
 * Lines may carry `name:` labels, comments (`#`, `;`, `//`), and the
 * decorations of pasted tool output: a leading `N:` slot index, the raw
 * bytes of an llvm-objdump line, the `(xx)` opcode of a verifier log line,
 * and objdump's trailing `<label>` annotations.
 */
import { encodeInsn, EncodeError, insnSlots, type Insn } from '../isa/index.js';
import { Cursor } from './cursor.js';
import { AsmError } from './errors.js';
import { tokenize } from './lexer.js';
import { parseLlvmLine } from './parse-llvm.js';
import { isUbpfMnemonic, parseUbpfLine } from './parse-ubpf.js';
import type { Parsed } from './parsed.js';

export type Syntax = 'llvm' | 'ubpf' | 'auto';

export interface AssembleOptions {
  /** Which syntax the text is in; `auto` (the default) decides per file. */
  readonly syntax?: Syntax;
}

/** One source line after its decorations are peeled off. */
interface Line {
  readonly no: number;
  readonly source: string;
  /** Instruction text and the column (1-based) it starts at. */
  readonly text: string;
  readonly col: number;
  readonly labels: { name: string; col: number }[];
  /** Slot index from a leading `N:`, if any. */
  readonly index?: number;
  /** Opcode from a kernel log's `(xx)`, if any. */
  readonly opcode?: number;
}

// `12: (b7) r0 = 1`, or the liveness table of Linux 6.15+: `     12: 0123...... (b7) r0 = 1`.
const KERNEL_LOG_LINE = /^\s*\d+:\s*(?:[.0-9]{10}\s+)?\([0-9a-f]{2}\)/;
const OBJDUMP_LINE = /^\s*\d+:\s+(?:[0-9a-f]{2} ){7}[0-9a-f]{2}/;
const OBJDUMP_SYMBOL = /^\s*[0-9a-f]{8,16} <([^<>\s]+)>:\s*$/;
const LABEL = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*:/;

/** Cut the comment off a line: `//`, `;` anywhere, `#` at the start or after a blank (`name#1` is a kernel call). */
function stripComment(s: string): string {
  let end = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ';' || (c === '/' && s[i + 1] === '/') || (c === '#' && (i === 0 || s[i - 1] === ' ' || s[i - 1] === '\t'))) {
      end = i;
      break;
    }
  }
  return s.slice(0, end);
}

function splitLines(text: string): Line[] {
  const raw = text.split(/\r?\n/);
  // Pasted tool output: keep only its instruction lines (and objdump's symbols, as labels).
  const kernelLog = raw.some((l) => KERNEL_LOG_LINE.test(l));
  const objdump = !kernelLog && raw.some((l) => OBJDUMP_LINE.test(l));
  const out: Line[] = [];
  raw.forEach((source, i) => {
    const no = i + 1;
    if (objdump) {
      const sym = OBJDUMP_SYMBOL.exec(source);
      if (sym) {
        out.push({ no, source, text: '', col: source.length + 1, labels: [{ name: sym[1], col: source.indexOf('<') + 2 }] });
        return;
      }
      if (!OBJDUMP_LINE.test(source)) return;
    }
    if (kernelLog && !KERNEL_LOG_LINE.test(source)) return;
    let rest = stripComment(source);
    let pos = 0;
    const skip = (re: RegExp): RegExpExecArray | null => {
      const m = re.exec(rest.slice(pos));
      if (m) pos += m[0].length;
      return m;
    };
    skip(/^\s*/);
    let index: number | undefined;
    let opcode: number | undefined;
    const idx = skip(/^(\d+):\s*/);
    if (idx) {
      index = Number(idx[1]);
      skip(/^(?:[0-9a-f]{2} ){15}[0-9a-f]{2}(?=\s|$)\s*/) ?? skip(/^(?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?=\s|$)\s*/);
      if (kernelLog) skip(/^[.0-9]{10}\s+(?=\()/);
      const op = skip(/^\(([0-9a-f]{2})\)\s*/);
      if (op) opcode = parseInt(op[1], 16);
    }
    // A kernel-style `(xx)` opcode may also stand without an index.
    if (opcode === undefined) {
      const op = skip(/^\(([0-9a-f]{2})\)\s+/);
      if (op) opcode = parseInt(op[1], 16);
    }
    const labels: { name: string; col: number }[] = [];
    for (let m = LABEL.exec(rest.slice(pos)); m; m = LABEL.exec(rest.slice(pos))) {
      labels.push({ name: m[1], col: pos + 1 });
      pos += m[0].length;
      skip(/^\s*/);
    }
    // objdump's jump annotations: `goto +0x3 <LBB0_2>`.
    rest = rest.replace(/\s<[^<>\s]*>\s*$/, '');
    const body = rest.slice(pos).trimEnd();
    if (body === '' && labels.length === 0) return;
    out.push({ no, source, text: body, col: pos + 1, labels, index, opcode });
  });
  return out;
}

/** ubpf when the first instruction that tells the syntaxes apart is a ubpf mnemonic. */
function detectSyntax(lines: readonly Line[]): 'llvm' | 'ubpf' {
  for (const l of lines) {
    if (l.text === '') continue;
    if (l.text.includes('%r')) return 'ubpf';
    if (l.text.includes('=') || /^(if|goto|gotol|\*)\b/.test(l.text) || l.text.startsWith('*')) return 'llvm';
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(l.text)?.[0] ?? '';
    if (/^call\s+(local|runtime|helper)\b/.test(l.text)) return 'ubpf';
    if (/^(exit|call|callx|may_goto|lock)$/.test(word)) continue;
    if (isUbpfMnemonic(word)) return 'ubpf';
  }
  return 'llvm';
}

/**
 * Assemble `text` into instructions. Throws {@link AsmError} with the line
 * and column of the first problem.
 */
export function assemble(text: string, opts: AssembleOptions = {}): Insn[] {
  const lines = splitLines(text);
  const syntax = opts.syntax === undefined || opts.syntax === 'auto' ? detectSyntax(lines) : opts.syntax;
  const labels = new Map<string, number>();
  const items: { parsed: Parsed; line: Line; slot: number }[] = [];
  const textAt = new Map<number, string>();
  let slot = 0;
  let firstExit: number | undefined;

  for (const line of lines) {
    for (const l of line.labels) {
      if (labels.has(l.name)) throw new AsmError(`duplicate label '${l.name}'`, line.no, l.col, line.source);
      labels.set(l.name, slot);
    }
    if (line.text === '') continue;
    if (line.index !== undefined && line.index !== slot) {
      // A verifier log shows an instruction again each time a path reaches it.
      if (line.index < slot && textAt.get(line.index) === line.text) continue;
      throw new AsmError(`instruction index ${line.index} out of order: expected ${slot}`, line.no, 1, line.source);
    }
    const endCol = line.source.length + 1;
    const cursor = new Cursor(tokenize(line.text, line.no, line.col, line.source), line.no, line.source, endCol);
    const parsed = syntax === 'ubpf' ? parseUbpfLine(cursor) : parseLlvmLine(cursor, line.opcode);
    if (line.opcode !== undefined) checkOpcode(parsed.insn, line);
    if (parsed.insn.kind === 'exit' && firstExit === undefined) firstExit = slot;
    textAt.set(slot, line.text);
    items.push({ parsed, line, slot });
    slot += insnSlots(parsed.insn);
  }

  return items.map(({ parsed, line, slot: at }, i) => {
    let insn = parsed.insn;
    if (parsed.label) {
      const { name, col } = parsed.label;
      // uBPF's assembler lets `exit` name the first exit instruction.
      const target = labels.get(name) ?? (syntax === 'ubpf' && name === 'exit' ? firstExit : undefined);
      if (target === undefined) throw new AsmError(`unknown label '${name}'`, line.no, col, line.source);
      const off = target - (at + 1);
      const wide = insn.kind === 'call_local' || (insn.kind === 'ja' && insn.long);
      if (!wide && (off < -0x8000 || off > 0x7fff)) {
        throw new AsmError(`label '${name}' is ${off} instructions away, more than a 16-bit offset holds`, line.no, col, line.source);
      }
      insn = { ...insn, off } as Insn;
    }
    try {
      encodeInsn(insn, i);
    } catch (e) {
      if (e instanceof EncodeError) throw new AsmError(e.reason, line.no, line.col, line.source, { cause: e });
      throw e;
    }
    return insn;
  });
}

function checkOpcode(insn: Insn, line: Line): void {
  let actual: number;
  try {
    actual = encodeInsn(insn)[0].opcode;
  } catch {
    return; // the range check after label resolution reports it
  }
  if (actual !== line.opcode) {
    const hex = (n: number): string => n.toString(16).padStart(2, '0');
    throw new AsmError(`opcode (${hex(line.opcode!)}) does not match the instruction, which encodes as (${hex(actual)})`, line.no, line.col, line.source);
  }
}
