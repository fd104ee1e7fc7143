/**
 * `bpfkit tcpdump -r` against `tcpdump -r` on a 1,000,000-packet capture,
 * in the same run:
 *
 *   node --import tsx bench/tcpdump.ts [--rounds N] [--packets N]
 *
 * The capture (generatePackets, seed 42, Ethernet) is written once to
 * build/tcpdump-1m.pcap. Both tools run as processes, `-r FILE -w /dev/null EXPR`,
 * and each figure is the median of N rounds (default 3) of wall time, with
 * the CPU time (user + sys) beside it, as the machine may be shared. Our
 * command runs from a bundle (build/bench-tcpdump.mjs, made with esbuild,
 * which tsx ships) so neither side pays for compiling TypeScript. The
 * outputs are compared byte for byte. A second table times the filter
 * engines in-process on the first 100,000 packets: the classic filter
 * compiled to JavaScript (the default), the cBPF interpreter, and the
 * converted eBPF on the VM's interpreter and JIT (when registered).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EbpfFilter, prepareCbpf, type SockFilter } from '../src/cbpf/index.js';
import { generatePackets, pcapFileHeader, PcapWriter, scanPcapRecords } from '../src/pcap/index.js';
import { compileFilter } from '../src/pcap/filter/index.js';
import { compile } from '../src/jit/index.js';
import { registerEngine, type Engine } from '../src/vm/index.js';

registerEngine('jit', compile);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const build = join(root, 'build');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt('--rounds', 3);
const PACKETS = opt('--packets', 1_000_000);
const FILTERS = ['ip and tcp port 80', 'udp', 'vlan and ip', 'net 10.0.0.0/8', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and udp port 53', 'host 10.0.0.1 or arp'];

mkdirSync(build, { recursive: true });
const capture = join(build, PACKETS === 1_000_000 ? 'tcpdump-1m.pcap' : `tcpdump-${PACKETS}.pcap`);

function writeCapture(file: string, count: number): void {
  const w = new PcapWriter();
  const parts: Uint8Array[] = [w.header()];
  let size = 24;
  let i = 0;
  for (const p of generatePackets(42, count)) {
    const r = w.packet({ data: p.data, wirelen: p.wirelen, timestamp: { seconds: 1_700_000_000 + (i >> 10), fraction: (i * 997) % 1_000_000, unitsPerSecond: 1e6 } });
    parts.push(r);
    size += r.length;
    i++;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  writeFileSync(file, out);
}

if (!existsSync(capture)) {
  process.stdout.write(`generating ${capture} (${PACKETS} packets)... `);
  writeCapture(capture, PACKETS);
  process.stdout.write('done\n');
}
const small = join(build, 'tcpdump-100k.pcap');
if (!existsSync(small)) writeCapture(small, 100_000);

/** Our command as one JavaScript file. */
async function bundle(): Promise<string[]> {
  const out = join(build, 'bench-tcpdump.mjs');
  try {
    const esbuild = (await import('esbuild')) as { build: (o: Record<string, unknown>) => Promise<unknown> };
    await esbuild.build({
      stdin: {
        contents: `import tcpdump from './src/cli/commands/tcpdump.ts';
process.exitCode = await tcpdump(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), readStdin: async () => new Uint8Array() });`,
        resolveDir: root, loader: 'ts',
      },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'error',
    });
    return [out];
  } catch (e) {
    console.log(`(esbuild unavailable: ${(e as Error).message.split('\n')[0]}; timing through tsx, which adds its start-up)`);
    return ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'tcpdump'];
  }
}

interface Timing {
  wall: number;
  cpu: number;
}

const hasTime = spawnSync('/usr/bin/time', ['-f', '%U', 'true']).status === 0;

function timeProcess(cmd: string, argv: string[]): Timing {
  const t0 = process.hrtime.bigint();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', cmd, ...argv], { encoding: 'utf8', timeout: 120_000 })
    : spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error?.message ?? r.stderr}`);
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ours = await bundle();
const size = statSync(capture).size;
console.log(`capture: ${capture}, ${PACKETS} packets, ${(size / 1e6).toFixed(0)} MB; ${ROUNDS} rounds, medians`);
console.log(`${'filter'.padEnd(32)} ${'tcpdump ms'.padStart(11)} ${'(cpu)'.padStart(7)} ${'bpfkit ms'.padStart(10)} ${'(cpu)'.padStart(7)} ${'ratio'.padStart(6)} ${'cpu ratio'.padStart(9)}  same output`);
for (const expr of FILTERS) {
  const theirs: Timing[] = [];
  const mine: Timing[] = [];
  const outT = join(build, 'bench-tcpdump-theirs.pcap');
  const outO = join(build, 'bench-tcpdump-ours.pcap');
  // Timed as the brief says, writing to /dev/null; the outputs are compared in one more run each.
  for (let r = 0; r < ROUNDS; r++) {
    theirs.push(timeProcess('tcpdump', ['-r', capture, '-w', '/dev/null', expr]));
    mine.push(timeProcess(process.execPath, [...ours, '-r', capture, '-w', '/dev/null', expr]));
  }
  timeProcess('tcpdump', ['-r', capture, '-w', outT, expr]);
  timeProcess(process.execPath, [...ours, '-r', capture, '-w', outO, expr]);
  const same = readFileSync(outT).equals(readFileSync(outO));
  const t = median(theirs.map((x) => x.wall));
  const o = median(mine.map((x) => x.wall));
  const tc = median(theirs.map((x) => x.cpu));
  const oc = median(mine.map((x) => x.cpu));
  console.log(`${expr.padEnd(32)} ${t.toFixed(0).padStart(11)} ${tc.toFixed(0).padStart(7)} ${o.toFixed(0).padStart(10)} ${oc.toFixed(0).padStart(7)} ${(o / t).toFixed(2).padStart(6)} ${(oc / tc).toFixed(2).padStart(9)}  ${same ? 'yes' : 'NO'}`);
}

// The engines, in-process, on the first 100,000 packets (ns per packet, filter and record walk only).
const buf = new Uint8Array(readFileSync(small));
const header = pcapFileHeader(buf)!;
type Run = (b: Uint8Array, start: number, caplen: number, wirelen: number) => number;
const engines: { name: string; make: (f: SockFilter[]) => Run }[] = [
  { name: 'cbpf->js', make: (f) => { const p = prepareCbpf(f); return (b, s, c, w) => p.run(b, s, c, w); } },
  { name: 'cbpf interp', make: (f) => { const p = prepareCbpf(f, { compile: false }); return (b, s, c, w) => p.run(b, s, c, w); } },
  ...(['interp', 'jit'] as Engine[]).map((engine) => ({
    name: `ebpf ${engine}`,
    make: (f: SockFilter[]) => {
      const e = new EbpfFilter(f, engine);
      if (e.engine !== engine) throw new Error(`engine ${engine} not registered`);
      return (b: Uint8Array, s: number, c: number, w: number) => e.run(b, s, c, w);
    },
  })),
];
console.log(`\nengines, ns per packet over ${small} (in-process, best of ${ROUNDS})`);
console.log(`${'filter'.padEnd(32)} ${engines.map((e) => e.name.padStart(12)).join(' ')}`);
for (const expr of FILTERS) {
  const prog = compileFilter(expr, { linkType: 'EN10MB' });
  const cells: string[] = [];
  let want: number | undefined;
  for (const e of engines) {
    let run: Run;
    try {
      run = e.make(prog);
    } catch {
      cells.push('n/a'.padStart(12));
      continue;
    }
    let best = Infinity;
    for (let r = 0; r < ROUNDS; r++) {
      let matched = 0;
      const t0 = process.hrtime.bigint();
      const { count } = scanPcapRecords(buf, 24, buf.length, header, (rec, caplen, wirelen) => {
        if (run(buf, rec + 16, caplen, wirelen) !== 0) matched++;
      });
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / count);
      if (want === undefined) want = matched;
      else if (want !== matched) throw new Error(`${e.name} matched ${matched}, expected ${want} (${expr})`);
    }
    cells.push(best.toFixed(0).padStart(12));
  }
  console.log(`${expr.padEnd(32)} ${cells.join(' ')}`);
}
console.log(`\ntcpdump ${execFileSync('tcpdump', ['--version'], { encoding: 'utf8' }).split('\n')[0]}; node ${process.version}`);
