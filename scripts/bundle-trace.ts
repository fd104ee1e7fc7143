/**
 * Bundle the `bpfkit trace` command path into one ES module, so start-up
 * reads and compiles one file instead of resolving ~55 modules from dist:
 *
 *   node --import tsx scripts/bundle-trace.ts [OUTDIR]
 *
 * Default output: dist/cli/bundle/trace.js (bundled from src/, so it can run
 * before or after tsc). It exports `run(argv)`, which does what
 * `bpfkit trace ARGV...` does. Modules that only rarer paths need (kprobes,
 * uprobes, BTF, the VM, -d) are in the file too but initialised only when
 * first imported. One file measured as fast as esbuild's code splitting
 * (which loads ~17 small shared chunks on the common path) and is simpler.
 * The output must live inside the package (dist/ or build/): koffi stays
 * external and is resolved from there.
 */
import { build, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// koffi's index.js loads https, crypto and zlib (its prebuild downloader)
// before it loads the native addon: about 20 ms of start-up. The entry
// puts a module in require's cache under koffi's index path whose exports
// load the addon itself on first use, falling back to the real index.
const ENTRY = `
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

const entry: Plugin = {
  name: 'trace-entry',
  setup(b) {
    b.onResolve({ filter: /^trace-entry$/ }, () => ({ path: 'trace', namespace: 'entry' }));
    b.onLoad({ filter: /.*/, namespace: 'entry' }, () => ({ contents: ENTRY, resolveDir: root, loader: 'ts' }));
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

export async function bundleTrace(outdir: string, splitting = false): Promise<string> {
  await build({
    entryPoints: [{ in: 'trace-entry', out: 'trace' }],
    plugins: [entry, lazyBuiltins],
    bundle: true,
    splitting,
    platform: 'node',
    format: 'esm',
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
  return join(outdir, 'trace.js');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleTrace(resolve(process.argv[2] ?? join(root, 'dist/cli/bundle')));
}
