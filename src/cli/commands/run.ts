/**
 * `bpfkit run FILE`: run a program on the userspace VM with the
 * conformance-suite convention (r1 = input memory, r2 = its length) and
 * print r0. FILE is raw bytecode (8-byte little-endian slots) or assembly
 * text (llvm or ubpf syntax); `-` reads standard input.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { assemble } from '../../asm/index.js';
import { BpfkitError } from '../../errors/index.js';
import { decode, type Insn } from '../../isa/index.js';
import { isElf } from '../../elf/index.js';
import { DEFAULT_ENGINE, isEngine, prepare, type Engine } from '../../vm/index.js';
import { ArgvReader } from '../argv.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage: bpfkit run FILE [--mem-file F] [--mem HEX] [--engine interp|jit] [--repeat N] [--budget N] [--json]

Run an eBPF program on the userspace VM and print r0.
  FILE            raw bytecode (8-byte instructions) or assembly text; - for stdin
  --mem HEX       input memory as hex bytes (r1 points to a copy, r2 is its length)
  --mem-file F    input memory from a file
  --engine E      jit (WebAssembly, the default) or interp (the reference interpreter)
  --repeat N      run N times (after a short warm-up) and report the mean time per run
  --budget N      stop after N executed instructions (default 1000000)
  --json          print one line: {"r0":"0x...","ns_per_run":...,"engine":...}
`;

/** A program file that is not bytecode or assembly we can run. */
export class ProgramFileError extends BpfkitError {
  readonly code = 'RUN_INPUT';
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
  }
}

interface Options {
  file: string;
  mem: Uint8Array;
  engine: Engine;
  repeat: number;
  budget?: number;
  json: boolean;
}

function parseHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length % 2 !== 0) {
    throw new UsageError(`--mem: '${text}' is not a sequence of hex bytes`);
  }
  return new Uint8Array((clean.match(/../g) ?? []).map((h) => parseInt(h, 16)));
}

function positiveInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} takes a positive integer, not '${v ?? ''}'`);
  return n;
}

function parseArgs(argv: string[]): Options | undefined {
  let file: string | undefined;
  let mem: Uint8Array | undefined;
  let engine: Engine = DEFAULT_ENGINE;
  let repeat = 1;
  let budget: number | undefined;
  let json = false;
  for (const r = new ArgvReader(argv); r.next();) {
    const a = r.arg;
    switch (r.flag) {
      case '--help': case '-h': return undefined;
      case '--mem': mem = parseHex(r.value()); break;
      case '--mem-file': mem = new Uint8Array(readFileSync(r.value())); break;
      case '--engine': {
        const e = r.value();
        if (!isEngine(e)) throw new UsageError(`--engine takes interp or jit, not '${e}'`);
        engine = e;
        break;
      }
      case '--repeat': repeat = positiveInt('--repeat', r.value()); break;
      case '--budget': budget = positiveInt('--budget', r.value()); break;
      case '--json': json = true; break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`run: unknown option '${a}'`);
        if (file !== undefined) throw new UsageError(`run: one program file expected, got '${file}' and '${a}'`);
        file = a;
    }
  }
  if (file === undefined) throw new UsageError('run: missing program FILE (see bpfkit run --help)');
  return { file, mem: mem ?? new Uint8Array(0), engine, repeat, budget, json };
}

/** Bytecode when the file holds a NUL byte (every real program does); text otherwise. */
export function loadProgram(name: string, bytes: Uint8Array): Insn[] {
  if (isElf(bytes)) {
    // Files are sent to the object runner before this; only standard input gets here.
    throw new ProgramFileError(name, 'is an ELF object; give objects as a file path (run reads bytecode or assembly from standard input)');
  }
  if (bytes.includes(0)) return decode(bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decode(bytes);
  }
  if (text.trim().length === 0) throw new ProgramFileError(name, 'is empty');
  return assemble(text, { syntax: 'auto' });
}

function formatR0(r0: bigint): string {
  const signed = BigInt.asIntN(64, r0);
  return `r0 = 0x${r0.toString(16)} (${r0}${signed < 0n ? `, ${signed} signed` : ''})`;
}

export default async function run(argv: string[], io: CommandIo): Promise<number> {
  // ELF objects bring maps, helpers and program types: the runtime handles them.
  const file = argv.find((a) => !a.startsWith('-') || a === '-');
  if (file !== undefined && file !== '-' && isElfFile(file)) {
    return (await import('../run-object.js')).runObjectCommand(argv, io);
  }
  const opts = parseArgs(argv);
  if (opts === undefined) {
    io.stdout(USAGE);
    return 0;
  }
  const bytes = opts.file === '-' ? await io.readStdin() : new Uint8Array(readFileSync(opts.file));
  const program = loadProgram(opts.file, bytes);
  const vm = prepare(program, { engine: opts.engine, budget: opts.budget });
  if (vm.fallback !== undefined && !opts.json) io.stderr(`bpfkit: note: running on the interpreter: ${vm.fallback}\n`);
  let result = vm.run(opts.mem);
  let ns = 0;
  if (opts.repeat > 1 || opts.json) {
    // Warm up (up to repeat runs or 50 ms) so the figure is the optimised code's, not V8's start-up.
    const until = process.hrtime.bigint() + 50_000_000n;
    for (let i = 1; i < opts.repeat && process.hrtime.bigint() < until; i++) vm.run(opts.mem);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < opts.repeat; i++) result = vm.run(opts.mem);
    ns = Number(process.hrtime.bigint() - t0) / opts.repeat;
  }
  if (opts.json) {
    io.stdout(`${JSON.stringify({ r0: `0x${result.r0.toString(16)}`, ns_per_run: Math.round(ns * 10) / 10, engine: vm.engine, ...(vm.fallback === undefined ? {} : { fallback: vm.fallback }) })}\n`);
    return 0;
  }
  io.stdout(`${formatR0(result.r0)}\n`);
  if (opts.repeat > 1) {
    io.stdout(`${opts.repeat} runs: ${ns >= 1e4 ? `${(ns / 1e3).toFixed(1)} us` : `${ns.toFixed(0)} ns`} per run, ${result.executed} instructions executed per run (engine ${vm.engine})\n`);
  }
  return 0;
}

function isElfFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = new Uint8Array(4);
    return readSync(fd, head, 0, 4, 0) === 4 && isElf(head);
  } catch {
    return false; // let the normal path report the missing file
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
