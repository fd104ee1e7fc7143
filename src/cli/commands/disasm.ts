/**
 * `bpfkit disasm FILE`: print bytecode as llvm-objdump, the verifier log
 * or uBPF would show it.
 */
import { readFileSync } from 'node:fs';
import { formatInsn, formatProgram, type Style } from '../../asm/index.js';
import { BpfkitError } from '../../errors/index.js';
import { decode, encode, slotIndex, type Insn } from '../../isa/index.js';
import { isElf, loadCollectionSpec, programListings, type ProgramListing } from '../../elf/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage: bpfkit disasm FILE [--style llvm|kernel|ubpf] [--json]

Disassemble eBPF bytecode, one instruction per line.
  FILE            an ELF object compiled with clang -target bpf (every program
                  is printed with its section, functions and, when the object
                  has BTF line info, the C source lines), raw bytecode (8-byte
                  little-endian instructions), or hex text such as 'bpfkit asm'
                  prints (whitespace, commas and 0x ignored); - reads stdin
  --program NAME  with an ELF object: only this program
  --style S       llvm: as llvm-objdump -d prints it (default)
                  kernel: as the verifier log and bpftool print it ("0: (b7) r0 = 1")
                  ubpf: uBPF assembly with labels, ready for 'bpfkit asm'
  --json          an array of {"slot", "bytes", "text", "insn"}
`;

/** Input disasm cannot read. */
export class DisasmInputError extends BpfkitError {
  readonly code = 'DISASM_INPUT';
}

interface Options {
  file: string;
  style: Style;
  json: boolean;
  program?: string;
}

function parseArgs(argv: string[]): Options | undefined {
  let file: string | undefined;
  let style: Style = 'llvm';
  let json = false;
  let program: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return undefined;
    if (a === '--style') {
      const s = argv[++i];
      if (s !== 'llvm' && s !== 'kernel' && s !== 'ubpf') throw new UsageError(`--style takes llvm, kernel or ubpf, not '${s ?? ''}'`);
      style = s;
    } else if (a === '--json') {
      json = true;
    } else if (a === '--program') {
      program = argv[++i];
      if (program === undefined) throw new UsageError('--program takes a program name');
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`disasm: unknown option '${a}'`);
    } else if (file === undefined) {
      file = a;
    } else {
      throw new UsageError(`disasm: more than one input file ('${file}', '${a}')`);
    }
  }
  if (file === undefined) throw new UsageError('disasm: no input file (use - for standard input)');
  return { file, style, json, program };
}

const HEX_TEXT = /^(?:\s|,|0x|[0-9a-fA-F])*$/;

/** Raw bytecode, or the bytes that hex text spells. */
export function programBytes(data: Uint8Array): Uint8Array {
  const text = data.length > 0 && data.every((b) => b < 0x80) ? new TextDecoder().decode(data) : '';
  if (text !== '' && HEX_TEXT.test(text)) {
    const digits = text.replace(/0x/g, '').replace(/[\s,]/g, '');
    if (digits.length % 2 === 0 && digits.length > 0) {
      return new Uint8Array((digits.match(/../g) ?? []).map((h) => parseInt(h, 16)));
    }
  }
  return data;
}

function jsonInsn(insn: Insn): unknown {
  return JSON.parse(JSON.stringify(insn, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
}

export default async function disasm(argv: string[], io: CommandIo): Promise<number> {
  const opts = parseArgs(argv);
  if (!opts) {
    io.stdout(USAGE);
    return 0;
  }
  const data = opts.file === '-' ? await io.readStdin() : new Uint8Array(readFileSync(opts.file));
  if (isElf(data)) return disasmObject(data, opts, io);
  if (opts.program !== undefined) throw new UsageError('--program needs an ELF object');
  // Like llvm-objdump, show jumps that leave the program instead of refusing it.
  const insns = decode(programBytes(data), { checkTargets: false });
  if (opts.json) {
    const slots = slotIndex(insns);
    const rows = insns.map((insn, i) => ({
      slot: slots[i],
      bytes: Array.from(encode([insn]), (b) => b.toString(16).padStart(2, '0')).join(''),
      text: formatInsn(insn, opts.style, { pc: slots[i] }),
      insn: jsonInsn(insn),
    }));
    io.stdout(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  io.stdout(formatProgram(insns, { style: opts.style }));
  return 0;
}

/** One ELF object: each program (linked with its subprograms) under a header naming its section. */
function disasmObject(data: Uint8Array, opts: Options, io: CommandIo): number {
  let listings = programListings(loadCollectionSpec(data));
  if (opts.program !== undefined) {
    listings = listings.filter((l) => l.name === opts.program);
    if (listings.length === 0) throw new DisasmInputError(`${opts.file}: no program named '${opts.program}'`);
  }
  if (opts.json) {
    const out = listings.map((l) => ({
      name: l.name,
      section: l.section,
      insns: listingRows(l, opts.style),
    }));
    io.stdout(`${JSON.stringify(out)}\n`);
    return 0;
  }
  const parts = listings.map((l) => `Disassembly of program ${l.name} (section ${l.section}):\n${formatListing(l, opts.style)}`);
  io.stdout(parts.join('\n'));
  return 0;
}

/** A program's listing with `<function>:` headers where functions start and source lines before their code. */
function formatListing(l: ProgramListing, style: Style): string {
  const slots = slotIndex(l.insns);
  const out: string[] = [];
  let from = 0;
  const flush = (to: number): void => {
    if (to <= from) return;
    out.push(formatProgram(l.insns.slice(from, to), {
      style,
      startSlot: slots[from],
      lineInfo: (slot) => l.linesBySlot.get(slot)?.line,
    }));
  };
  l.functionStarts.forEach((name, i) => {
    if (name === undefined) return;
    flush(i);
    from = i;
    out.push(`\n${String(slots[i]).padStart(16, '0')} <${name}>:\n`);
  });
  flush(l.insns.length);
  return out.join('');
}

function listingRows(l: ProgramListing, style: Style): unknown[] {
  const slots = slotIndex(l.insns);
  return l.insns.map((insn, i) => ({
    slot: slots[i],
    function: l.functionStarts[i],
    line: l.lines[i]?.line,
    text: formatInsn(insn, style, { pc: slots[i] }),
  }));
}
