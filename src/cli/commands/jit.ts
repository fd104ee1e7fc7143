/**
 * `bpfkit jit FILE`: compile one program to WebAssembly with the JIT and
 * say how long that took, as a user's process gets it: the figure is the
 * process's first compile() (wall clock), which is what an application
 * that loads one program pays. FILE is an ELF object (--program picks one
 * of its programs), raw bytecode or assembly text (as `bpfkit run` reads
 * them); `-` reads standard input. -o writes the module's bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { BpfkitError } from '../../errors/index.js';
import { isElf, loadCollectionSpec } from '../../elf/index.js';
import type { Insn } from '../../isa/index.js';
import { analyse, compile, translate } from '../../jit/index.js';
import { DEFAULT_BUDGET } from '../../vm/index.js';
import { ArgvReader } from '../argv.js';
import { UsageError, type CommandIo } from '../io.js';
import { loadProgram } from './run.js';

const USAGE = `Usage: bpfkit jit FILE [--program NAME] [--verified] [-o OUT.wasm] [--json]

Compile an eBPF program to WebAssembly and report the compile time (the
process's first compile: what loading one program costs).
  FILE            ELF object, raw bytecode (8-byte instructions) or assembly text; - for stdin
  --program NAME  the object's program to compile (needed when it has several)
  --verified      compile without memory checks, as for a program the verifier accepted
  -o OUT.wasm     write the WebAssembly module
  --json          print one line: {"program":...,"insns":N,"wasm_bytes":B,"compile_ms":X,"functions":F}

insns counts instructions as \`bpfkit inspect\` does (lddw once); compile_ms is
the wall-clock time of compile(): validation, analysis, translation,
WebAssembly compile and instance.
`;

/** The object holds no program by the requested name (or several, and none was named). */
export class JitProgramChoiceError extends BpfkitError {
  readonly code = 'JIT_PROGRAM_CHOICE';
  constructor(readonly file: string, reason: string, readonly available: readonly string[]) {
    super(`${file}: ${reason}; its programs: ${available.length > 0 ? available.join(', ') : '(none)'}`);
  }
}

/** The file could not be read as a program: the underlying error (with where), prefixed by the file. */
export class JitInputError extends BpfkitError {
  readonly code = 'JIT_INPUT';
  constructor(readonly file: string, cause: BpfkitError) {
    super(cause.message.startsWith(`${file}:`) ? cause.message : `${file}: ${cause.message}`, { cause });
  }
}

interface Options {
  file: string;
  program?: string;
  verified: boolean;
  out?: string;
  json: boolean;
}

function parseArgs(argv: string[]): Options | undefined {
  let file: string | undefined;
  let program: string | undefined;
  let out: string | undefined;
  let verified = false;
  let json = false;
  for (const r = new ArgvReader(argv); r.next();) {
    const a = r.arg;
    switch (r.flag) {
      case '--help': case '-h': return undefined;
      case '--program': case '-p': program = r.value(); break;
      case '--verified': verified = true; break;
      case '-o': case '--output': out = r.value(); break;
      case '--json': json = true; break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`jit: unknown option '${a}'`);
        if (file !== undefined) throw new UsageError(`jit: one program file expected, got '${file}' and '${a}'`);
        file = a;
    }
  }
  if (file === undefined) throw new UsageError('jit: missing program FILE (see bpfkit jit --help)');
  return { file, program, verified, out, json };
}

/** The program to compile and the name it is reported under. */
function selectProgram(file: string, bytes: Uint8Array, wanted: string | undefined): { name: string; insns: readonly Insn[] } {
  if (!isElf(bytes)) {
    if (wanted !== undefined) throw new UsageError(`jit: --program applies to ELF objects; ${file} is bytecode or assembly`);
    return { name: file, insns: readingFile(file, () => loadProgram(file, bytes)) };
  }
  const spec = readingFile(file, () => loadCollectionSpec(bytes));
  const names = [...spec.programs.keys()];
  const name = wanted ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) {
    throw new JitProgramChoiceError(file, names.length === 0 ? 'the object has no programs' : 'several programs: choose one with --program NAME', names);
  }
  const prog = spec.programs.get(name);
  if (prog === undefined) throw new JitProgramChoiceError(file, `no program named '${name}'`, names);
  return { name, insns: prog.insns };
}

function readingFile<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw e instanceof BpfkitError ? new JitInputError(file, e) : e;
  }
}

export default async function jit(argv: string[], io: CommandIo): Promise<number> {
  const opts = parseArgs(argv);
  if (opts === undefined) {
    io.stdout(USAGE);
    return 0;
  }
  const bytes = opts.file === '-' ? await io.readStdin() : new Uint8Array(readFileSync(opts.file));
  const { name, insns } = selectProgram(opts.file, bytes, opts.program);
  // Wall clock around compile() alone: validation, analysis, translation, WebAssembly compile, instance.
  const t0 = process.hrtime.bigint();
  compile(insns, { verified: opts.verified });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // The bytes of the module compile() instantiated: the same shape and options (see JitProgram's instance()).
  const shape = analyse(insns);
  const { bytes: wasm } = translate(shape, { verified: opts.verified, checkBudget: !(shape.maxInsns <= DEFAULT_BUDGET) });
  if (opts.out !== undefined) writeFileSync(opts.out, wasm);
  if (opts.json) {
    io.stdout(`${JSON.stringify({ program: name, insns: insns.length, wasm_bytes: wasm.length, compile_ms: Math.round(ms * 1000) / 1000, functions: shape.functions.size })}\n`);
  } else {
    io.stdout(`${name}: ${insns.length} insns -> ${wasm.length} bytes of WebAssembly, compiled in ${ms.toFixed(2)} ms\n`);
  }
  return 0;
}
