/**
 * The `bpfkit` command line. Each subcommand lives in its own module under
 * ./commands and is loaded only when called, so start-up stays fast.
 */
import { readFileSync } from 'node:fs';
import { BpfkitError } from '../errors/index.js';
import { UsageError, type Command, type CommandIo } from './io.js';

/** Subcommand name -> one-line description. The module is ./commands/<name>.js. */
const COMMANDS: Record<string, string> = {
  asm: 'assemble eBPF assembly (llvm or ubpf syntax) into bytecode',
  disasm: 'disassemble bytecode or an ELF object',
  run: 'run a program on the userspace VM',
  jit: 'compile a program to WebAssembly with the JIT',
  inspect: 'show the programs, maps and globals of an ELF object',
  btf: 'dump BTF type information',
  verify: 'check a program with the verifier',
  tcpdump: 'compile pcap filter expressions; filter capture files',
  cbpf: 'classic BPF tools',
  seccomp: 'compile, explain and run seccomp policies',
  prog: 'kernel programs: list, show, dump, run',
  map: 'kernel maps: list, dump, lookup, update',
  load: 'load an object into the kernel',
  attach: 'attach a loaded program',
  feature: 'probe kernel eBPF features',
  trace: 'run a bpftrace-compatible tracing program',
};

const nodeIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => new Uint8Array(readFileSync(0)),
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  return `Usage: bpfkit COMMAND [ARGS...]\n\nCommands:\n${lines.join('\n')}\n\nRun 'bpfkit COMMAND --help' for a command's options.\n`;
}

async function loadCommand(name: string): Promise<Command | undefined> {
  if (!Object.hasOwn(COMMANDS, name)) return undefined;
  try {
    const mod = (await import(`./commands/${name}.js`)) as { default: Command };
    return mod.default;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}.`)) {
      return undefined;
    }
    throw e;
  }
}

export async function main(argv: string[], io: CommandIo = nodeIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout('bpfkit 0.1.0\n');
    return 0;
  }
  try {
    const command = await loadCommand(name);
    if (!command) {
      io.stderr(`bpfkit: unknown command '${name}'\n\n${usage()}`);
      return 2;
    }
    return await command(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

/** User errors print one clear line; only BPFKIT_DEBUG=1 shows stack traces. */
export function reportError(e: unknown, io: CommandIo): number {
  const debug = typeof process !== 'undefined' && process.env.BPFKIT_DEBUG === '1';
  if (e instanceof UsageError) {
    io.stderr(`bpfkit: ${e.message}\n`);
    return 2;
  }
  if (e instanceof BpfkitError) {
    io.stderr(`bpfkit: ${e.message}\n`);
    if (debug) io.stderr(`${e.stack}\n`);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    io.stderr(`bpfkit: ${err.path ?? err.syscall}: ${err.code}\n`);
    return 1;
  }
  io.stderr(`bpfkit: internal error: ${err?.message ?? String(e)}\n`);
  if (debug) io.stderr(`${err?.stack}\n`);
  return 70;
}
