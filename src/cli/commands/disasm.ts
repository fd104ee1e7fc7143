/**
 * `bpfkit disasm FILE`: print bytecode as llvm-objdump, the verifier log
 * or uBPF would show it.
 */
import { readFileSync } from 'node:fs';
import { formatInsn, formatProgram, type Style } from '../../asm/index.js';
import { BpfkitError } from '../../errors/index.js';
import { decode, encode, slotIndex, type Insn } from '../../isa/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage: bpfkit disasm FILE [--style llvm|kernel|ubpf] [--json]

Disassemble eBPF bytecode, one instruction per line.
  FILE            raw bytecode (8-byte little-endian instructions), or hex text
                  such as 'bpfkit asm' prints (whitespace, commas and 0x ignored);
                  - reads standard input
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
}

function parseArgs(argv: string[]): Options | undefined {
  let file: string | undefined;
  let style: Style = 'llvm';
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return undefined;
    if (a === '--style') {
      const s = argv[++i];
      if (s !== 'llvm' && s !== 'kernel' && s !== 'ubpf') throw new UsageError(`--style takes llvm, kernel or ubpf, not '${s ?? ''}'`);
      style = s;
    } else if (a === '--json') {
      json = true;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`disasm: unknown option '${a}'`);
    } else if (file === undefined) {
      file = a;
    } else {
      throw new UsageError(`disasm: more than one input file ('${file}', '${a}')`);
    }
  }
  if (file === undefined) throw new UsageError('disasm: no input file (use - for standard input)');
  return { file, style, json };
}

const HEX_TEXT = /^(?:\s|,|0x|[0-9a-fA-F])*$/;

/** Raw bytecode, or the bytes that hex text spells. */
export function programBytes(data: Uint8Array): Uint8Array {
  if (data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46) {
    throw new DisasmInputError('ELF objects are not supported by disasm yet');
  }
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
