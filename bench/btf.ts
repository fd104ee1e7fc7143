/**
 * Parsing the kernel's BTF: `node --import tsx bench/btf.ts [runs]`.
 *
 * What is timed, per fresh Node process (median over `runs`, default 7):
 * - parse: readFileSync('/sys/kernel/btf/vmlinux') + Btf.parse + decoding
 *   every type (btf.type(id) for all ids, so names, members, params and
 *   enum values are all materialised) + the name index CO-RE lookups use
 *   (findByName). This is everything a C dump or a CO-RE lookup needs.
 * - lookup (measured first, cold): readFileSync + Btf.parse + what one
 *   CO-RE candidate lookup does (idsByName('task_struct'),
 *   idsByNamePrefix('task_struct___'), decoding the struct): no full decode.
 * - cdump: dumpCHeader of the parsed BTF (the header, as a string).
 * The same two are then timed warm (in one process, median of `runs` after
 * one unmeasured run). bpftool's figures are wall time of
 * `bpftool btf dump file /sys/kernel/btf/vmlinux [format c] > /dev/null`,
 * process start included (bpftool starts in ~2 ms; Node in ~40 ms, which
 * the in-process figures above leave out).
 * Each figure is given as wall time and as CPU time (user + system, all
 * threads: Node's GC and compiler threads count; for bpftool, the child's
 * rusage from /proc/self/stat, 10 ms ticks), since on a loaded machine wall
 * time mostly measures the other processes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Btf, dumpCHeader } from '../src/btf/index.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

function parseAll(): { btf: Btf; ms: number; cpu: number; types: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const btf = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
  const n = btf.typeCount;
  for (let id = 1; id < n; id++) btf.type(id);
  btf.findByName('task_struct', 'struct');
  return { btf, ms: performance.now() - t0, cpu: cpuMs(c0), types: n - 1 };
}

function lookup(): number {
  const c0 = process.cpuUsage();
  const btf = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
  for (const id of [...btf.idsByName('task_struct'), ...btf.idsByNamePrefix('task_struct___')]) btf.type(id);
  return cpuMs(c0);
}

function cdump(btf: Btf): { ms: number; cpu: number; bytes: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const text = dumpCHeader(btf);
  return { ms: performance.now() - t0, cpu: cpuMs(c0), bytes: text.length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** CPU time of waited-for children so far (cutime + cstime), in ms. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5), counted from 1; f starts at field 3.
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
}

function timeCommand(cmd: string, args: string[]): { ms: number; cpu: number } {
  const out = openSync('/dev/null', 'w');
  try {
    const c0 = childrenCpuMs();
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', out, 'ignore'] });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    return { ms, cpu: childrenCpuMs() - c0 };
  } finally {
    closeSync(out);
  }
}

if (process.argv[2] === '--child') {
  const l = lookup();
  const p = parseAll();
  const d = cdump(p.btf);
  process.stdout.write(JSON.stringify({ lookupCpu: l, parse: p.ms, cdump: d.ms, parseCpu: p.cpu, cdumpCpu: d.cpu, types: p.types, bytes: d.bytes }));
} else {
  const runs = Number(process.argv[2] ?? 7);
  const self = fileURLToPath(import.meta.url);
  type Series = { wall: number[]; cpu: number[] };
  const series = (): Series => ({ wall: [], cpu: [] });
  const cold = { parse: series(), cdump: series(), both: series() };
  const lookupCpu: number[] = [];
  let types = 0;
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const r = JSON.parse(execFileSync(process.execPath, [...process.execArgv, self, '--child'], { encoding: 'utf8' })) as { lookupCpu: number; parse: number; cdump: number; parseCpu: number; cdumpCpu: number; types: number; bytes: number };
    lookupCpu.push(r.lookupCpu);
    cold.parse.wall.push(r.parse);
    cold.parse.cpu.push(r.parseCpu);
    cold.cdump.wall.push(r.cdump);
    cold.cdump.cpu.push(r.cdumpCpu);
    cold.both.wall.push(r.parse + r.cdump);
    cold.both.cpu.push(r.parseCpu + r.cdumpCpu);
    types = r.types;
    bytes = r.bytes;
  }
  const warm = { parse: series(), cdump: series() };
  cdump(parseAll().btf);
  for (let i = 0; i < runs; i++) {
    const p = parseAll();
    warm.parse.wall.push(p.ms);
    warm.parse.cpu.push(p.cpu);
    const d = cdump(p.btf);
    warm.cdump.wall.push(d.ms);
    warm.cdump.cpu.push(d.cpu);
  }
  const tool = { raw: series(), c: series() };
  for (let i = 0; i < runs; i++) {
    const a = timeCommand('bpftool', ['btf', 'dump', 'file', VMLINUX]);
    tool.raw.wall.push(a.ms);
    tool.raw.cpu.push(a.cpu);
    const b = timeCommand('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'c']);
    tool.c.wall.push(b.ms);
    tool.c.cpu.push(b.cpu);
  }
  const f = (s: Series) => `${median(s.wall).toFixed(1).padStart(7)} ms wall ${median(s.cpu).toFixed(1).padStart(7)} ms cpu`;
  console.log(`vmlinux BTF: ${types} types, C header ${bytes} chars; median of ${runs} runs`);
  console.log(`bpfkit parse+decode all+name index  fresh process ${f(cold.parse)}   warm ${f(warm.parse)}   (budget 300 ms)`);
  console.log(`bpfkit parse + one CO-RE lookup     fresh process ${median(lookupCpu).toFixed(1).padStart(7)} ms cpu (no full decode)`);
  console.log(`bpfkit C dump (after parse)         fresh process ${f(cold.cdump)}   warm ${f(warm.cdump)}`);
  console.log(`bpfkit parse + C dump               fresh process ${f(cold.both)}`);
  console.log(`bpftool btf dump file (raw)         process       ${f(tool.raw)}`);
  console.log(`bpftool btf dump file format c      process       ${f(tool.c)}`);
  if (median(cold.parse.cpu) > 300) process.exitCode = 1;
}
