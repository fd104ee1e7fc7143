/**
 * `bpfkit trace` against bpftrace 0.17, in the same run:
 *
 *   node --import tsx bench/trace.ts [--rounds N] [--calls N] [--skip-overhead]
 *
 * 1. Start-up, empty program: wall time of `TOOL -e 'BEGIN { exit(); }'`,
 *    the two tools alternating, N rounds (default 20) after 3 warm-ups.
 * 2. Launch to first probe hit: a pinger (build/trace-bench/trping, comm
 *    "trping") opens /dev/null every 100 us; each tool runs
 *    `tracepoint:syscalls:sys_enter_openat /comm == "trping"/ { @[comm] = count(); signal("SIGUSR1"); }`
 *    and the pinger notes CLOCK_MONOTONIC when the signal lands. The figure
 *    is that instant minus the tool's spawn (Node's hrtime is CLOCK_MONOTONIC
 *    too), so it covers exec, compile, load and attach, and nothing after.
 * 3. Overhead: a loop of N openat+close calls (default 500,000; comm
 *    "trloop") timed untraced, under bpftrace and under bpfkit trace, both
 *    running `tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }`.
 *    Rounds alternate so machine load hits every variant alike.
 *
 * Our command runs from an esbuild bundle (build/trace-bundle/trace.js, see
 * scripts/bundle-commands.ts), as `bpfkit trace` would once bin/bpfkit.js
 * loads it. Needs root and bpftrace; prints min and median for each.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTrace } from '../scripts/bundle-commands.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'build', 'trace-bench');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt('--rounds', 20);
const CALLS = opt('--calls', 500_000);

const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void hit(int sig) {
  (void)sig;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld\n", now());
  write(1, buf, n);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "loop") == 0) {
    long n = atol(argv[2]);
    long long t0 = now();
    for (long i = 0; i < n; i++) close(open("/dev/null", O_RDONLY));
    printf("%lld\n", now() - t0);
    return 0;
  }
  /* ping: open /dev/null every 100 us until SIGUSR1 (or 20 s). */
  signal(SIGUSR1, hit);
  struct timespec gap = { 0, 100000 };
  long long end = now() + 20000000000LL;
  while (now() < end) {
    close(open("/dev/null", O_RDONLY));
    nanosleep(&gap, 0);
  }
  return 1;
}
`;

function buildTools(): { ping: string; loop: string; bundle: string } {
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'trbench.c');
  writeFileSync(src, C_SOURCE);
  const ping = join(dir, 'trping');
  execFileSync('clang-19', ['-O2', '-o', ping, src]);
  // A second copy so the loop's comm differs from the pinger's.
  const loop = join(dir, 'trloop');
  execFileSync('cp', [ping, loop]);
  return { ping, loop, bundle: join(root, 'build', 'trace-bundle') };
}

interface Tool {
  readonly name: string;
  readonly cmd: string;
  readonly pre: readonly string[];
}

const stats = (xs: number[]): { min: number; median: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 };
};

const ms = (ns: bigint | number): number => Number(ns) / 1e6;

/** Wall time (ms) of one run, and its CPU time (user + sys, ms) from GNU time. */
function wallOnce(t: Tool, prog: string): { wall: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', t.cmd, ...t.pre, '-e', prog], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`${t.name} failed: ${r.stderr}`);
  const [u, sy] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: ms(t1 - t0), cpu: (u + sy) * 1000 };
}

/** Spawn the tool with the pinger running; ms from spawn to the pinger's SIGUSR1. */
async function firstHit(t: Tool, ping: string): Promise<number> {
  const pinger = spawn(ping, [], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  pinger.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const pingerDone = new Promise<void>((r) => pinger.on('exit', () => r()));
  await new Promise((r) => setTimeout(r, 20));
  const prog = 'tracepoint:syscalls:sys_enter_openat /comm == "trping"/ { @[comm] = count(); signal("SIGUSR1"); }';
  const t0 = process.hrtime.bigint();
  const tool = spawn(t.cmd, [...t.pre, '--unsafe', '-e', prog], { stdio: ['ignore', 'ignore', 'ignore'] });
  const toolDone = new Promise<void>((r) => tool.on('exit', () => r()));
  await pingerDone;
  await stopTool(tool, toolDone);
  const hitAt = BigInt(out.trim() || '0');
  if (hitAt === 0n) throw new Error(`${t.name}: the probe never fired`);
  return ms(hitAt - t0);
}

/** SIGINT, repeated: a signal that lands while a tool is still setting up can be lost. */
async function stopTool(tool: ReturnType<typeof spawn>, done: Promise<void>): Promise<void> {
  let exited = false;
  void done.then(() => { exited = true; });
  for (let i = 0; i < 100 && !exited; i++) {
    tool.kill('SIGINT');
    await Promise.race([done, new Promise((r) => setTimeout(r, 200))]);
  }
  if (!exited) { tool.kill('SIGKILL'); await done; }
}

function loopOnce(loop: string): number {
  const r = spawnSync(loop, ['loop', String(CALLS)], { encoding: 'utf8' });
  return Number(r.stdout.trim()) / CALLS;
}

/** Run the loop under the tool (null: untraced); ns per openat+close. */
async function traced(t: Tool | null, loop: string): Promise<number> {
  if (t === null) return loopOnce(loop);
  const tool = spawn(t.cmd, [...t.pre, '-e', 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  tool.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<void>((r) => tool.on('exit', () => r()));
  const start = Date.now();
  while (!out.includes('Attaching')) {
    if (Date.now() - start > 10000) throw new Error(`${t.name} did not start`);
    await new Promise((r) => setTimeout(r, 10));
  }
  // "Attaching" is printed before attaching: give both tools time to finish.
  await new Promise((r) => setTimeout(r, 500));
  const v = loopOnce(loop);
  await stopTool(tool, done);
  if (!/@\[trloop\]: \d+/.test(out)) throw new Error(`${t.name}: the loop was not counted:\n${out}`);
  return v;
}

function line(label: string, xs: number[], unit: string, digits = 1): string {
  const s = stats(xs);
  return `  ${label.padEnd(16)} min ${s.min.toFixed(digits).padStart(8)} ${unit}  median ${s.median.toFixed(digits).padStart(8)} ${unit}`;
}

async function main(): Promise<void> {
  if (spawnSync('bpftrace', ['--version']).status !== 0) throw new Error('bpftrace is not installed');
  const { ping, loop, bundle } = buildTools();
  const entry = await bundleTrace(bundle);
  const ours: Tool = { name: 'bpfkit trace', cmd: process.execPath, pre: [join(dir, 'run.mjs')] };
  writeFileSync(ours.pre[0], `const { run } = await import(${JSON.stringify(entry)});\nprocess.exitCode = await run(process.argv.slice(2));\n`);
  const theirs: Tool = { name: 'bpftrace', cmd: 'bpftrace', pre: [] };
  const nodeBare: Tool = { name: 'node -e 0', cmd: process.execPath, pre: [] };

  console.log(`bpfkit trace vs ${execFileSync('bpftrace', ['--version'], { encoding: 'utf8' }).trim()}, node ${process.version}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  // 1. Empty program.
  const empty = 'BEGIN { exit(); }';
  for (let i = 0; i < 3; i++) { wallOnce(ours, empty); wallOnce(theirs, empty); }
  const e: Record<string, number[]> = { ours: [], theirs: [], node: [], oursCpu: [], theirsCpu: [], nodeCpu: [] };
  const nodeArgs: Tool = { ...nodeBare, pre: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const a = wallOnce(ours, empty), b = wallOnce(theirs, empty), c = wallOnce(nodeArgs, '0');
    e.ours.push(a.wall); e.oursCpu.push(a.cpu);
    e.theirs.push(b.wall); e.theirsCpu.push(b.cpu);
    e.node.push(c.wall); e.nodeCpu.push(c.cpu);
  }
  console.log(`\nstart-up, ${ROUNDS} rounds: TOOL -e '${empty}' (launch to exit; CPU = user + sys, 10 ms resolution)`);
  console.log(`${line('bpftrace', e.theirs, 'ms')}   CPU median ${stats(e.theirsCpu).median.toFixed(0)} ms`);
  console.log(`${line('bpfkit trace', e.ours, 'ms')}   CPU median ${stats(e.oursCpu).median.toFixed(0)} ms`);
  console.log(`${line('node -e 0', e.node, 'ms')}   CPU median ${stats(e.nodeCpu).median.toFixed(0)} ms`);
  console.log(`  ratio bpftrace/bpfkit: min ${(stats(e.theirs).min / stats(e.ours).min).toFixed(2)}x, median ${(stats(e.theirs).median / stats(e.ours).median).toFixed(2)}x`);

  // 2. Launch to first hit.
  const h: Record<string, number[]> = { ours: [], theirs: [] };
  const hitRounds = Math.max(3, Math.round(ROUNDS / 2));
  for (let i = 0; i < hitRounds; i++) {
    h.ours.push(await firstHit(ours, ping));
    h.theirs.push(await firstHit(theirs, ping));
  }
  console.log(`\nlaunch to first probe hit, ${hitRounds} rounds: sys_enter_openat { @[comm] = count(); signal(...) }`);
  console.log(line('bpftrace', h.theirs, 'ms'));
  console.log(line('bpfkit trace', h.ours, 'ms'));
  console.log(`  ratio bpftrace/bpfkit: min ${(stats(h.theirs).min / stats(h.ours).min).toFixed(2)}x, median ${(stats(h.theirs).median / stats(h.ours).median).toFixed(2)}x`);

  if (args.includes('--skip-overhead')) return;
  // 3. Overhead on a busy syscall loop.
  const o: Record<string, number[]> = { none: [], ours: [], theirs: [] };
  const loopRounds = Math.max(3, Math.round(ROUNDS / 4));
  for (let i = 0; i < loopRounds; i++) {
    o.none.push(await traced(null, loop));
    o.theirs.push(await traced(theirs, loop));
    o.ours.push(await traced(ours, loop));
  }
  console.log(`\noverhead, ${loopRounds} rounds of ${CALLS} openat+close: ns per iteration`);
  console.log(line('untraced', o.none, 'ns'));
  console.log(line('bpftrace', o.theirs, 'ns'));
  console.log(line('bpfkit trace', o.ours, 'ns'));
  const s = (k: string) => stats(o[k]);
  console.log(`  traced throughput bpfkit/bpftrace: min ${(s('theirs').min / s('ours').min).toFixed(3)}, median ${(s('theirs').median / s('ours').median).toFixed(3)} (1.000 = same, above = ours faster)`);
  console.log(`  probe cost over untraced (median): bpftrace ${(s('theirs').median - s('none').median).toFixed(1)} ns, bpfkit ${(s('ours').median - s('none').median).toFixed(1)} ns`);
}

if (!existsSync('/sys/fs/bpf') && process.getuid?.() !== 0) console.log('needs root');
else await main();
