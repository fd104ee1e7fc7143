/**
 * Differential tests: the same one-liners run by the real bpftrace and by
 * `bpfkit trace` on the same deterministic workload must print the same
 * bytes. Each case gets its own copy of the workload binary, so its comm is
 * unique and the cases can run side by side without seeing each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bpfUnusableReason } from '../../src/kernel/index.js';
import { runTrace } from './cli-run.js';

const requireKernel = process.env.BPFKIT_REQUIRE_KERNEL === '1';

interface Case {
  readonly name: string;
  /** WL stands for the workload's comm, CH for its child's, WLPATH for its binary. */
  readonly prog: string;
  /** Run the workload with -c (default true). */
  readonly workload?: boolean;
  readonly args?: readonly string[];
  /**
   * Trace test/trace/fixtures/ustack.c instead of the workload (frame
   * pointers, no address randomisation: run under `setarch -R`).
   */
  readonly ustack?: boolean;
}

const W = '/comm == "WL"/';
// Cases that print one event count instead of calling exit(): bpftrace may still print events other CPUs queued before exit() took effect.
const CASES: Case[] = [
  { name: 'count opens', prog: `tracepoint:syscalls:sys_enter_openat ${W} { @ = count(); }` },
  { name: 'count per comm', prog: 't:syscalls:sys_enter_openat /comm == "WL" || comm == "CH"/ { @[comm] = count(); }' },
  { name: 'sum of bytes read', prog: `tracepoint:syscalls:sys_exit_read ${W} { @bytes = sum(args->ret); }` },
  { name: 'hist of read sizes', prog: `tracepoint:syscalls:sys_exit_read ${W} { @ = hist(args->ret); }` },
  { name: 'hist keyed by comm', prog: 'tracepoint:syscalls:sys_exit_read /comm == "WL" || comm == "CH"/ { @[comm] = hist(args->ret); }' },
  { name: 'lhist of write sizes', prog: `tracepoint:syscalls:sys_enter_write ${W} { @ = lhist(args->count, 0, 2500, 100); }` },
  { name: 'lhist with out-of-range buckets', prog: `tracepoint:syscalls:sys_enter_write ${W} { @ = lhist(args->count, 20, 60, 10); }` },
  { name: 'stats of write sizes', prog: `tracepoint:syscalls:sys_enter_write ${W} { @ = stats(args->count); }` },
  { name: 'avg of write sizes', prog: `tracepoint:syscalls:sys_enter_write ${W} { @ = avg(args->count); }` },
  { name: 'min and max', prog: `tracepoint:syscalls:sys_exit_read ${W} { @lo = min(args->ret); @hi = max(args->ret); }` },
  { name: 'filenames opened by the child', prog: 'tracepoint:syscalls:sys_enter_openat /comm == "CH"/ { @[str(args->filename)] = count(); }' },
  { name: 'printf with strings', prog: 'tracepoint:syscalls:sys_enter_openat /comm == "CH"/ { printf("%s %s\\n", comm, str(args->filename)); }' },
  { name: 'printf with widths', prog: 'tracepoint:syscalls:sys_enter_write /comm == "WL"/ { printf("%-6d|%6d|%x\\n", args->count, args->fd, args->count); }' },
  { name: 'sum keyed by size', prog: `tracepoint:syscalls:sys_enter_write ${W} { @[args->count] = sum(args->count); }` },
  { name: 'filter on a field', prog: 'tracepoint:syscalls:sys_enter_write /comm == "WL" && args->count > 15 && args->count < 45/ { @ = count(); }' },
  { name: 'if/else', prog: `tracepoint:syscalls:sys_enter_write ${W} { if (args->count > 1000) { @big = count(); } else { @small = count(); } }` },
  { name: 'ternary key', prog: `tracepoint:syscalls:sys_enter_write ${W} { @[args->count > 1000 ? "big" : "small"] = count(); }` },
  { name: 'comparison key', prog: `tracepoint:syscalls:sys_enter_write ${W} { @[args->count >= 2000] = count(); }` },
  { name: 'two keys', prog: 'tracepoint:syscalls:sys_enter_write /comm == "WL" && args->count == 2000/ { @x[comm, args->count] = count(); }' },
  { name: 'probe builtin across attach points', prog: 't:syscalls:sys_enter_openat, t:syscalls:sys_enter_write /comm == "WL"/ { @[probe] = count(); }' },
  { name: 'wildcard attach point', prog: 'tracepoint:syscalls:sys_enter_wr* /comm == "WL"/ { @[probe] = count(); }' },
  { name: 'END printing a counter', prog: 'tracepoint:syscalls:sys_enter_write /comm == "WL"/ { @c++; } END { printf("writes: %d\\n", @c); }' },
  { name: 'print and clear in END', prog: `tracepoint:syscalls:sys_enter_write ${W} { @s[args->count] = sum(args->count); } END { print(@s); clear(@s); }` },
  { name: 'delete in END', prog: `tracepoint:syscalls:sys_enter_write ${W} { @s[args->count] = sum(args->count); } END { delete(@s[2000]); }` },
  { name: 'zero in END', prog: `tracepoint:syscalls:sys_enter_write ${W} { @ = count(); } END { zero(@); }` },
  { name: 'string map value', prog: 'tracepoint:syscalls:sys_enter_openat /comm == "CH"/ { @last = str(args->filename); }' },
  { name: 'tuple map value', prog: `tracepoint:syscalls:sys_enter_write ${W} { @t = (args->count, "x"); }` },
  { name: 'uid key', prog: `tracepoint:syscalls:sys_enter_openat ${W} { @[uid, gid] = count(); }` },
  { name: 'tid == pid', prog: `tracepoint:syscalls:sys_enter_openat ${W} { @[tid == pid] = count(); }` },
  { name: 'string inequality', prog: 'tracepoint:syscalls:sys_enter_openat /comm == "CH" && str(args->filename) != "/etc/passwd"/ { @ = count(); }' },
  { name: 'scratch variables', prog: `tracepoint:syscalls:sys_enter_write ${W} { $k = args->count / 10; $s = $k * 2 + 1; @ = sum($s); }` },
  { name: 'stats of read results', prog: `tracepoint:syscalls:sys_exit_read ${W} { @ = stats(args->ret); }` },
  { name: 'str with a length', prog: 'tracepoint:syscalls:sys_enter_openat /comm == "CH"/ { printf("%s\\n", str(args->filename, 4)); }' },
  { name: 'printf of probe', prog: 'tracepoint:syscalls:sys_enter_close /comm == "CH"/ { printf("%s\\n", probe); }' },
  { name: 'per-pid map with cpid', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[pid - cpid, comm] = count(); }' },
  { name: 'parent and child by pid', prog: 'tracepoint:syscalls:sys_enter_read /pid == cpid || comm == "CH"/ { @[pid == cpid ? "parent" : "child"] = count(); }' },
  { name: 'fork tracepoint fields', prog: 'tracepoint:sched:sched_process_fork /args->parent_pid == (int32)cpid/ { printf("fork from %s: %d\\n", str(args->parent_comm), args->child_pid != (int32)cpid); }' },
  { name: 'process exit', prog: 'tracepoint:sched:sched_process_exit /pid == cpid/ { printf("%s exited\\n", comm); }' },
  { name: 'curtask members through BTF', prog: 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @[curtask->comm, curtask->pid == pid, curtask->real_parent->tgid != pid] = count(); }' },
  { name: 'curtask in printf', prog: 'tracepoint:syscalls:sys_enter_close /comm == "CH"/ { printf("%s %d\\n", curtask->comm, curtask->tgid == pid); }' },
  { name: 'uprobe and uretprobe', prog: 'uprobe:WLPATH:main { printf("main %d\\n", arg0); } uretprobe:WLPATH:main { printf("ret %d\\n", retval); }' },
  { name: 'uprobe count', prog: 'uprobe:WLPATH:main { @[comm, probe] = count(); }' },
  { name: 'json count map', prog: 't:syscalls:sys_enter_openat /comm == "WL" || comm == "CH"/ { @[comm] = count(); }', args: ['-f', 'json'] },
  { name: 'json hist', prog: `tracepoint:syscalls:sys_exit_read ${W} { @ = hist(args->ret); }`, args: ['-f', 'json'] },
  { name: 'json lhist and stats', prog: `tracepoint:syscalls:sys_enter_write ${W} { @l = lhist(args->count, 0, 2500, 500); @s = stats(args->count); @a = avg(args->count); }`, args: ['-f', 'json'] },
  { name: 'json printf', prog: 'tracepoint:syscalls:sys_enter_openat /comm == "CH"/ { printf("open \\"%s\\"\\t%d\\n", str(args->filename), 7); }', args: ['-f', 'json'] },
  { name: 'json scalar and keyed maps', prog: `tracepoint:syscalls:sys_enter_write ${W} { @n = count(); @s[args->count] = sum(args->count); @t = (1, "a"); }`, args: ['-f', 'json'] },
  { name: 'BEGIN printf and exit', prog: 'BEGIN { printf("hello\\n"); exit(); }', workload: false },
  { name: 'BEGIN maps of each type', prog: 'BEGIN { @x = 1; @y = "str"; @z = (1, "a", 3); @n = -5; @m = min(-3); exit(); }', workload: false },
  { name: 'unroll', prog: 'BEGIN { $i = 0; unroll(5) { $i = $i + 2; } printf("%d\\n", $i); exit(); }', workload: false },
  { name: 'while loop', prog: 'BEGIN { $i = 0; $s = 0; while ($i < 10) { $s += $i; $i++; } printf("%d\\n", $s); exit(); }', workload: false },
  { name: 'printf conversions', prog: 'BEGIN { printf("%5d|%-5d|%05d|%x|%X|%o|%c|%%|%s|\\n", 42, 42, 42, 255, 255, 8, 65, "str"); exit(); }', workload: false },
  { name: 'printf length modifiers', prog: 'BEGIN { printf("%lu %ld %llu %d %u %x\\n", 1 << 40, -1, 5, -1, 7, -1); exit(); }', workload: false },
  { name: 'casts', prog: 'BEGIN { printf("%d %d %d\\n", (uint8)257, (int8)255, (uint16)65537); exit(); }', workload: false },
  { name: 'bitwise operators', prog: 'BEGIN { printf("%d %d %d %d %d %d\\n", 6 & 3, 6 | 3, 6 ^ 3, 1 << 4, 256 >> 2, 17 % 5); exit(); }', workload: false },
  { name: 'logical operators', prog: 'BEGIN { printf("%d %d %d %d\\n", 1 && 0, 1 || 0, !5, ~0 == -1); exit(); }', workload: false },
  { name: 'positional parameters', prog: 'BEGIN { printf("%d %s\\n", $1, str($2)); exit(); }', workload: false, args: ['5', 'hello'] },
  { name: 'interval and END', prog: 'interval:ms:100 { @i++; if (@i == 3) { exit(); } } END { printf("done %d\\n", @i); }', workload: false },
  { name: 'hist of constants', prog: 'BEGIN { @h = hist(0); @h = hist(1); @h = hist(5); @h = hist(1000000); @h = hist(-1); exit(); }', workload: false },
  { name: 'empty maps', prog: 'BEGIN { @a[1] = count(); delete(@a[1]); @b = 3; exit(); }', workload: false },
  { name: 'print with top and div', prog: 'BEGIN { @[1] = 10; @[2] = 25; @[3] = 30; print(@, 2, 10); @c[1] = count(); @c[2] = count(); @c[2] = count(); print(@c, 1); @h = hist(5); @h = hist(100); @h = hist(100); print(@h, 1, 2); @a = avg(9); print(@a, 0, 2); @l[1] = lhist(5, 0, 100, 10); @l[2] = lhist(50, 0, 100, 10); @l[2] = lhist(50, 0, 100, 10); print(@l, 1, 2); clear(@); exit(); }', workload: false },
  { name: 'exit in BEGIN stops every probe; empty maps print as bpftrace does', prog: 'BEGIN { printf("b\\n"); exit(); } tracepoint:syscalls:sys_enter_openat { @ = count(); @s = sum(1); @x = 5; @h = hist(1); @c[1] = count(); } END { printf("end\\n"); }', workload: false },
  { name: 'kernel stacks as map keys and values, with offsets', prog: `tracepoint:syscalls:sys_enter_openat ${W} { @[kstack(2)] = count(); @k[kstack] = count(); @v = kstack(3); }` },
  { name: 'kernel stacks in printf and print', prog: `tracepoint:syscalls:sys_enter_openat ${W} { @n++; if (@n == 1) { printf("[%s]\\n", kstack(2)); print(kstack(1)); } }` },
  { name: 'signedness of comparisons and shifts', prog: 'BEGIN { $x = (uint64)-1; $y = -6; $u = (uint32)5; printf("%d %d %d %d %d %d %d\\n", $x > 0, $x >> 60, $y >> 1, $y < (uint64)5, $y < $u, $y >> $u, $y < -2); exit(); }', workload: false },
  { name: 'kstack(perf) and kstack(bpftrace, N)', prog: `tracepoint:syscalls:sys_enter_openat ${W} { printf("%s", kstack(perf, 3)); @p[kstack(perf, 2)] = count(); @b[kstack(bpftrace, 2)] = count(); @v = kstack(perf, 1); }` },
  { name: 'print(kstack(perf))', prog: `tracepoint:syscalls:sys_enter_close ${W} { @n++; if (@n == 1) { print(kstack(perf, 2)); } }` },
  { name: 'buf with %r, as a key and a value', prog: `tracepoint:syscalls:sys_enter_write ${W} { printf("%r|\\n", buf(args->buf, 3)); @[buf(args->buf, 2)] = count(); @v = buf(args->buf, 4); }` },
  { name: 'print(buf) in a value', prog: `tracepoint:syscalls:sys_enter_write ${W} { print(buf(args->buf, 5)); exit(); }` },
  { name: 'json buf', prog: `tracepoint:syscalls:sys_enter_write ${W} { printf("%r\\n", buf(args->buf, 2)); @[buf(args->buf, 2)] = count(); print(buf(args->buf, 3)); }`, args: ['-f', 'json'] },
  { name: 'join of execve arguments', prog: 'tracepoint:syscalls:sys_enter_execve /pid == cpid/ { join(args->argv); join(args->argv, "-"); }' },
  { name: 'json join', prog: 'tracepoint:syscalls:sys_enter_execve /pid == cpid/ { join(args->argv, ","); }', args: ['-f', 'json'] },
  { name: 'uprobe wildcard', prog: 'uprobe:WLPATH:mai* { @[probe] = count(); }' },
  { name: 'usym and ustack frames named from the binary while it runs', ustack: true, prog: 'uprobe:WLPATH:leaf { printf("%s|%s|%s|%s", usym(reg("ip")), ustack(2), ustack(perf, 3), ustack(bpftrace, 1)); } uprobe:WLPATH:done { printf("%s\\n", ustack); print(ustack(perf)); exit(); }' },
  { name: 'ustack(N) keys: one stack map per depth; names while the process lives, hex once it is gone', ustack: true, prog: 'uprobe:WLPATH:leaf { @[ustack(1)] = count(); @b[ustack(perf, 3)] = count(); @u[usym(reg("ip"))] = count(); @v = ustack(2); } uprobe:WLPATH:done { print(@); print(@b); print(@u); print(@v); exit(); }' },
  { name: 'json ustack and usym', ustack: true, prog: 'uprobe:WLPATH:leaf { @[usym(reg("ip")), ustack(2)] = count(); printf("%s\\n", ustack(perf, 2)); } uprobe:WLPATH:done { print(@); exit(); }', args: ['-f', 'json'] },
  { name: 'kstack(N) and ustack(N) of one depth share a map; reg()', ustack: true, prog: 'uprobe:WLPATH:leaf { @k[kstack(1), ustack(1)] = count(); @r[reg("sp") > 0, reg("ip") == (uint64)kaddr("_stext")] = count(); } uprobe:WLPATH:done { exit(); }' },
  // Only events after start-up: bpftrace reads a process's mappings once, at its first user symbol.
  { name: 'ustack through libc: aliases named as bcc picks them', ustack: true, prog: 'tracepoint:syscalls:sys_enter_close /comm == "WL" && args->fd >= 100/ { printf("%s", ustack(perf, 3)); } tracepoint:syscalls:sys_enter_clock_nanosleep /comm == "WL"/ { printf("%s", ustack(perf, 2)); } uprobe:WLPATH:done { exit(); }' },
  { name: 'strftime of nsecs (the wall clock)', prog: 'BEGIN { printf("%s\\n", strftime("%Y-%m", nsecs)); exit(); }', workload: false },
];

function unusable(): string | undefined {
  const why = bpfUnusableReason();
  if (why) return why;
  if (spawnSync('bpftrace', ['--version']).status !== 0) return 'bpftrace is not installed (apt-get install bpftrace)';
  return undefined;
}

function buildWorkload(dir: string, fixture = 'workload'): string {
  const out = join(dir, fixture);
  const src = new URL(`./fixtures/${fixture}.c`, import.meta.url).pathname;
  for (const cc of ['clang-19', 'clang', 'cc', 'gcc']) {
    try {
      execFileSync(cc, ['-O1', '-fno-omit-frame-pointer', '-o', out, src], { stdio: 'pipe' });
      return out;
    } catch {
      // try the next compiler
    }
  }
  throw new Error('no C compiler (clang-19, clang, cc or gcc) to build the workload');
}

function runBpftrace(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('bpftrace', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`bpftrace exited ${code}: ${err}`))));
  });
}

async function pool<T>(items: readonly T[], width: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

test('one-liners print the same as bpftrace', { timeout: 240_000 }, async (t) => {
  const why = unusable();
  if (why) {
    if (requireKernel) assert.fail(why);
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-trace-'));
  try {
    const wl = buildWorkload(dir);
    // BPFKIT_TRACE_CASES=regex runs only the matching cases (while working on some).
    const only = process.env.BPFKIT_TRACE_CASES ? new RegExp(process.env.BPFKIT_TRACE_CASES) : undefined;
    const cases = only ? CASES.filter((c) => only.test(c.name)) : CASES;
    const us = cases.some((c) => c.ustack) ? buildWorkload(dir, 'ustack') : wl;
    const results: { name: string; ok: boolean; detail: string }[] = [];
    await pool(cases, 4, async (c, i) => {
      // Two copies per case (one per tracer), so the runs never see each other's workload.
      const names = ['a', 'b'].map((s) => `bkwl${String(i).padStart(2, '0')}${s}`);
      const run = async (tool: 'bpftrace' | 'bpfkit', name: string) => {
        const path = join(dir, name);
        if (!existsSync(path)) copyFileSync(c.ustack ? us : wl, path);
        const prog = c.prog.replace(/\bWLPATH\b/g, path).replace(/\bWL\b/g, name).replace(/\bCH\b/g, `${name}_c`);
        // bpftrace wants a path that names one binary (/bin and /usr/bin are one directory here).
        const cmd = c.ustack ? `/usr/bin/setarch -R ${path}` : path;
        const args = ['-e', prog, ...(c.args?.filter((a) => a === '-f' || a === 'json' || a === 'text') ?? []), ...(c.workload === false ? [] : ['-c', cmd])];
        const positional = c.args?.filter((a) => !['-f', 'json', 'text'].includes(a)) ?? [];
        if (tool === 'bpftrace') return (await runBpftrace([...args, ...positional]).catch((e: Error) => e.message)).replaceAll(name, 'WL');
        const r = await runTrace([...args, ...positional]);
        if (r.code !== 0) return `exit ${r.code}: ${r.stderr}`;
        return r.stdout.replaceAll(name, 'WL');
      };
      const [theirs, ours] = await Promise.all([run('bpftrace', names[0]), run('bpfkit', names[1])]);
      results.push({ name: c.name, ok: theirs === ours, detail: `--- bpftrace\n${theirs}--- bpfkit\n${ours}` });
    });
    const failed = results.filter((r) => !r.ok);
    for (const f of failed) t.diagnostic(`${f.name}:\n${f.detail}`);
    t.diagnostic(`${results.length - failed.length}/${results.length} one-liners identical`);
    assert.deepEqual(failed.map((f) => f.name), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
