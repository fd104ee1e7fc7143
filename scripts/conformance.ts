/**
 * Run the public bpf_conformance suite through our plugin, one child process
 * per test, exactly as the suite's own runner does (plugin protocol: MEM as
 * the first argument, plugin options as the second, program hex on stdin,
 * r0 in hex on stdout).
 *
 *   npm run build && node --import tsx scripts/conformance.ts [DIR] [--engine jit|interp]  (jit by default)
 *       [--plugin PATH] [--jobs N] [--filter SUBSTRING] [--verbose]
 *
 * DIR defaults to ../shared/conformance relative to the repository. Programs
 * come from a test's `-- raw` words, else from DIR/compiled.json (the same
 * tests already assembled), else from our assembler on the `-- asm` text.
 * A test with an `-- error` section passes when the plugin fails (exit code
 * not 0); its expected message is uBPF's wording, so it is shown, not required.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface TestCase {
  name: string;
  asm: string;
  mem: Uint8Array;
  /** Expected r0 (mod 2^64), when the test has a result. */
  result?: bigint;
  /** Expected error text, when the test expects the plugin to fail. */
  error?: string;
  raw?: bigint[];
}

/** Parse a .data file the way bpf_conformance's test parser does. */
function parseTest(name: string, text: string): TestCase {
  let state: 'ignore' | 'asm' | 'raw' | 'result' | 'mem' | 'error' = 'ignore';
  const asm: string[] = [];
  let mem = '', raw = '', result = '', error = '';
  for (let line of text.split('\n')) {
    line = line.replace(/\r$/, '');
    if (line.includes('--')) {
      if (line.includes('asm')) state = 'asm';
      else if (line.includes('result')) state = 'result';
      else if (line.includes('mem')) state = 'mem';
      else if (line.includes('raw')) state = 'raw';
      else if (line.includes('no register offset') || line.includes(' c')) state = 'ignore';
      else if (line.includes('error')) state = 'error';
      else throw new Error(`unknown directive '${line}'`);
      continue;
    }
    if (line.length === 0) continue;
    if (state === 'asm') asm.push(line.replace(/#.*/, ''));
    else if (state === 'result') result = line.trim();
    else if (state === 'mem') mem += ` ${line}`;
    else if (state === 'raw') raw += ` ${line}`;
    else if (state === 'error') error = line;
  }
  const t: TestCase = {
    name,
    asm: asm.join('\n'),
    mem: new Uint8Array(mem.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16))),
  };
  if (result) t.result = BigInt.asUintN(64, BigInt(result.includes('0x') ? result : BigInt(result)));
  if (error) t.error = error;
  if (raw.trim()) t.raw = raw.split(/\s+/).filter(Boolean).map((w) => BigInt.asUintN(64, BigInt(w)));
  return t;
}

/** The suite's byte encoding: two hex digits and two spaces per byte. */
function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => `${x.toString(16).padStart(2, '0')}  `).join('');
}

function wordsToBytes(words: bigint[]): Uint8Array {
  const out = new Uint8Array(words.length * 8);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setBigUint64(i * 8, w, true));
  return out;
}

async function programOf(t: TestCase, compiled: Map<string, string>): Promise<Uint8Array | string> {
  if (t.raw) return wordsToBytes(t.raw);
  const hex = compiled.get(t.name);
  if (hex !== undefined) return new Uint8Array((hex.match(/../g) ?? []).map((h) => parseInt(h, 16)));
  try {
    const asm = (await import('../src/asm/index.js')) as { assemble(text: string, o?: { syntax?: string }): unknown[] };
    const isa = await import('../src/isa/index.js');
    return isa.encode(asm.assemble(t.asm, { syntax: 'ubpf' }) as Parameters<typeof isa.encode>[0]);
  } catch (e) {
    return `cannot assemble: ${(e as Error).message}`;
  }
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runPlugin(plugin: string, mem: string, options: string, program: string): Promise<Outcome> {
  return new Promise((done) => {
    const cmd = plugin.endsWith('.js') ? process.execPath : plugin;
    const args = plugin.endsWith('.js') ? [plugin, mem, options] : [mem, options];
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => done({ code: -1, stdout, stderr: String(e) }));
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(`${program}\n`);
  });
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, f);
    const s = statSync(p);
    if (s.isFile()) t = Math.max(t, s.mtimeMs);
  }
  return t;
}

async function main(argv: string[]): Promise<number> {
  let dir = resolve(repo, '../shared/conformance');
  let engine = 'jit';
  let plugin = join(repo, 'bin/bpfkit-conformance.js');
  let jobs = Math.max(1, cpus().length);
  let filter = '';
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--engine') engine = argv[++i];
    else if (a === '--plugin') plugin = resolve(argv[++i]);
    else if (a === '--jobs') jobs = Number(argv[++i]);
    else if (a === '--filter') filter = argv[++i];
    else if (a === '--verbose') verbose = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else dir = resolve(a);
  }
  if (!existsSync(dir)) {
    console.error(`conformance: no test directory at ${dir}`);
    return 2;
  }
  const built = join(repo, 'dist/cli/conformance.js');
  if (plugin === join(repo, 'bin/bpfkit-conformance.js')) {
    if (!existsSync(built)) {
      console.error('conformance: dist/cli/conformance.js is missing: run `npm run build` first');
      return 2;
    }
    if (statSync(built).mtimeMs < Math.max(newestMtime(join(repo, 'src/vm')), statSync(join(repo, 'src/cli/conformance.ts')).mtimeMs)) {
      console.error('conformance: warning: dist is older than src/vm; run `npm run build`');
    }
  }
  const compiledPath = join(dir, 'compiled.json');
  const compiled = new Map<string, string>();
  if (existsSync(compiledPath)) {
    for (const c of JSON.parse(readFileSync(compiledPath, 'utf8')) as { name: string; program: string }[]) compiled.set(c.name, c.program);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.data') && f.includes(filter)).sort();
  const failures: string[] = [];
  const skipped: string[] = [];
  let passed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++];
      const name = file.replace(/\.data$/, '');
      let t: TestCase;
      try {
        t = parseTest(name, readFileSync(join(dir, file), 'utf8'));
      } catch (e) {
        skipped.push(`${name}: ${(e as Error).message}`);
        continue;
      }
      const program = await programOf(t, compiled);
      if (typeof program === 'string') {
        skipped.push(`${name}: ${program}`);
        continue;
      }
      const out = await runPlugin(plugin, hexBytes(t.mem), `--engine ${engine}`, hexBytes(program));
      const printed = out.stdout.split('\n')[0].trim();
      let verdict: string | undefined;
      if (t.error !== undefined) {
        if (out.code === 0) verdict = `expected an error (${t.error}), plugin printed ${printed}`;
        else if (verbose && printed !== t.error) console.log(`${name}: failed as expected; message '${printed}', suite expects '${t.error}'`);
      } else if (out.code !== 0) {
        verdict = `plugin exited ${out.code}: ${printed || out.stderr.trim()}`;
      } else {
        let got: bigint | undefined;
        try {
          got = BigInt.asUintN(64, BigInt(printed.startsWith('0x') ? printed : `0x${printed}`));
        } catch {
          verdict = `unreadable output '${printed}'`;
        }
        if (got !== undefined && got !== t.result) verdict = `r0 = 0x${got.toString(16)}, expected 0x${t.result?.toString(16)}`;
      }
      if (verdict === undefined) passed++;
      else failures.push(`${name}: ${verdict}`);
      if (verbose) console.log(`${verdict === undefined ? 'PASS' : 'FAIL'} ${name}`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  for (const f of failures.sort()) console.log(`FAIL ${f}`);
  for (const s of skipped.sort()) console.log(`SKIP ${s}`);
  console.log(`${passed} passed, ${failures.length} failed${skipped.length ? `, ${skipped.length} skipped` : ''} (engine ${engine})`);
  return failures.length === 0 && skipped.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
