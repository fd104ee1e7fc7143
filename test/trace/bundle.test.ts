/**
 * The one-file bundle of `bpfkit trace` (scripts/bundle-commands.ts) behaves
 * as the command does from source: same output for the VM, -d and kernel
 * paths, koffi loaded through the bundle's shortcut to its native addon,
 * and node:child_process loaded only when a script needs it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleTrace } from '../../scripts/bundle-commands.js';
import { bpfUnusableReason } from '../../src/kernel/index.js';
import { runTrace } from './cli-run.js';

const requireKernel = process.env.BPFKIT_REQUIRE_KERNEL === '1';
// Inside the package, so the bundle resolves koffi from node_modules as dist/ would.
const dir = join(process.cwd(), 'build', `test-trace-bundle-${process.pid}`);
after(() => rmSync(dir, { recursive: true, force: true }));

let entry: string | undefined;
async function bundled(): Promise<string> {
  if (entry) return entry;
  mkdirSync(dir, { recursive: true });
  const bundle = await bundleTrace(dir);
  // Report which modules the run loaded, to check what stays lazy.
  const runner = join(dir, 'run.mjs');
  writeFileSync(runner, [
    `const { run } = await import(${JSON.stringify(bundle)});`,
    'process.exitCode = await run(process.argv.slice(2));',
    "if (process.env.TRACE_MODULES) (await import('node:fs')).writeFileSync(process.env.TRACE_MODULES, process.moduleLoadList.join('\\n'));",
  ].join('\n'));
  return (entry = runner);
}

function runBundle(args: string[], modules?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [entry!, ...args], { encoding: 'utf8', env: { ...process.env, ...(modules ? { TRACE_MODULES: modules } : {}) }, timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the bundle is one file and compiles as the source does (-d)', async () => {
  await bundled();
  const prog = 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }';
  const a = runBundle(['--vm', '-d', '-e', prog]);
  const b = await runTrace(['--vm', '-d', '-e', prog]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.match(a.stdout, /bpf_get_current_comm/);
});

test('the bundle reports script errors as the command does', async () => {
  await bundled();
  const a = runBundle(['-e', 'BEGIN { @x = ; }']);
  const b = await runTrace(['-e', 'BEGIN { @x = ; }']);
  assert.equal(a.code, b.code);
  assert.equal(a.stderr, b.stderr);
});

test('on the kernel, the bundle runs BEGIN without loading koffi\'s downloader or child_process', async (t) => {
  const why = bpfUnusableReason();
  if (why) {
    if (requireKernel) assert.fail(why);
    t.skip(why);
    return;
  }
  await bundled();
  const list = join(dir, 'modules.txt');
  const a = runBundle(['-e', 'BEGIN { printf("hi %d\\n", 1 + 2); @c = count(); exit(); }'], list);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, 'Attaching 1 probe...\nhi 3\n\n\n@c: 1\n');
  const loaded = readFileSync(list, 'utf8');
  assert.doesNotMatch(loaded, /NativeModule (https|zlib|child_process)\b/);
});
