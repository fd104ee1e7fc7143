/**
 * `bpfkit seccomp`: compile OCI/Docker seccomp profiles to classic BPF,
 * explain a verdict, and run a command under a profile.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { arch as hostArch, constants as osConstants, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dumpFilter, encodeSockFilter, type DumpLevel, type SockFilter } from '../../cbpf/index.js';
import {
  ARCHES, type ArchName, compile, explain, formatAction, lookupArch, parseProfile, retToAction, runFilter,
  type Policy, type ProfileOptions, syscallNumber,
} from '../../seccomp/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage:
  bpfkit seccomp compile PROFILE.json [-d|-dd|-ddd|--raw] [-o FILE] [OPTIONS]
  bpfkit seccomp explain PROFILE.json SYSCALL [ARGS...] [--abi ARCH] [OPTIONS]
  bpfkit seccomp run PROFILE.json [OPTIONS] -- COMMAND [ARGS...]

Options:
  --arch ARCH     native architecture (default: this machine's): x86_64, aarch64, ...
  --cap CAP       a capability the process keeps, for includes/excludes (repeatable, or comma-separated)
  --kernel VER    kernel version for minKernel (default: the running kernel's)
  -d, -dd, -ddd   print the filter as tcpdump does (default -d)
  --raw           write raw struct sock_filter bytes (for bwrap --seccomp FD, seccomp(2))
  -o FILE         write to FILE instead of standard output
  --abi ARCH      explain: the calling architecture (default: native), e.g. x86 or x32
  -v, --verbose   list profile entries that includes/excludes leave out
`;

interface Parsed {
  positional: string[];
  rest: string[];
  level: DumpLevel;
  raw: boolean;
  out?: string;
  abi?: ArchName;
  verbose: boolean;
  profile: ProfileOptions;
}

function nativeArch(): ArchName {
  const map: Record<string, ArchName> = { x64: 'x86_64', ia32: 'x86', arm64: 'aarch64', arm: 'arm', riscv64: 'riscv64', ppc64: 'ppc64le', s390x: 's390x' };
  return map[hostArch()] ?? 'x86_64';
}

function archOption(v: string | undefined): ArchName {
  if (!v) throw new UsageError('--arch needs a value');
  const a = lookupArch(v);
  if (!a) throw new UsageError(`unknown architecture '${v}' (known: ${Object.keys(ARCHES).join(', ')})`);
  return a.name;
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  let rest: string[] = [];
  let level: DumpLevel = 1;
  let raw = false;
  let verbose = false;
  let out: string | undefined;
  let abi: ArchName | undefined;
  let arch = nativeArch();
  const caps: string[] = [];
  let kernel: string | undefined = release();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--') { rest = argv.slice(i + 1); break; }
    else if (a === '-d') level = 1;
    else if (a === '-dd') level = 2;
    else if (a === '-ddd') level = 3;
    else if (a === '--raw') raw = true;
    else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '-o') out = value();
    else if (a === '--arch') arch = archOption(value());
    else if (a === '--abi') abi = archOption(value());
    else if (a === '--cap') caps.push(...value().split(',').filter(Boolean));
    else if (a === '--kernel') kernel = value();
    else if (a.startsWith('-') && a.length > 1 && !/^-?\d/.test(a.slice(1))) throw new UsageError(`unknown option '${a}'\n${USAGE}`);
    else positional.push(a);
  }
  return { positional, rest, level, raw, out, abi, verbose, profile: { arch, caps, kernel } };
}

async function loadPolicy(path: string | undefined, opts: ProfileOptions, verbose: boolean, io: CommandIo): Promise<Policy> {
  if (!path) throw new UsageError(`missing profile\n${USAGE}`);
  const text = path === '-' ? new TextDecoder().decode(await io.readStdin()) : readFileSync(path, 'utf8');
  const { policy, warnings, skipped } = parseProfile(text, opts);
  for (const w of warnings) io.stderr(`bpfkit: ${path}: ${w}\n`);
  if (verbose) for (const s of skipped) io.stderr(`bpfkit: ${path}: skipped ${s}\n`);
  return policy;
}

function compileOrWarn(policy: Policy, io: CommandIo): SockFilter[] {
  const { filter, warnings } = compile(policy);
  for (const w of warnings) io.stderr(`bpfkit: warning: ${w}\n`);
  return filter;
}

/** Parses an argument the way C would read it: decimal, 0x hex, 0 octal, or negative (two's complement). */
function parseArg(s: string): bigint {
  const t = s.trim();
  const m = /^(-)?(0x[0-9a-f]+|0[0-7]*|[1-9]\d*)$/i.exec(t);
  if (!m) throw new UsageError(`bad argument value '${s}'`);
  const digits = m[2];
  const v = digits.length > 1 && digits[0] === '0' && !/^0x/i.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  return BigInt.asUintN(64, m[1] ? -v : v);
}

async function compileCmd(p: Parsed, io: CommandIo): Promise<number> {
  if (p.positional.length !== 1) throw new UsageError(`compile takes one profile\n${USAGE}`);
  const policy = await loadPolicy(p.positional[0], p.profile, p.verbose, io);
  const filter = compileOrWarn(policy, io);
  if (p.raw) {
    const bytes = encodeSockFilter(filter);
    if (p.out) writeFileSync(p.out, bytes);
    else process.stdout.write(bytes);
    return 0;
  }
  const text = dumpFilter(filter, p.level);
  if (p.out) writeFileSync(p.out, text);
  else io.stdout(text);
  return 0;
}

async function explainCmd(p: Parsed, io: CommandIo): Promise<number> {
  const [path, syscall, ...argStrs] = p.positional;
  if (!syscall) throw new UsageError(`explain needs a profile and a syscall\n${USAGE}`);
  if (argStrs.length > 6) throw new UsageError('at most 6 syscall arguments');
  const policy = await loadPolicy(path, p.profile, p.verbose, io);
  const abi = p.abi ?? policy.arches[0];
  const args = argStrs.map(parseArg);
  const call: string | number = /^\d+$/.test(syscall) ? Number(syscall) : syscall;
  if (typeof call === 'string' && syscallNumber(abi, call) === undefined) throw new UsageError(`unknown syscall '${call}' on ${abi}`);
  const d = explain(policy, call, args, abi);
  io.stdout(`${formatAction(d.action)}\n${d.reason}\n`);
  for (const r of d.considered) {
    const conds = r.conditions.map((c) => `${c.text} [${c.holds ? 'yes' : 'no'}]`).join(' && ');
    io.stdout(`  ${r.matched ? '*' : ' '} ${r.rule.origin ?? `rule ${r.index}`}: ${formatAction(r.rule.action)} ${conds ? `if ${conds}` : 'always'}\n`);
  }
  // The compiled filter must agree with the direct reading of the policy.
  const filter = compileOrWarn(policy, io);
  const nr = typeof call === 'number' ? call : syscallNumber(abi, call)!;
  const full = [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6);
  const ret = runFilter(filter, { nr, arch: ARCHES[abi].auditArch, instructionPointer: 0n, args: full }, ARCHES[abi].endian);
  io.stdout(`filter returns 0x${ret.toString(16).padStart(8, '0')} (${formatAction(retToAction(ret))})\n`);
  return 0;
}

async function runCmd(p: Parsed, io: CommandIo): Promise<number> {
  if (p.positional.length !== 1 || p.rest.length === 0) throw new UsageError(`run takes a profile, then -- COMMAND\n${USAGE}`);
  if (p.profile.arch !== nativeArch()) throw new UsageError(`run needs the native architecture (${nativeArch()}), not ${p.profile.arch}`);
  const policy = await loadPolicy(p.positional[0], p.profile, p.verbose, io);
  const filter = compileOrWarn(policy, io);
  const b64 = Buffer.from(encodeSockFilter(filter)).toString('base64');
  const self = fileURLToPath(import.meta.url);
  const helper = self.replace(/commands[\\/]seccomp\.(ts|js)$/, 'seccomp-exec.$1');
  const child = spawn(process.execPath, [...process.execArgv, helper, b64, ...p.rest], { stdio: 'inherit' });
  return await new Promise<number>((resolve) => {
    child.on('error', (e) => {
      io.stderr(`bpfkit: cannot start helper: ${e.message}\n`);
      resolve(126);
    });
    child.on('exit', (code, signal) => {
      if (signal) {
        io.stderr(`bpfkit: ${p.rest[0]} killed by ${signal}\n`);
        resolve(128 + (osConstants.signals[signal] ?? 0));
      } else {
        resolve(code ?? 1);
      }
    });
  });
}

export default async function seccomp(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    io.stdout(USAGE);
    return sub ? 0 : 2;
  }
  const p = parseArgs(rest);
  switch (sub) {
    case 'compile': return compileCmd(p, io);
    case 'explain': return explainCmd(p, io);
    case 'run': return runCmd(p, io);
    default: throw new UsageError(`unknown seccomp subcommand '${sub}'\n${USAGE}`);
  }
}
