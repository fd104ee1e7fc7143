/**
 * `bpfkit asm FILE`: assemble llvm or ubpf syntax into raw bytecode.
 * Without -o it prints the bytecode as hex, one 8-byte slot per line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { assemble, AsmError, type Syntax } from '../../asm/index.js';
import { encode } from '../../isa/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage: bpfkit asm FILE [-o OUT] [--syntax llvm|ubpf|auto] [--hex]

Assemble eBPF assembly into bytecode (8-byte little-endian instructions).
  FILE            assembly text; - reads standard input
  -o OUT          write the bytecode to OUT (raw binary unless --hex)
  --syntax S      llvm (r0 = 1), ubpf (mov %r0, 1) or auto (default: decided per file)
  --hex           write hex text, one instruction slot per line (the default without -o)

llvm syntax also takes pasted llvm-objdump output and verifier log lines
("12: (b7) r0 = 1"); labels ("loop:") name jump and call targets.
`;

interface Options {
  file: string;
  out?: string;
  syntax: Syntax;
  hex: boolean;
}

function parseArgs(argv: string[]): Options | undefined {
  let file: string | undefined;
  let out: string | undefined;
  let syntax: Syntax = 'auto';
  let hex = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return undefined;
    if (a === '-o' || a === '--output') {
      out = argv[++i];
      if (out === undefined) throw new UsageError(`${a} needs a file name`);
    } else if (a === '--syntax') {
      const s = argv[++i];
      if (s !== 'llvm' && s !== 'ubpf' && s !== 'auto') throw new UsageError(`--syntax takes llvm, ubpf or auto, not '${s ?? ''}'`);
      syntax = s;
    } else if (a === '--hex') {
      hex = true;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`asm: unknown option '${a}'`);
    } else if (file === undefined) {
      file = a;
    } else {
      throw new UsageError(`asm: more than one input file ('${file}', '${a}')`);
    }
  }
  if (file === undefined) throw new UsageError('asm: no input file (use - for standard input)');
  return { file, out, syntax, hex };
}

/** Hex text, one 8-byte slot per line. */
export function hexLines(bytes: Uint8Array): string {
  let s = '';
  for (let p = 0; p < bytes.length; p += 8) {
    s += `${Array.from(bytes.subarray(p, p + 8), (b) => b.toString(16).padStart(2, '0')).join(' ')}\n`;
  }
  return s;
}

/** `file:line:col: message`, the line, and a caret under the column. */
export function describeAsmError(file: string, e: AsmError): string {
  const shown = e.source.replace(/\t/g, ' ');
  return `${file}:${e.message}\n  ${shown}\n  ${' '.repeat(Math.max(0, e.column - 1))}^\n`;
}

export default async function asm(argv: string[], io: CommandIo): Promise<number> {
  const opts = parseArgs(argv);
  if (!opts) {
    io.stdout(USAGE);
    return 0;
  }
  const text = new TextDecoder().decode(opts.file === '-' ? await io.readStdin() : readFileSync(opts.file));
  let bytes: Uint8Array;
  try {
    bytes = encode(assemble(text, { syntax: opts.syntax }));
  } catch (e) {
    if (e instanceof AsmError) {
      io.stderr(`bpfkit: ${describeAsmError(opts.file === '-' ? '<stdin>' : opts.file, e)}`);
      return 1;
    }
    throw e;
  }
  if (opts.out === undefined) {
    io.stdout(hexLines(bytes));
  } else {
    writeFileSync(opts.out, opts.hex ? hexLines(bytes) : bytes);
  }
  return 0;
}
