/**
 * `bpfkit trace`: run a bpftrace-compatible script on the kernel (or list
 * probes, or show the generated eBPF). Heavy modules load only when the
 * chosen path needs them, so start-up stays short.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { UsageError, type CommandIo } from '../io.js';
// The common path (compile, then run on the kernel) is imported statically, so a
// bundle keeps it in one file; rarer paths (BTF, -d, --vm, other attach points) stay lazy.
import { compile } from '../../trace/compile.js';
import { ScriptError, TraceLoadError, renderDiagnostic } from '../../trace/errors.js';
import { runOnKernel } from '../../trace/kernel/run.js';
import { strftime } from '../../trace/strftime.js';

const USAGE = `Usage: bpfkit trace [options] FILE [ARGS...]
       bpfkit trace [options] -e 'PROGRAM' [ARGS...]

Run a bpftrace-compatible tracing program.

Options:
  -e PROGRAM     program text
  -l [PATTERN]   list probes (tracepoints, software and hardware events) matching PATTERN
  -p PID         trace this process (uprobes fire only there; exit when it exits)
  -c CMD         run CMD once probes are attached; exit when it exits
  -f FORMAT      output format: text (default) or json
  -d             print the generated eBPF and exit
  -v             print the kernel verifier's log of each program
  --dry-run      compile and check, print nothing, do not load
  --unsafe       allow system() and signal()
  --vm           run on the userspace VM instead of the kernel (no root needed)
  --events FILE  with --vm: the events that fire, as JSON lines
                 ({"probe": "tracepoint:syscalls:sys_enter_openat", "comm": "bash",
                   "pid": 42, "args": {"filename": "/etc/passwd"}, "repeat": 3})
                 events may carry "kstack"/"ustack" address lists; a {"symbols": [...]}
                 line names them ({"addr", "size", "name"[, "pid", "module"]})
  -h, --help     show this help
`;

interface Options {
  program?: string;
  file?: string;
  list?: string | true;
  pid?: number;
  cmd?: string;
  format: 'text' | 'json';
  debug: boolean;
  verbose: boolean;
  dryRun: boolean;
  unsafe: boolean;
  vm: boolean;
  events?: string;
  positional: string[];
}

function parseArgs(argv: string[]): Options | 'help' {
  const o: Options = { format: 'text', debug: false, verbose: false, dryRun: false, unsafe: false, vm: false, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (o.program === undefined && o.file === undefined && o.list === undefined) {
      switch (a) {
        case '-h': case '--help': return 'help';
        case '-e': o.program = value(); continue;
        case '-l': {
          const next = argv[i + 1];
          o.list = next !== undefined && !next.startsWith('-') ? (i++, next) : true;
          continue;
        }
        case '-p': {
          const v = value();
          if (!/^[0-9]+$/.test(v)) throw new UsageError(`-p: '${v}' is not a process id`);
          o.pid = Number(v);
          continue;
        }
        case '-c': o.cmd = value(); continue;
        case '-f': {
          const v = value();
          if (v !== 'text' && v !== 'json') throw new UsageError(`Invalid output format "${v}"; valid formats: text, json`);
          o.format = v;
          continue;
        }
        case '-d': o.debug = true; continue;
        case '-v': o.verbose = true; continue;
        case '--dry-run': o.dryRun = true; continue;
        case '--unsafe': o.unsafe = true; continue;
        case '--vm': o.vm = true; continue;
        case '--events': o.events = value(); continue;
      }
      if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option '${a}'`);
      o.file = a;
      continue;
    }
    // Options may still follow the program; the rest are positional parameters.
    if (a === '-f') { const v = value(); if (v !== 'text' && v !== 'json') throw new UsageError(`Invalid output format "${v}"`); o.format = v; continue; }
    if (a === '-c') { o.cmd = value(); continue; }
    if (a === '-p') { o.pid = Number(value()); continue; }
    if (a === '-d') { o.debug = true; continue; }
    if (a === '-v') { o.verbose = true; continue; }
    if (a === '--dry-run') { o.dryRun = true; continue; }
    if (a === '--unsafe') { o.unsafe = true; continue; }
    if (a === '--vm') { o.vm = true; continue; }
    if (a === '--events') { o.events = value(); continue; }
    o.positional.push(a);
  }
  return o;
}

const TRACEFS = '/sys/kernel/tracing';

function tracefsRoot(): string {
  if (existsSync(`${TRACEFS}/events`)) return TRACEFS;
  if (existsSync('/sys/kernel/debug/tracing/events')) return '/sys/kernel/debug/tracing';
  return TRACEFS;
}

let tracepointCache: string[] | undefined;
function tracepoints(): string[] {
  if (tracepointCache) return tracepointCache;
  const root = tracefsRoot();
  try {
    tracepointCache = readFileSync(`${root}/available_events`, 'utf8').split('\n').filter(Boolean);
  } catch {
    tracepointCache = [];
  }
  return tracepointCache;
}

/** Mount tracefs when it is missing, as bpftrace does (src/kernel knows how; loaded only then). */
async function ensureTracefs(): Promise<void> {
  if (existsSync(`${tracefsRoot()}/available_events`)) return;
  try {
    const { tracefs } = await import('../../kernel/link/tracefs.js');
    tracefs();
  } catch {
    // Not root or no tracefs: tracepoints are then unknown.
  }
}

let kallsymsCache: { addrs: bigint[]; names: string[] } | undefined;
function kallsyms(): { addrs: bigint[]; names: string[] } {
  if (kallsymsCache) return kallsymsCache;
  const rows: [bigint, string][] = [];
  try {
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [a, t, n] = line.split(/\s+/);
      if (!n || !/[tTwW]/.test(t)) continue;
      rows.push([BigInt(`0x${a}`), n]);
    }
  } catch {
    // No symbols: addresses print in hex.
  }
  rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return (kallsymsCache = { addrs: rows.map((r) => r[0]), names: rows.map((r) => r[1]) });
}

/** Index of the last symbol at or below addr, or -1. */
function symbolAt(addr: bigint): number {
  const { addrs } = kallsyms();
  let lo = 0, hi = addrs.length - 1, best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (addrs[mid] <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return best;
}

function ksym(addr: bigint): string {
  const i = symbolAt(addr);
  return i < 0 ? `0x${addr.toString(16)}` : kallsyms().names[i];
}

/** `name+offset` (decimal), as bpftrace prints kernel stack frames. */
function ksymOffset(addr: bigint): string {
  const i = symbolAt(addr);
  if (i < 0) return `0x${addr.toString(16)}`;
  const { addrs, names } = kallsyms();
  return `${names[i]}+${addr - addrs[i]}`;
}

/** Function symbols of a binary (the names uprobes attach to), without symbol versions. */
async function userFunctionLister(): Promise<(binary: string) => readonly string[] | undefined> {
  const { readFunctionSymbols } = await import('../../kernel/link/elf-symbols.js');
  return (binary) => {
    try {
      return readFunctionSymbols(new Uint8Array(readFileSync(binary)), binary).map((s) => s.name.replace(/@.*$/, ''));
    } catch {
      return undefined;
    }
  };
}

/**
 * usym() and ustack frames named from the traced binaries, through /proc
 * (loaded only for scripts that print user addresses).
 */
async function userSymbolResolver(): Promise<(pid: number, addrs: readonly bigint[]) => readonly ({ name: string; offset: bigint; module: string } | undefined)[]> {
  const { UserSymbolizer } = await import('../../trace/user-symbols.js');
  const symbolizer = new UserSymbolizer({
    exe: (pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`);
      } catch {
        return undefined;
      }
    },
    maps: (pid) => {
      try {
        return readFileSync(`/proc/${pid}/maps`, 'utf8');
      } catch {
        return undefined;
      }
    },
    readFile: (path) => {
      try {
        const b = readFileSync(path);
        return new Uint8Array(b.buffer, b.byteOffset, b.length);
      } catch {
        return undefined;
      }
    },
  });
  return (pid, addrs) => symbolizer.resolveAll(pid, addrs);
}

/** End the -c command (SIGTERM, then SIGKILL after a second) and wait until it is gone, as bpftrace does before END. */
async function endChild(child: import('node:child_process').ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), 1000); });
  if ((await Promise.race([gone, late])) === 'late') {
    child.kill('SIGKILL');
    await gone;
  }
  clearTimeout(timer);
}

async function listProbes(pattern: string | true, io: CommandIo): Promise<number> {
  // uprobe:BINARY[:FUNC]: the binary's functions, as bpftrace lists them.
  const u = pattern === true ? null : /^(uprobe|u|uretprobe|ur):(.+?)(?::([^:/]*))?$/.exec(pattern);
  if (u) {
    const funcs = (await userFunctionLister())(u[2]);
    if (funcs === undefined) throw new UsageError(`-l: could not read the symbols of ${u[2]}`);
    const re = new RegExp(`^${(u[3] ?? '*').replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    io.stdout([...new Set(funcs)].filter((f) => re.test(f)).sort().map((f) => `uprobe:${u[2]}:${f}\n`).join(''));
    return 0;
  }
  const all = [
    ...tracepoints().map((t) => `tracepoint:${t}`).sort(),
    ...['cpu-clock', 'task-clock', 'page-faults', 'context-switches', 'cpu-migrations', 'minor-faults', 'major-faults', 'alignment-faults', 'emulation-faults', 'dummy', 'bpf-output'].map((s) => `software:${s}:`),
    ...['cpu-cycles', 'instructions', 'cache-references', 'cache-misses', 'branch-instructions', 'branch-misses', 'bus-cycles', 'frontend-stalls', 'backend-stalls', 'ref-cycles'].map((s) => `hardware:${s}:`),
  ];
  let shown = all;
  if (pattern !== true) {
    const aliases: Record<string, string> = { t: 'tracepoint', s: 'software', h: 'hardware' };
    const [head, ...rest] = pattern.split(':');
    const full = rest.length ? [aliases[head] ?? head, ...rest].join(':') : pattern;
    const body = full.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    const re = new RegExp(full.includes(':') ? `^${body}$` : `(^|:)${body}(:|$)`);
    shown = all.filter((p) => re.test(p));
  }
  io.stdout(shown.map((p) => `${p}\n`).join(''));
  return 0;
}

export default async function trace(argv: string[], io: CommandIo): Promise<number> {
  const o = parseArgs(argv);
  if (o === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  await ensureTracefs();
  if (o.list !== undefined) return await listProbes(o.list, io);
  let source: string;
  let file: string;
  if (o.program !== undefined) {
    source = o.program;
    file = 'stdin';
  } else if (o.file !== undefined) {
    source = o.file === '-' ? new TextDecoder().decode(await io.readStdin()) : readFileSync(o.file, 'utf8');
    file = o.file === '-' ? 'stdin' : o.file;
  } else throw new UsageError(`expected a program (-e 'PROGRAM' or FILE)\n\n${USAGE}`);

  // -c: start the command now, held before exec until the probes are attached, so `cpid` is known when compiling.
  let child: import('node:child_process').ChildProcess | undefined;
  if (o.cmd !== undefined && !o.debug && !o.dryRun && !o.vm && o.events === undefined) {
    const args = o.cmd.split(/\s+/).filter(Boolean);
    child = requireChildProcess().spawn('/bin/sh', ['-c', 'read _; exec "$@"', 'sh', ...args], { stdio: ['pipe', 'inherit', 'inherit'] });
    if (child.pid !== undefined) await blockedInRead(child.pid);
  }
  const killChild = () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    return await compileAndRun(o, source, file, io, child);
  } finally {
    killChild();
  }
}

/** vmlinux BTF, parsed only when a script touches kernel structs or fentry/fexit. */
let btfLoader: (() => import('../../btf/index.js').Btf | undefined) = () => undefined;

async function compileAndRun(o: Options, source: string, file: string, io: CommandIo, child: import('node:child_process').ChildProcess | undefined): Promise<number> {
  if (/curtask|fentry:|fexit:|kfunc:|kretfunc:|\bf:|\bfr:|->|\(struct /.test(source)) {
    // Only import the BTF reader when the script may need it (it is a large parse).
    const { kernelBtf } = await import('../../kernel/btf.js');
    btfLoader = () => {
      try {
        return kernelBtf();
      } catch {
        return undefined;
      }
    };
  }
  // uprobe wildcards and -l need a binary's symbols (the ELF reader loads only then).
  let userFunctions: ((binary: string) => readonly string[] | undefined) | undefined;
  if (/\bu(retprobe|probe|r)?:[^{]*[*?]/.test(source)) userFunctions = await userFunctionLister();
  const startNs = process.hrtime.bigint();
  let script;
  try {
    script = compile(source, {
      catalog: { tracepoints, ...(userFunctions ? { userFunctions } : {}) },
      tracepointFormat: (cat, name) => {
        try {
          return readFileSync(`${tracefsRoot()}/events/${cat}/${name}/format`, 'utf8');
        } catch {
          return undefined;
        }
      },
      positional: o.positional,
      unsafe: o.unsafe,
      startNs,
      btf: btfLoader,
      ...(child?.pid !== undefined ? { cpid: child.pid } : {}),
      kaddr: (name) => {
        const { addrs, names } = kallsyms();
        const i = names.indexOf(name);
        return i < 0 ? undefined : addrs[i];
      },
    });
  } catch (e) {
    if (e instanceof ScriptError) {
      io.stderr(e.render(source, file));
      return 1;
    }
    throw e;
  }
  for (const w of script.warnings) io.stderr(renderDiagnostic('WARNING', w.message, w.loc, source, file));
  if (o.dryRun) return 0;
  if (o.debug) {
    const { formatProgram } = await import('../../asm/index.js');
    for (const p of script.programs) {
      io.stdout(`; ${p.probes.map((s) => s.name).join(', ')} (${p.progType}, ${p.insns.length} insns)\n`);
      // Interleave the script line each run of instructions came from, as llvm-objdump -S does.
      const lines = source.split('\n');
      let last = -1;
      const lineInfo = (slot: number): string | undefined => {
        const line = p.slotLocs[slot]?.line;
        if (line === undefined || line === last) return undefined;
        last = line;
        return `${file}:${line}: ${lines[line - 1]?.trim() ?? ''}`;
      };
      io.stdout(`${formatProgram(p.insns, { style: 'kernel', lineInfo })}\n\n`);
    }
    return 0;
  }

  if (o.vm || o.events !== undefined) {
    const { runOnVm } = await import('../../trace/vm/run.js');
    const { parseEvents, parseSymbols } = await import('../../trace/vm/events.js');
    let events: ReturnType<typeof parseEvents> = [];
    let symbols: ReturnType<typeof parseSymbols> = [];
    try {
      if (o.events !== undefined) {
        const text = o.events === '-' ? new TextDecoder().decode(await io.readStdin()) : readFileSync(o.events, 'utf8');
        events = parseEvents(text);
        symbols = parseSymbols(text);
      }
      return runOnVm(script, events, {
        mode: o.format,
        symbols,
        write: io.stdout,
        tracepointFormat: (cat, name) => {
          try {
            return readFileSync(`${tracefsRoot()}/events/${cat}/${name}/format`, 'utf8');
          } catch {
            return undefined;
          }
        },
      });
    } catch (e) {
      if (e instanceof ScriptError) {
        io.stderr(e.render(source, file));
        return 1;
      }
      throw e;
    }
  }

  let finish: () => void = () => {};
  const stop = new Promise<void>((resolve) => { finish = resolve; });
  const onSignal = () => finish();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `bpfkit trace ... | head`: a closed pipe ends the run quietly, as it does for bpftrace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') finish();
  });
  let pidTimer: ReturnType<typeof setInterval> | undefined;
  if (o.pid !== undefined) {
    const pid = o.pid;
    pidTimer = setInterval(() => {
      try { process.kill(pid, 0); } catch { finish(); }
    }, 200);
  }
  try {
    return await runOnKernel(script, {
      mode: o.format,
      write: io.stdout,
      writeErr: io.stderr,
      source,
      file,
      verbose: o.verbose,
      stop,
      ...(o.pid !== undefined ? { pid: o.pid } : {}),
      resolver: {
        ksym,
        // strftime() takes CLOCK_MONOTONIC ns (nsecs), as bpf_ktime_get_ns gives them: shift to the wall clock.
        timestamp: (i, ns) => {
          const wall = ns + BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
          return strftime(script.timeFormats[i] ?? '', new Date(Number(wall / 1000000n)), Number((wall / 1000n) % 1000000n));
        },
      },
      ksymOffset,
      ...(/\bu(sym|stack)\b/.test(source) ? { userSymbols: await userSymbolResolver() } : {}),
      ...(child ? { beforeEnd: () => endChild(child) } : {}),
      noPrealloc: kernelAtLeast(6, 1),
      hooks: {
        system: (cmd) => {
          const { execSync } = requireChildProcess();
          return execSync(cmd, { encoding: 'utf8' });
        },
      },
      onAttached: child === undefined ? undefined : () => {
        const c = child;
        if (c.exitCode !== null) { finish(); return; }
        c.on('exit', () => finish());
        c.on('error', (err) => { io.stderr(`bpfkit trace: -c: ${err.message}\n`); finish(); });
        c.stdin?.end('\n');
      },
    });
  } catch (e) {
    if (e instanceof TraceLoadError) {
      io.stderr(`${e.message}\n`);
      if (o.verbose) io.stderr(`${e.log}\n`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (pidTimer) clearInterval(pidTimer);
  }
}

/** read(2)'s number, as /proc/PID/syscall shows it. */
const READ_NR: Partial<Record<string, number>> = { x64: 0, arm64: 63, riscv64: 63, loong64: 63, ia32: 3, arm: 3, s390x: 3, ppc64: 3 };

/**
 * Wait (up to a second) until the -c shell sits in read(2) on its stdin, so its
 * own start-up (the loader reading libc, the shell's first read) is over before
 * the probes attach: only the command itself is traced, as with bpftrace.
 */
async function blockedInRead(pid: number): Promise<void> {
  const nr = READ_NR[process.arch];
  if (nr === undefined) return;
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline) {
    try {
      const first = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
      if (Number(first) === nr) return;
    } catch {
      return; // no /proc access (or the shell already exited): carry on
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** True when the running kernel's release is at least major.minor. */
function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release());
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

// child_process is needed only for -c and system(); loaded on demand.
import { createRequire } from 'node:module';
const localRequire = createRequire(import.meta.url);
function requireChildProcess(): typeof import('node:child_process') {
  return localRequire('node:child_process') as typeof import('node:child_process');
}
