/**
 * `npm run bench`: ns per run of the /work/shared/bench programs on the
 * interpreter, the WebAssembly JIT (checked, and verified: no memory checks)
 * and the kernel's JIT (BPF_PROG_TEST_RUN), side by side in one run, with
 * the JIT's ratio to the kernel and its compile time per program.
 *
 *   npm run bench [-- --rounds N] [-- --json] [-- --compile-only]
 *
 * Each figure is the median of N rounds (default 7) of a timed loop sized
 * to about 100 ms of CPU time (--wall: wall-clock time). As with the
 * kernel's BPF_PROG_TEST_RUN, the input is copied in once and the program
 * runs on it repeatedly (Vm/JitProgram.call with r1 = input, r2 = length). The process re-executes itself pinned to one core
 * (`taskset -c 1`) when taskset exists. The benchmark directory is
 * ../shared/bench next to the repository (BPFKIT_BENCH_DIR overrides);
 * without it the benchmark is skipped with a message.
 *
 * Compile time is wall-clock milliseconds of compile() (validation,
 * analysis, translation, WebAssembly compile, instance, on the calling
 * thread), measured in child processes so that it is honest about V8: a
 * program's first compile in a process runs our translator's JavaScript
 * cold (V8 parses and compiles each function on its first call, and runs
 * it unoptimized), which is most of its cost. "fresh": the first compile()
 * in a new process that has imported the modules and loaded the object,
 * nothing compiled before; "warm": the same, after one compile of a
 * different program (the translator's code compiled, not yet tuned to this
 * program). Both run our modules from src/ under tsx, as the tests do.
 * "fresh (bpfkit jit)": the first compile() as a user's process gets it,
 * `node bin/bpfkit.js jit OBJ --program mem_NAME --json` (compile_ms), in a
 * plain `node` (no tsx), which starts the command from its CommonJS bundle
 * and V8's code cache (scripts/bundle-commands.ts; the cache is made from
 * warm-up programs that are not these benchmarks): the translator's
 * functions arrive compiled to bytecode, no lazy parse and compile. The
 * bundle is remade from src/ first (dist/cli/bundle/jit.*, as `npm run
 * build` makes it; only that command's files, so runs of other commands'
 * benchmarks are not disturbed). Each figure is the median of COMPILE_RUNS
 * child processes, not pinned (V8 compiles WebAssembly on helper threads,
 * as in any process); a scavenge of the garbage left by loading the object
 * may land inside the compile, as it would in an application. The
 * children run without NODE_EXTRA_CA_CERTS, which some machines set
 * (sandboxes behind a TLS proxy; this one does): it makes Node read and
 * parse that CA bundle at start-up on a thread that competes with the main
 * thread while the first compile runs, for TLS that compiling never uses.
 * The clock is process.hrtime: Node loads `performance` on first use,
 * which compile() avoids. CPU time would mislead here: it also counts V8's
 * background threads (concurrent GC and optimization left over from
 * earlier work).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCached } from '../scripts/bundle-commands.js';
import { loadCollectionSpec } from '../src/elf/index.js';
import type { Insn } from '../src/isa/index.js';
import { compile, JitProgram } from '../src/jit/index.js';
import { loadCollection } from '../src/runtime/index.js';
import { Vm, type PreparedProgram } from '../src/vm/index.js';
import type { CollectionSpec } from '../src/elf/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const benchDir = process.env.BPFKIT_BENCH_DIR ?? resolve(here, '../../shared/bench');
const args = process.argv.slice(2);
const json = args.includes('--json');
/** Only the compile-time columns (no runs, no kernel). */
const compileOnly = args.includes('--compile-only');
const roundsArg = args.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 7;
const PROGRAMS = ['nop', 'alu', 'parse', 'map', 'fnv'] as const;
const TARGET_NS = 100e6;

function pinned(): boolean {
  if (process.env.BPFKIT_BENCH_PINNED === '1' || process.platform !== 'linux') return true;
  const probe = spawnSync('taskset', ['-c', '1', 'true']);
  if (probe.status !== 0) return true;
  const r = spawnSync('taskset', ['-c', '1', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, BPFKIT_BENCH_PINNED: '1' },
  });
  process.exitCode = r.status ?? 1;
  return false;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * CPU time of this process in ns: like the kernel's test-run timer, which
 * stops while the task is rescheduled, it leaves out time other processes
 * take on a shared machine (--wall measures the wall clock instead).
 */
const wall = args.includes('--wall');
function clock(): number {
  if (wall) return Number(process.hrtime.bigint());
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Median ns per call of fn over ROUNDS rounds, each a loop of about TARGET_NS. */
function timeIt(fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn(); // warm-up, and the wasm tier-up
  let n = 1;
  for (;;) {
    const t0 = clock();
    for (let i = 0; i < n; i++) fn();
    const dt = clock() - t0;
    if (dt > TARGET_NS / 10 || n > 1e8) {
      n = Math.max(1, Math.ceil((n * TARGET_NS) / Math.max(dt, 1)));
      break;
    }
    n *= 4;
  }
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = clock();
    for (let i = 0; i < n; i++) fn();
    per.push((clock() - t0) / n);
  }
  return median(per);
}

interface Row {
  name: string;
  skipped?: string;
  r0?: string;
  interpNs?: number;
  jitNs?: number;
  jitVerifiedNs?: number;
  jitCallNs?: number;
  kernelNs?: number;
  compileMs?: number;
  compileWarmMs?: number;
  /** Fresh compile through `bpfkit jit` (bundle + code cache, plain node). */
  compileCliMs?: number;
}

type KernelRunner = (insns: readonly Insn[] | { spec: CollectionSpec; program: string }, input: Uint8Array) => { ns: number; retval: number; first: number };

async function kernelRunner(): Promise<KernelRunner | string> {
  try {
    const k = await import('../src/kernel/index.js');
    const why = k.bpfUnusableReason();
    if (why !== undefined) return why;
    return (what, input) => {
      // Programs with maps load as a collection (maps created, relocated); the others alone.
      const coll = 'spec' in what ? k.loadCollection(what.spec, { programs: [what.program] }) : undefined;
      const prog = coll !== undefined && 'spec' in what ? coll.program(what.program) : k.loadProgram({ type: 'xdp', insns: what as readonly Insn[], name: 'bench' });
      try {
        const once = prog.testRun({ data: input, repeat: 1 }).retval;
        // Size repeat to about TARGET_NS, then take the median of ROUNDS runs.
        let repeat = 1000;
        const first = prog.testRun({ data: input, repeat });
        repeat = Math.max(1000, Math.min(10_000_000, Math.ceil(TARGET_NS / Math.max(first.duration, 1))));
        const per: number[] = [];
        let retval = first.retval;
        for (let r = 0; r < ROUNDS; r++) {
          const res = prog.testRun({ data: input, repeat });
          per.push(res.duration);
          retval = res.retval;
        }
        return { ns: median(per), retval, first: once };
      } finally {
        if (coll !== undefined) coll.close();
        else prog.close();
      }
    };
  } catch (e) {
    return (e as Error).message;
  }
}

/** Child processes per compile-time figure (their median is reported). */
const COMPILE_RUNS = 9;

/**
 * Warm the translator up (V8 compiles its code on first use) with a program
 * unlike the benchmarks: a loop with loads, stores, calls and a helper.
 */
function warmTranslator(): void {
  for (let i = 0; i < 3; i++) {
    compile([
      { kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: i } },
      { kind: 'ldx', size: 4, signExtend: false, dst: 3, src: 1, off: 0 },
      { kind: 'stx', size: 8, dst: 10, src: 3, off: -8 },
      { kind: 'jmp', width: 32, cond: 'jne', dst: 3, src: { imm: 7 }, off: 1 },
      { kind: 'call_local', off: 3 },
      { kind: 'alu', width: 64, op: 'add', dst: 0, src: { imm: 1 } },
      { kind: 'jmp', width: 64, cond: 'jlt', dst: 0, src: { imm: 100 }, off: -7 },
      { kind: 'exit' },
      { kind: 'endian', order: 'be', bits: 32, dst: 1 },
      { kind: 'call', helper: 5 },
      { kind: 'exit' },
    ]);
  }
}

/** The mem_NAME program of a benchmark object. */
function benchProgram(name: string): { spec: CollectionSpec; insns: readonly Insn[] } | undefined {
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(join(benchDir, 'progs', `${name}.bpf.o`))));
  const mem = spec.programs.get(`mem_${name}`);
  return mem === undefined ? undefined : { spec, insns: mem.insns };
}

/**
 * Child mode (`--compile-child NAME fresh|warm`): print the wall-clock ms
 * of one compile() of NAME, the process's first (fresh) or after one
 * compile of a different program (warm).
 */
function compileChild(name: string, mode: string): void {
  const insns = benchProgram(name)!.insns;
  if (mode === 'warm') warmTranslator();
  // process.hrtime, not performance.now(): Node loads `performance` on first use (about 1 ms), as compile() does not.
  const t0 = process.hrtime.bigint();
  compile(insns, { verified: false });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ ms }));
}

/**
 * Median of COMPILE_RUNS child processes' compile ms: `--compile-child
 * NAME fresh|warm` under tsx, or `cli`: `node bin/bpfkit.js jit` on the
 * object's mem_NAME program.
 */
function compileMsInChildren(name: string, mode: 'fresh' | 'warm' | 'cli'): number | undefined {
  const times: number[] = [];
  const cmd = mode === 'cli'
    ? [process.execPath, join(root, 'bin/bpfkit.js'), 'jit', join(benchDir, 'progs', `${name}.bpf.o`), '--program', `mem_${name}`, '--json']
    : [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), '--compile-child', name, mode];
  // Not pinned: V8 compiles WebAssembly and does GC on helper threads, as in any process.
  const unpin = process.platform === 'linux' && spawnSync('taskset', ['-c', `0-${cpus().length - 1}`, 'true']).status === 0;
  if (unpin) cmd.unshift('taskset', '-c', `0-${cpus().length - 1}`);
  const env: NodeJS.ProcessEnv = { ...process.env, BPFKIT_BENCH_PINNED: '1' };
  delete env.NODE_EXTRA_CA_CERTS; // see the header comment
  for (let i = 0; i < COMPILE_RUNS; i++) {
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env });
    if (r.status !== 0) return undefined;
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms?: number; compile_ms?: number };
    times.push(line.ms ?? line.compile_ms!);
  }
  return median(times);
}

async function main(): Promise<void> {
  if (!existsSync(join(benchDir, 'progs'))) {
    console.log(`bench: skipped, ${benchDir} is absent (the benchmark programs live outside the repository)`);
    return;
  }
  const child = args.indexOf('--compile-child');
  if (child >= 0) {
    compileChild(args[child + 1], args[child + 2]);
    return;
  }
  if (!pinned()) return;
  // `bpfkit jit` as shipped: its bundle and code cache, remade from src/.
  await bundleCached('jit', join(root, 'dist/cli/bundle'));
  const kernel = compileOnly ? 'not run (--compile-only)' : await kernelRunner();
  const rows: Row[] = [];
  for (const name of PROGRAMS) {
    const row: Row = { name };
    rows.push(row);
    const spec = loadCollectionSpec(new Uint8Array(readFileSync(join(benchDir, 'progs', `${name}.bpf.o`))));
    const mem = spec.programs.get(`mem_${name}`);
    const xdp = spec.programs.get(`xdp_${name}`);
    if (mem === undefined) {
      row.skipped = `no mem_${name} program in the object`;
      continue;
    }
    const input = new Uint8Array(readFileSync(join(benchDir, 'inputs', `${name}.in`)));
    row.compileMs = compileMsInChildren(name, 'fresh');
    row.compileWarmMs = compileMsInChildren(name, 'warm');
    row.compileCliMs = compileMsInChildren(name, 'cli');
    if (compileOnly) continue;
    // Programs with maps run in runtime collections (maps and helpers); each engine has its own maps.
    const hasMaps = spec.maps.size > 0;
    const inCollection = (engine: 'interp' | 'jit'): PreparedProgram => loadCollection(spec, { engine, programs: [mem.name] }).program(mem.name).prepared;
    const vm = hasMaps ? inCollection('interp') : new Vm(mem.insns);
    const jit = hasMaps ? inCollection('jit') : compile(mem.insns);
    const jitV = hasMaps ? undefined : compile(mem.insns, { verified: true });
    if (!(jit instanceof JitProgram)) throw new Error(`${name}: the runtime did not prepare the program on the JIT (${jit.fallback ?? jit.engine})`);
    const want = vm.run(input).r0;
    for (const [what, p] of [['JIT', jit], ['verified JIT', jitV]] as const) {
      if (p === undefined) continue;
      const got = p.run(input).r0;
      if (got !== want) throw new Error(`${name}: ${what} r0 0x${got.toString(16)} != interpreter's 0x${want.toString(16)}`);
    }
    row.r0 = `0x${want.toString(16)}`;
    // As BPF_PROG_TEST_RUN with repeat: the input is copied in once, the
    // program runs on it again and again (the JIT's repeat() loops inside
    // the module; call() adds the crossing from JavaScript per run).
    const timed = (p: PreparedProgram, how: 'call' | 'repeat'): number => {
      const region = p.space.map('bench-input', input);
      const n = region.start, len = region.size;
      let ns: number;
      if (how === 'call') ns = timeIt(() => { p.call([n, len]); });
      else {
        const j = p as JitProgram;
        const per = Math.max(1, Math.round(1e6 / Math.max(1, j.call([n, len]).executed)));
        ns = timeIt(() => { j.repeat([n, len], per); }) / per;
      }
      p.space.unmap(region);
      return ns;
    };
    row.interpNs = timed(vm, 'call');
    row.jitNs = timed(jit, 'repeat');
    if (jitV !== undefined) row.jitVerifiedNs = timed(jitV, 'repeat');
    row.jitCallNs = timed(jit, 'call');
    if (typeof kernel !== 'string' && xdp !== undefined) {
      const k = kernel(hasMaps ? { spec, program: xdp.name } : xdp.insns, input);
      // With maps, r0 depends on the maps' state: compare first runs, each on fresh maps.
      if (BigInt(k.first >>> 0) !== BigInt.asUintN(32, want)) throw new Error(`${name}: kernel retval ${k.retval} != r0 ${row.r0}`);
      row.kernelNs = k.ns;
    }
  }
  // Per-call overhead from JS into the module: an empty program, through call() and run() (which copies its input in and out).
  const empty = compile([{ kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: 0 } }, { kind: 'exit' }]);
  const overhead = compileOnly ? undefined : {
    callNs: timeIt(() => { empty.call(); }),
    callNumberNs: timeIt(() => { empty.callNumber(); }),
    runNs: timeIt(() => { empty.run(); }),
    repeatNs: timeIt(() => { empty.repeat([], 1000); }) / 1000,
  };
  if (json) {
    console.log(JSON.stringify({ rows, overhead, kernel: typeof kernel === 'string' ? kernel : 'ok', rounds: ROUNDS }, null, 2));
    return;
  }
  const f = (v: number | undefined, d = 1): string => (v === undefined ? '-' : v >= 1000 ? v.toFixed(0) : v.toFixed(d));
  const ratio = (a: number | undefined, k: number | undefined): string => (a === undefined || k === undefined ? '-' : (a / k).toFixed(2));
  if (!compileOnly) console.log(`ns per run (${wall ? 'wall clock' : 'CPU time'}), median of ${ROUNDS} rounds${process.env.BPFKIT_BENCH_PINNED === '1' ? ', pinned to cpu 1' : ''}${typeof kernel === 'string' ? `; kernel skipped: ${kernel}` : ''}`);
  const header = ['program', 'interp', 'jit', 'jit(verified)', 'jit call()', 'kernel', 'jit/kernel', 'jit(v)/kernel', 'compile ms (fresh/warm)', 'fresh (bpfkit jit)', 'r0'];
  const table = rows.map((r) => r.skipped
    ? [r.name, `skipped: ${r.skipped}`]
    : [r.name, f(r.interpNs), f(r.jitNs), f(r.jitVerifiedNs), f(r.jitCallNs), f(r.kernelNs), ratio(r.jitNs, r.kernelNs), ratio(r.jitVerifiedNs, r.kernelNs),
      `${f(r.compileMs, 2)} / ${f(r.compileWarmMs, 2)}`, f(r.compileCliMs, 2), r.r0 ?? '-']);
  // --compile-only: the program and compile columns.
  const shown = (row: string[]): string[] => (compileOnly && row.length > 2 ? [row[0], ...row.slice(-3, -1)] : row);
  const widths = shown(header).map((h, i) => Math.max(h.length, ...table.filter((t) => t.length > 2).map((t) => (shown(t)[i] ?? '').length)));
  console.log(shown(header).map((h, i) => h.padStart(widths[i])).join('  '));
  for (const t of table) console.log(t.length === 2 ? `${t[0].padStart(widths[0])}  ${t[1]}` : shown(t).map((c, i) => c.padStart(widths[i])).join('  '));
  if (overhead !== undefined) console.log(`JIT per-call overhead (empty program): call() ${f(overhead.callNs)} ns, callNumber() ${f(overhead.callNumberNs)} ns, run() ${f(overhead.runNs)} ns (copies the input in and out), one run inside repeat() ${f(overhead.repeatNs)} ns`);
  if (!compileOnly) console.log('jit, jit(verified): ns per run in repeat() (a loop inside the module, as the kernel\'s test run); jit call(): per run called from JavaScript');
  console.log(`compile: wall-clock ms of compile() (validation, analysis, translation, WebAssembly compile, instance), median of ${COMPILE_RUNS} child processes each, without NODE_EXTRA_CA_CERTS: fresh = the process's first compile, warm = after one compile of a different program (both: modules from src/ under tsx); fresh (bpfkit jit) = the first compile in \`node bin/bpfkit.js jit OBJ --program mem_NAME --json\` (plain node, the command's bundle with V8's code cache)`);
}

await main();
