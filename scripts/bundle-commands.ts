/**
 * Bundle the commands whose start-up time is measured into one ES module
 * each, so start-up reads and compiles one file instead of resolving dozens
 * of modules from dist:
 *
 *   node --import tsx scripts/bundle-commands.ts [OUTDIR]
 *
 * Default output: dist/cli/bundle/trace.js and dist/cli/bundle/tcpdump.js
 * (bundled from src/, so this can run before or after tsc); bin/bpfkit.js
 * loads them. Each exports `run(argv)`, which does what `bpfkit NAME
 * ARGV...` does. The output must live inside the package (dist/ or build/):
 * koffi stays external and is resolved from there.
 *
 * trace: modules that only rarer paths need (kprobes, uprobes, BTF, the VM,
 * -d) are in the file too but initialised only when first imported. One
 * file measured as fast as esbuild's code splitting (which loads ~17 small
 * shared chunks on the common path) and is simpler.
 *
 * tcpdump: `-r` is raced against tcpdump itself, so start-up counts twice.
 * The command is bundled as a CommonJS function body (tcpdump.cjs) that a
 * small ES module (tcpdump.js, exporting `run` like trace.js) compiles with
 * node:vm and V8's code cache (tcpdump.cjs.cache): no parsing and no
 * bytecode generation for what the common path runs. The cache is made
 * here, by running the bundle once on a small capture in a plain `node`
 * (so its V8 version and flags are those of a user's run); a cache V8
 * rejects (another Node version) only costs the compile it would have
 * saved. Measured: 5 to 8 ms less CPU than importing the bundle as a
 * module, of about 75 ms for `tcpdump -d udp` (Node 20).
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
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

// Output through fs.writeSync: process.stdout on a pipe would load net and
// stream (several ms) for one line of output.
const TCPDUMP_ENTRY = `
import { readFileSync, writeSync } from 'node:fs';
import tcpdump from './src/cli/commands/tcpdump.ts';
import { reportError } from './src/cli/main.ts';

const write = (fd, stream, t) => {
  try {
    writeSync(fd, t);
  } catch (e) {
    if (e?.code !== 'EAGAIN') throw e;
    stream().write(t);
  }
};
const io = {
  stdout: (t) => write(1, () => process.stdout, t),
  stderr: (t) => write(2, () => process.stderr, t),
  readStdin: async () => new Uint8Array(readFileSync(0)),
};
export async function run(argv) {
  try { return await tcpdump(argv, io); } catch (e) { return reportError(e, io); }
}
`;

/**
 * tcpdump.js: compiles tcpdump.cjs with the code cache beside it. The
 * wrapper text must not change without remaking the cache (V8 checks the
 * source), and bin/bpfkit.js, which does the same itself when it runs as
 * CommonJS, must use the same. saveCodeCache() is for this script.
 */
const TCPDUMP_LOADER = `import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Script } from 'node:vm';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('./tcpdump.cjs', import.meta.url));
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

const ENTRIES: Record<string, string> = { trace: TRACE_ENTRY, tcpdump: TCPDUMP_ENTRY };

/** Resolves `command-entry:NAME` to that command's entry source. */
const entry: Plugin = {
  name: 'command-entry',
  setup(b) {
    b.onResolve({ filter: /^command-entry:/ }, (a) => ({ path: a.path.slice('command-entry:'.length), namespace: 'entry' }));
    b.onLoad({ filter: /.*/, namespace: 'entry' }, (a) => ({ contents: ENTRIES[a.path], resolveDir: root, loader: 'ts' }));
  },
};

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

async function bundleCommand(name: 'trace' | 'tcpdump', outdir: string, splitting: boolean, format: 'esm' | 'cjs'): Promise<void> {
  await build({
    entryPoints: [{ in: `command-entry:${name}`, out: name }],
    plugins: [entry, lazyBuiltins],
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
  await bundleCommand('trace', outdir, splitting, 'esm');
  return join(outdir, 'trace.js');
}

/** OUTDIR/tcpdump.js (the loader), tcpdump.cjs (the command) and tcpdump.cjs.cache (V8's code cache). */
export async function bundleTcpdump(outdir: string): Promise<string> {
  await bundleCommand('tcpdump', outdir, false, 'cjs');
  const loader = join(outdir, 'tcpdump.js');
  writeFileSync(loader, TCPDUMP_LOADER);
  const cache = join(outdir, 'tcpdump.cjs.cache');
  if (existsSync(cache)) unlinkSync(cache);
  makeCodeCache(loader);
  return loader;
}

/**
 * Run the bundle in a plain `node` on a small capture (reading, filtering,
 * writing, -d) and save what V8 compiled; the cache then holds the
 * functions a real run needs, not only the top level.
 */
function makeCodeCache(loader: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-cache-'));
  try {
    const w = new PcapWriter();
    const parts = [w.header(), ...[...generatePackets(7, 2000)].map((p) => w.packet({ data: p.data, wirelen: p.wirelen }))];
    const capture = join(dir, 'warm.pcap');
    writeFileSync(capture, Buffer.concat(parts));
    const script = join(dir, 'warm.mjs');
    const runs = [
      ['-r', capture, '-w', join(dir, 'out.pcap'), 'ip and tcp port 80 or udp or arp or vlan'],
      ['-r', capture, '-w', join(dir, 'out.pcap'), 'net 10.0.0.0/8 and tcp[tcpflags] & tcp-syn != 0 or ip6 and udp port 53 or host 10.0.0.1'],
      ['-d', 'ip and tcp port 80'],
    ];
    writeFileSync(script, [
      `const m = await import(${JSON.stringify(new URL(`file://${resolve(loader)}`).href)});`,
      `for (const argv of ${JSON.stringify(runs)}) await m.run(argv);`,
      'm.saveCodeCache();',
    ].join('\n'));
    // No flags: V8 checks them against the cache's.
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`making the code cache failed: ${r.stderr || r.error?.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both bundles; returns their entry files. */
export async function bundleCommands(outdir: string): Promise<{ trace: string; tcpdump: string }> {
  const [trace, tcpdump] = await Promise.all([bundleTrace(outdir), bundleTcpdump(outdir)]);
  return { trace, tcpdump };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleCommands(resolve(process.argv[2] ?? join(root, 'dist/cli/bundle')));
}
