/**
 * The bpf_conformance plugin: `bpfkit-conformance [MEM] [--engine interp|jit]`
 * (the JIT by default).
 * The suite's runner starts it once per test with the input memory as one
 * argument (hex bytes separated by blanks) and the program on stdin in the
 * same encoding; the plugin prints r0 in hex and exits 0, or prints an error
 * and exits 1. See https://github.com/Alan-Jowett/bpf_conformance.
 */
import { readFileSync } from 'node:fs';
import { BpfkitError } from '../errors/index.js';
import { DEFAULT_ENGINE, isEngine, prepare, type Engine, type Helper, type HelperTable } from '../vm/index.js';
import { UsageError, type CommandIo } from './io.js';

/**
 * Helper 5 of the suite, "unwind": returns its first argument and ends the
 * program (with r0 = 0) when that argument is 0.
 */
const unwind: Helper = (ctx) => {
  const v = ctx.arg(1);
  if (v === 0n) ctx.halt();
  return v;
};

export const CONFORMANCE_HELPERS: HelperTable = new Map([[5, unwind]]);

/** Parse the suite's hex byte encoding ("aa  bb  11  "); blanks of any kind separate bytes. */
export function parseHexBytes(text: string, what: string): Uint8Array {
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  const out = new Uint8Array(tokens.length);
  tokens.forEach((t, i) => {
    if (!/^(0x)?[0-9a-fA-F]{1,2}$/.test(t)) throw new UsageError(`${what}: '${t}' (token ${i}) is not a hex byte`);
    out[i] = parseInt(t.replace(/^0x/, ''), 16);
  });
  return out;
}

interface PluginArgs {
  mem: Uint8Array;
  engine: Engine;
}

/**
 * The runner passes MEM (possibly empty) first, then its plugin options as
 * one argument ("--engine jit"), so options are re-split on blanks.
 */
export function parsePluginArgs(argv: readonly string[]): PluginArgs {
  const args = [...argv];
  let memText = '';
  if (args.length > 0 && !args[0].trimStart().startsWith('--')) memText = args.shift()!;
  const opts = args.flatMap((a) => a.split(/\s+/)).filter((a) => a.length > 0);
  let engine: Engine = DEFAULT_ENGINE;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    let value: string | undefined;
    if (o === '--engine') value = opts[++i];
    else if (o.startsWith('--engine=')) value = o.slice('--engine='.length);
    else if (o === '--jit') value = 'jit';
    else if (o === '--interpret') value = 'interp';
    else throw new UsageError(`unknown option '${o}' (usage: bpfkit-conformance [MEM] [--engine interp|jit])`);
    if (value === undefined || !isEngine(value)) throw new UsageError(`--engine takes interp or jit, not '${value ?? ''}'`);
    engine = value;
  }
  return { mem: parseHexBytes(memText, 'memory argument'), engine };
}

/** Run one test: returns r0 as the plugin prints it. */
export function runPlugin(programText: string, args: PluginArgs): string {
  const program = parseHexBytes(programText, 'program');
  const vm = prepare(program, { engine: args.engine, helpers: CONFORMANCE_HELPERS });
  return `0x${vm.run(args.mem).r0.toString(16)}`;
}

const nodeIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => new Uint8Array(readFileSync(0)),
};

/** Entry point of bin/bpfkit-conformance.js. Errors go to stdout (the runner reads them there) and stderr. */
export async function main(argv: readonly string[], io: CommandIo = nodeIo): Promise<number> {
  try {
    const args = parsePluginArgs(argv);
    const stdin = new TextDecoder().decode(await io.readStdin());
    io.stdout(`${runPlugin(stdin, args)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof BpfkitError || e instanceof UsageError) {
      io.stdout(`${e.message}\n`);
      io.stderr(`bpfkit-conformance: ${e.message}\n`);
      return 1;
    }
    io.stderr(`bpfkit-conformance: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  }
}
