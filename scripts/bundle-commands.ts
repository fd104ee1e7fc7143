/**
 * Bundle the commands whose start-up time is measured into one file each,
 * so start-up reads and compiles one file instead of resolving dozens of
 * modules from dist:
 *
 *   node --import tsx scripts/bundle-commands.ts [OUTDIR]
 *
 * Default output: dist/cli/bundle/ (bundled from src/, so this can run
 * before or after tsc); bin/bpfkit.js loads them. Each loader (NAME.js)
 * exports `run(argv)`, which does what `bpfkit NAME ARGV...` does. The
 * output must live inside the package (dist/ or build/): koffi stays
 * external and is resolved from there.
 *
 * trace: one ES module. Modules that only rarer paths need (kprobes,
 * uprobes, BTF, the VM, -d) are in the file too but initialised only when
 * first imported. One file measured as fast as esbuild's code splitting
 * (which loads ~17 small shared chunks on the common path) and is simpler.
 *
 * tcpdump, jit, run and the conformance plugin (bin/bpfkit-conformance.js,
 * one process per test): bundled as a CommonJS function body (NAME.cjs) that a
 * small ES module (NAME.js) compiles with node:vm and V8's code cache
 * (NAME.cjs.cache): no parsing and no bytecode generation for what the
 * common path runs. The cache is made here, by running the bundle on a few
 * warm-up inputs in a plain `node` (so its V8 version and flags are those
 * of a user's run); a cache V8 rejects (another Node version) only costs
 * the compile it would have saved. tcpdump's `-r` is raced against tcpdump
 * itself, so start-up counts twice; measured: 5 to 8 ms less CPU than
 * importing the bundle as a module, of about 75 ms for `tcpdump -d udp`
 * (Node 20). jit, run and the plugin compile programs with the
 * WebAssembly JIT, whose first compile in a process otherwise runs the
 * translator's JavaScript through V8's lazy parse and compile (about a
 * third of a fresh compile's time). Their warm-up programs are written
 * here to cover the translator's paths; they must not be the benchmark's
 * programs (that would train the cache on the test). One function,
 * bundleWithCodeCache, makes all of these from a command's entry and
 * warm-up runs (the CACHED table).
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { assemble } from '../src/asm/index.js';
import { encode } from '../src/isa/index.js';
import { generatePackets, PcapWriter } from '../src/pcap/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// koffi's index.js loads https, crypto and zlib (its prebuild downloader)
// before it loads the native addon: about 20 ms of start-up. The entry
// puts a module in require's cache under koffi's index path whose exports
// load the addon itself on first use, falling back to the real index.
const TRACE_ENTRY = `
import { readFileSync, existsSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import trace from './src/cli/commands/trace.ts';
import { reportError } from './src/cli/main.ts';

function shimKoffi() {
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (process.platform !== 'linux' || !arch) return;
  const req = createRequire(import.meta.url);
  let index;
  try { index = req.resolve('koffi'); } catch { return; }
  const addon = dirname(index) + '/build/koffi/linux_' + arch + '/koffi.node';
  if (!existsSync(addon)) return;
  let real;
  const load = () => {
    if (real) return real;
    try {
      const native = req(addon);
      if (native.version !== JSON.parse(readFileSync(dirname(index) + '/package.json', 'utf8')).version) throw new Error('version');
      real = native;
    } catch {
      delete req.cache[index];
      real = req(index);
    }
    return real;
  };
  const m = new Module(index);
  m.filename = index;
  m.loaded = true;
  m.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load() });
  req.cache[index] = m;
}
shimKoffi();

const io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => new Uint8Array(readFileSync(0)),
};
export async function run(argv) {
  try { return await trace(argv, io); } catch (e) { return reportError(e, io); }
}
`;

/**
 * Source of the bundles' output function: fs.writeSync (process.stdout on a
 * pipe would load net and stream, several ms, for a line of output), and
 * the stream only where the descriptor is non-blocking and full.
 */
const WRITE_SOURCE = `const write = (fd, stream, t) => {
  try {
    writeSync(fd, t);
  } catch (e) {
    if (e?.code !== 'EAGAIN') throw e;
    stream().write(t);
  }
};
`;

/**
 * The entry of a command under src/cli/commands bundled with a code
 * cache: exports `run(argv)`, the exit code of `bpfkit NAME ARGV...`. Output goes
 * through fs.writeSync: process.stdout on a pipe would load net and stream
 * (several ms) for one line of output.
 */
const cachedEntry = (name: string): string => `
import { readFileSync, writeSync } from 'node:fs';
import command from './src/cli/commands/${name}.ts';
import { reportError } from './src/cli/main.ts';

${WRITE_SOURCE}const io = {
  stdout: (t) => write(1, () => process.stdout, t),
  stderr: (t) => write(2, () => process.stderr, t),
  readStdin: async () => new Uint8Array(readFileSync(0)),
};
export async function run(argv) {
  try { return await command(argv, io); } catch (e) { return reportError(e, io); }
}
`;

/**
 * NAME.js: compiles NAME.cjs with the code cache beside it. The wrapper
 * text must not change without remaking the cache (V8 checks the source),
 * and bin/bpfkit.js, which does the same itself when it runs as CommonJS,
 * must use the same. saveCodeCache() is for this script.
 */
const cachedLoader = (name: string): string => `import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Script } from 'node:vm';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('./${name}.cjs', import.meta.url));
let cachedData;
try {
  cachedData = readFileSync(file + '.cache');
} catch {
  // no cache: compile as usual
}
const script = new Script('(function (exports, require, module) {' + readFileSync(file, 'utf8') + '\\n})', { filename: file, cachedData });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module);

export const run = module.exports.run;
export const codeCacheRejected = cachedData === undefined || script.cachedDataRejected === true;
export function saveCodeCache() {
  writeFileSync(file + '.cache', script.createCachedData());
}
`;

/** One run of a bundle while its code cache is made. */
interface WarmRun {
  readonly argv: readonly string[];
  /** Standard input (only the conformance plugin reads it here). */
  readonly stdin?: string;
  /** Expected exit code (default 0): a warm-up that fails otherwise fails the build. */
  readonly status?: number;
}

/** A command bundled as CommonJS and started with V8's code cache. */
interface CachedCommand {
  /** The entry's source: exports `run(argv)` (see cachedEntry). */
  readonly entry: string;
  /**
   * The runs that make the code cache, given a scratch directory to write
   * their inputs into. The cache holds what these runs compiled, so they
   * should take the paths a user's run takes.
   */
  readonly warmUp: (dir: string) => WarmRun[];
}

/** tcpdump: reading, filtering and writing a small capture, and -d. */
function tcpdumpWarmUp(dir: string): string[][] {
  const w = new PcapWriter();
  const parts = [w.header(), ...[...generatePackets(7, 2000)].map((p) => w.packet({ data: p.data, wirelen: p.wirelen }))];
  const capture = join(dir, 'warm.pcap');
  writeFileSync(capture, Buffer.concat(parts));
  // Not bench/tcpdump.ts's filters: the same kinds of primitive, other values and combinations.
  return [
    ['-r', capture, '-w', join(dir, 'out.pcap'), 'tcp dst port 443 or icmp or rarp or vlan 100 and udp'],
    ['-r', capture, '-w', join(dir, 'out.pcap'), 'src net 192.168.0.0/16 and udp[8:2] > 10 or ip6 and tcp or ether host 00:11:22:33:44:55 or less 100'],
    ['-r', capture, 'tcp[13] & 2 != 0 and not src host 172.16.0.9'],
    ['-d', 'ip6 and tcp port 22'],
  ];
}

/**
 * Warm-up programs for the JIT (not the benchmark's): between them they
 * take the translator through ALU64 and ALU32 (division, modulo, shifts,
 * byte swaps, sign extension), loads and stores of every size, conditional
 * jumps of both widths, atomics, a bounded loop, a bpf-to-bpf call and
 * helper calls (ktime, and the map helpers on an lddw constant).
 */
const WARM_PROGRAMS: Record<'alu' | 'mem' | 'calls', string> = {
  alu: `
    r0 = 7
    r2 = *(u64 *)(r1 + 0)
    r3 = r2
    r3 *= 13
    r3 /= 3
    r3 %= 5
    r3 <<= 7
    r3 >>= 2
    r3 s>>= 1
    r3 ^= r2
    r3 |= 0x55
    r3 &= r2
    r3 -= 9
    r3 = -r3
    r3 s/= 7
    r3 s%= 3
    w4 = w2
    w4 += 0x1234
    w4 *= w2
    w4 /= 6
    w4 %= 7
    w4 <<= 3
    w4 >>= 1
    w4 s>>= 2
    w4 = -w4
    r4 = be16 r4
    r4 = be32 r4
    r4 = be64 r4
    r4 = le16 r4
    r4 = bswap32 r4
    r5 = (s8)r2
    w5 = (s16)w2
    r0 += r3
    r0 += r4
    r0 += r5
    exit
`,
  mem: `
    r6 = r1
    r0 = 0
    if r2 < 16 goto out
    r3 = *(u8 *)(r6 + 0)
    r4 = *(u16 *)(r6 + 2)
    r5 = *(u32 *)(r6 + 4)
    r7 = *(u64 *)(r6 + 8)
    r8 = *(s8 *)(r6 + 1)
    r8 = *(s16 *)(r6 + 2)
    r8 = *(s32 *)(r6 + 4)
    *(u8 *)(r10 - 1) = r3
    *(u16 *)(r10 - 4) = r4
    *(u32 *)(r10 - 8) = r5
    *(u64 *)(r10 - 16) = r7
    *(u64 *)(r10 - 24) = 0
    *(u32 *)(r10 - 28) = 1
    *(u16 *)(r10 - 30) = 2
    *(u8 *)(r10 - 31) = 3
    lock *(u64 *)(r10 - 24) += r7
    lock *(u32 *)(r10 - 28) += w5
    r1 = 1
    r1 = atomic_fetch_add((u64 *)(r10 - 24), r1)
    r1 = atomic_fetch_or((u64 *)(r10 - 24), r1)
    r1 = xchg_64(r10 - 24, r1)
    r0 = r7
    r0 = cmpxchg_64(r10 - 24, r0, r1)
    if r3 == r4 goto a
    if r3 != 0 goto a
    if r3 > r4 goto a
    if r3 >= 5 goto a
    if r3 s< r8 goto a
    if r3 s<= -1 goto a
    if r3 s> r4 goto a
    if r3 s>= 0 goto a
    if r3 & 1 goto a
    if w3 == w4 goto a
    if w3 < 9 goto a
    if w3 s> w8 goto a
a:
    r1 = *(u64 *)(r10 - 24)
    r0 += r1
    r1 = *(u32 *)(r10 - 28)
    r0 += r1
    r1 = *(u16 *)(r10 - 30)
    r0 += r1
    r1 = *(u8 *)(r10 - 31)
    r0 += r1
out:
    exit
`,
  calls: `
    r6 = r1
    r7 = 0
loop:
    r1 = r7
    call add3
    r7 += 1
    if r7 < 10 goto loop
    call 5
    r1 = 0x1234 ll
    r2 = r10
    r2 += -8
    *(u64 *)(r10 - 8) = 0
    if r7 != 10 goto skip
    call 1
    r1 = 0x1234 ll
    r2 = r10
    r2 += -8
    r3 = r10
    r3 += -16
    r4 = 0
    call 2
    r1 = 0x1234 ll
    r2 = r10
    r2 += -8
    call 3
skip:
    r0 = r7
    exit
add3:
    r0 = r1
    r0 += 3
    exit
`,
};

/** examples/sum.asm and WARM_PROGRAMS written into dir. */
function warmFiles(dir: string): { sum: string; mem: string; alu: string; stores: string; calls: string } {
  const sum = join(dir, 'sum.asm');
  copyFileSync(join(root, 'examples/sum.asm'), sum);
  const mem = join(dir, 'sum.mem');
  copyFileSync(join(root, 'examples/sum.mem'), mem);
  const files = { alu: join(dir, 'alu.asm'), stores: join(dir, 'mem.asm'), calls: join(dir, 'calls.asm') };
  writeFileSync(files.alu, WARM_PROGRAMS.alu);
  writeFileSync(files.stores, WARM_PROGRAMS.mem);
  writeFileSync(files.calls, WARM_PROGRAMS.calls);
  return { sum, mem, ...files };
}

/** A small object with two programs (reading it takes the ELF and BTF loader's paths), when clang-19 is there. */
const WARM_OBJECT_C = `
struct { int (*type)[1]; int (*max_entries)[16]; unsigned *key; unsigned long long *value; } counts __attribute__((section(".maps"), used));
static void *(*lookup)(void *map, const void *key) = (void *)1;
__attribute__((section("xdp"), used)) int warm_count(void *ctx) {
  unsigned key = 3;
  unsigned long long *v = lookup(&counts, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return 2;
}
__attribute__((section("socket"), used)) int warm_len(unsigned *skb) { return skb[0] > 60 ? -1 : 0; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
`;

function warmObject(dir: string): string | undefined {
  const source = join(dir, 'warm.bpf.c');
  const object = join(dir, 'warm.bpf.o');
  writeFileSync(source, WARM_OBJECT_C);
  const r = spawnSync(process.env.CLANG ?? 'clang-19', ['-target', 'bpfel', '-O2', '-g', '-c', source, '-o', object], { stdio: 'ignore', timeout: 60_000 });
  return r.status === 0 ? object : undefined;
}

/** jit: each warm-up program, text and --json output, -o, a --verified compile, and an object's program. */
function jitWarmUp(dir: string): string[][] {
  const f = warmFiles(dir);
  const object = warmObject(dir);
  return [
    [f.sum],
    [f.alu, '--json'],
    [f.stores, '-o', join(dir, 'out.wasm')],
    [f.calls],
    [f.stores, '--verified', '--json'],
    ...(object === undefined ? [] : [[object, '--program', 'warm_count', '--json']]),
  ];
}

/** run: the README's example, and the ALU and memory programs on a 16-byte input (the call program needs a runtime's helpers). */
function runWarmUp(dir: string): string[][] {
  const f = warmFiles(dir);
  const input = '0102030405060708090a0b0c0d0e0f10';
  return [
    [f.sum, '--mem-file', f.mem],
    [f.alu, '--mem', input],
    [f.stores, '--mem', input, '--json'],
  ];
}

/**
 * The bpf_conformance plugin (bin/bpfkit-conformance.js): the suite's
 * runner starts one process per test, so start-up is most of its time.
 * run(argv, stdin) takes standard input as an argument for the warm-up.
 */
const CONFORMANCE_ENTRY = `
import { readFileSync, writeSync } from 'node:fs';
import { main } from './src/cli/conformance.ts';

${WRITE_SOURCE}export async function run(argv, stdin) {
  return main(argv, {
    stdout: (t) => write(1, () => process.stdout, t),
    stderr: (t) => write(2, () => process.stderr, t),
    readStdin: async () => stdin ?? new Uint8Array(readFileSync(0)),
  });
}
`;

/** The plugin on the warm-up programs, as the suite's runner gives tests (hex bytes), on both engines and one failing. */
function conformanceWarmUp(): WarmRun[] {
  const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const program = (text: string): string => hex(encode(assemble(text, { syntax: 'auto' })));
  const mem = hex(new Uint8Array(16).map((_, i) => i * 17 + 1));
  return [
    { argv: [mem, '--engine jit'], stdin: program(WARM_PROGRAMS.alu) },
    { argv: [mem, '--engine jit'], stdin: program(WARM_PROGRAMS.mem) },
    { argv: [mem], stdin: program(WARM_PROGRAMS.mem) },
    { argv: [mem, '--engine interp'], stdin: program(WARM_PROGRAMS.alu) },
    // Helpers 1 to 3 are not the suite's: an error, as some tests expect.
    { argv: [mem, '--engine jit'], stdin: program(WARM_PROGRAMS.calls), status: 1 },
  ];
}

const argvOnly = (warmUp: (dir: string) => string[][]) => (dir: string): WarmRun[] => warmUp(dir).map((argv) => ({ argv }));

const CACHED = {
  tcpdump: { entry: cachedEntry('tcpdump'), warmUp: argvOnly(tcpdumpWarmUp) },
  jit: { entry: cachedEntry('jit'), warmUp: argvOnly(jitWarmUp) },
  run: { entry: cachedEntry('run'), warmUp: argvOnly(runWarmUp) },
  conformance: { entry: CONFORMANCE_ENTRY, warmUp: conformanceWarmUp },
} satisfies Record<string, CachedCommand>;
export type CachedCommandName = keyof typeof CACHED;
export const CACHED_COMMANDS = Object.keys(CACHED) as CachedCommandName[];

/** Resolves `command-entry:NAME` to the entry source given. */
const entryPlugin = (source: string): Plugin => ({
  name: 'command-entry',
  setup(b) {
    b.onResolve({ filter: /^command-entry:/ }, (a) => ({ path: a.path.slice('command-entry:'.length), namespace: 'entry' }));
    b.onLoad({ filter: /.*/, namespace: 'entry' }, () => ({ contents: source, resolveDir: root, loader: 'ts' }));
  },
});

// node:child_process pulls in net, stream and more (~8 ms); src/kernel imports it
// statically for `mount`, which a trace run rarely needs. In the bundle it becomes a
// module of forwarding functions that load the real one on first call.
const LAZY_BUILTINS = ['child_process'];
const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (a) => (a.pluginData === 'real' ? undefined : { path: a.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (a) => {
      const real = (await import(`node:${a.path}`)) as Record<string, unknown>;
      const names = Object.keys(real).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k) && typeof real[k] === 'function');
      const contents = [
        "import { createRequire } from 'node:module';",
        'let m;',
        `const load = () => (m ??= createRequire(import.meta.url)('node:${a.path}'));`,
        ...names.map((n) => `export function ${n}(...a) { return load().${n}(...a); }`),
      ].join('\n');
      return { contents, loader: 'js', resolveDir: root };
    });
  },
};

async function bundleCommand(name: string, entry: string, outdir: string, splitting: boolean, format: 'esm' | 'cjs'): Promise<void> {
  await build({
    entryPoints: [{ in: `command-entry:${name}`, out: name }],
    plugins: [entryPlugin(entry), lazyBuiltins],
    bundle: true,
    splitting,
    platform: 'node',
    format,
    outExtension: format === 'cjs' ? { '.js': '.cjs' } : {},
    target: 'node20',
    outdir,
    chunkNames: 'chunk-[hash]',
    external: ['koffi'],
    minify: true,
    legalComments: 'none',
    // main.ts loads commands by a computed path, which the bundle never takes.
    logOverride: { 'empty-glob': 'silent' },
    logLevel: 'warning',
  });
}

/** dist/cli/bundle/trace.js (or OUTDIR/trace.js): one file unless `splitting`. */
export async function bundleTrace(outdir: string, splitting = false): Promise<string> {
  await bundleCommand('trace', TRACE_ENTRY, outdir, splitting, 'esm');
  return join(outdir, 'trace.js');
}

/**
 * The one path of every command started with a code cache: OUTDIR/NAME.js
 * (the loader), NAME.cjs (the command bundled from `entry`) and
 * NAME.cjs.cache (V8's code cache, made by the `warmUp` runs).
 */
async function bundleWithCodeCache(name: string, command: CachedCommand, outdir: string): Promise<string> {
  await bundleCommand(name, command.entry, outdir, false, 'cjs');
  const loader = join(outdir, `${name}.js`);
  writeFileSync(loader, cachedLoader(name));
  const cache = join(outdir, `${name}.cjs.cache`);
  if (existsSync(cache)) unlinkSync(cache);
  makeCodeCache(loader, command.warmUp);
  return loader;
}

/** OUTDIR/NAME.js, NAME.cjs and NAME.cjs.cache for one of CACHED_COMMANDS (see bundleWithCodeCache). */
export function bundleCached(name: CachedCommandName, outdir: string): Promise<string> {
  return bundleWithCodeCache(name, CACHED[name], outdir);
}

/** OUTDIR/tcpdump.js (the loader), tcpdump.cjs (the command) and tcpdump.cjs.cache (V8's code cache). */
export function bundleTcpdump(outdir: string): Promise<string> {
  return bundleCached('tcpdump', outdir);
}

/**
 * Run the bundle in a plain `node` on the command's warm-up runs and save
 * what V8 compiled; the cache then holds the functions a real run needs,
 * not only the top level.
 */
function makeCodeCache(loader: string, warmUp: CachedCommand['warmUp']): void {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-cache-'));
  try {
    const runs = warmUp(dir);
    const script = join(dir, 'warm.mjs');
    writeFileSync(script, [
      `const m = await import(${JSON.stringify(new URL(`file://${resolve(loader)}`).href)});`,
      `for (const r of ${JSON.stringify(runs)}) {`,
      '  const status = await m.run(r.argv, r.stdin === undefined ? undefined : new TextEncoder().encode(r.stdin));',
      "  if (status !== (r.status ?? 0)) throw new Error(`warm-up run exited ${status}: ${r.argv.join(' ')}`);",
      '}',
      'm.saveCodeCache();',
    ].join('\n'));
    // No flags: V8 checks them against the cache's.
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`making the code cache failed: ${r.stderr || r.error?.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every bundle; returns their entry files. */
export async function bundleCommands(outdir: string): Promise<{ trace: string } & Record<CachedCommandName, string>> {
  const [trace, ...cached] = await Promise.all([bundleTrace(outdir), ...CACHED_COMMANDS.map((name) => bundleCached(name, outdir))]);
  return { trace, ...(Object.fromEntries(CACHED_COMMANDS.map((name, i) => [name, cached[i]])) as Record<CachedCommandName, string>) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleCommands(resolve(process.argv[2] ?? join(root, 'dist/cli/bundle')));
}
