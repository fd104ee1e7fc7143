/**
 * `bpfkit jit`: assembly, raw bytecode and ELF objects in; the module's
 * size, instruction and function counts out (text and --json); -o writes
 * the module compile() instantiates (checked against translate() and
 * WebAssembly itself); typed errors for bad input. And bin/bpfkit.js
 * starting the command from its bundle with the V8 code cache taken (as an
 * ES module, and as CommonJS), with the same output as from source; the
 * same for `bpfkit run` and bin/bpfkit-conformance.js, bundled the same way.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../src/asm/index.js';
import jitCommand, { JitInputError, JitProgramChoiceError } from '../../src/cli/commands/jit.js';
import { main } from '../../src/cli/main.js';
import type { CommandIo } from '../../src/cli/io.js';
import { runCommand, scratchDir, type CommandResult } from './command.js';
import { main as conformancePlugin } from '../../src/cli/conformance.js';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { encode } from '../../src/isa/index.js';
import { analyse, translate } from '../../src/jit/index.js';
import { DEFAULT_BUDGET } from '../../src/vm/index.js';
import { bundleCached } from '../../scripts/bundle-commands.js';
import { compileBpf } from '../helpers/fixtures.js';

/** The parts of the WebAssembly global this test uses (the project's types leave out the DOM library). */
const WebAssembly = (globalThis as unknown as {
  WebAssembly: {
    validate(bytes: Uint8Array): boolean;
    Module: { new (bytes: Uint8Array): object; exports(m: object): { name: string; kind: string }[] };
  };
}).WebAssembly;

const dir = scratchDir('bpfkit-jit-cli-');



const ours = (argv: string[]): Promise<CommandResult> => runCommand((a, io) => main(['jit', ...a], io), argv);

interface JsonLine {
  program: string;
  insns: number;
  wasm_bytes: number;
  compile_ms: number;
  functions: number;
}

/** A loop over the input with a bpf-to-bpf call: two functions, loads and a budget check. */
const ASM = `
    r6 = r1
    r0 = 0
    r3 = r1
    r3 += r2
loop:
    if r6 >= r3 goto done
    r1 = *(u8 *)(r6 + 0)
    call twice
    r6 += 1
    goto loop
done:
    exit
twice:
    r1 <<= 1
    r0 += r1
    exit
`;
const asmFile = join(dir, 'loop.asm');
writeFileSync(asmFile, ASM);
const rawFile = join(dir, 'loop.bin');
writeFileSync(rawFile, encode(assemble(ASM)));

/** The module compile() builds for these instructions, as JitProgram's instance() asks translate() for it. */
function expectedModule(insns: Parameters<typeof analyse>[0], verified: boolean): Uint8Array {
  const shape = analyse(insns);
  return translate(shape, { verified, checkBudget: !(shape.maxInsns <= DEFAULT_BUDGET) }).bytes;
}

test('assembly: text line, --json, and -o writes the module compile() builds', async () => {
  const text = await ours([asmFile]);
  assert.equal(text.code, 0, text.stderr);
  const m = /^(.+): (\d+) insns -> (\d+) bytes of WebAssembly, compiled in (\d+\.\d\d) ms\n$/.exec(text.stdout);
  assert.ok(m, text.stdout);
  assert.equal(m[1], asmFile);
  assert.equal(Number(m[2]), 13);

  const out = join(dir, 'loop.wasm');
  const json = await ours([asmFile, '--json', '-o', out]);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stdout.split('\n').length, 2, 'one line');
  const line = JSON.parse(json.stdout) as JsonLine;
  assert.deepEqual(Object.keys(line), ['program', 'insns', 'wasm_bytes', 'compile_ms', 'functions']);
  assert.equal(line.program, asmFile);
  assert.equal(line.insns, 13);
  assert.equal(line.functions, 2);
  assert.ok(line.compile_ms > 0 && line.compile_ms < 10_000);
  const bytes = new Uint8Array(readFileSync(out));
  assert.equal(bytes.length, line.wasm_bytes);
  assert.equal(Number(m[3]), line.wasm_bytes);
  assert.deepEqual(bytes, expectedModule(assemble(ASM), false));
  assert.ok(WebAssembly.validate(bytes));
  const mod = new WebAssembly.Module(bytes);
  assert.ok(WebAssembly.Module.exports(mod).some((e) => e.name === 'run' && e.kind === 'function'));
});

test('raw bytecode gives the same module as its assembly; --verified drops the memory checks', async () => {
  const fromAsm = JSON.parse((await ours([asmFile, '--json'])).stdout) as JsonLine;
  const raw = await ours([rawFile, '--json', '-o', join(dir, 'raw.wasm')]);
  assert.equal(raw.code, 0, raw.stderr);
  const fromRaw = JSON.parse(raw.stdout) as JsonLine;
  assert.deepEqual({ ...fromRaw, program: '', compile_ms: 0 }, { ...fromAsm, program: '', compile_ms: 0 });
  const out = join(dir, 'verified.wasm');
  const verified = JSON.parse((await ours([rawFile, '--verified', '--json', '-o', out])).stdout) as JsonLine;
  assert.ok(verified.wasm_bytes < fromRaw.wasm_bytes, `${verified.wasm_bytes} < ${fromRaw.wasm_bytes}`);
  const bytes = new Uint8Array(readFileSync(out));
  assert.deepEqual(bytes, expectedModule(assemble(ASM), true));
  assert.ok(WebAssembly.validate(bytes));
});

const C_SOURCE = `
static int add(int a, int b) __attribute__((noinline));
static int add(int a, int b) { return a * 3 + b; }
__attribute__((section("xdp"), used)) int first(unsigned *ctx) { return add(ctx[0], 2) > 7 ? 2 : 1; }
__attribute__((section("socket"), used)) int second(unsigned *skb) { return skb[0] > 60 ? -1 : 0; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
`;

test('ELF object: --program picks one; several without it, or an unknown name, list the names', async () => {
  const source = join(dir, 'two.bpf.c');
  writeFileSync(source, C_SOURCE);
  const object = await compileBpf(source);
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(object)));

  const r = await ours([object, '--program', 'first', '--json', '-o', join(dir, 'first.wasm')]);
  assert.equal(r.code, 0, r.stderr);
  const line = JSON.parse(r.stdout) as JsonLine;
  const insns = spec.programs.get('first')!.insns;
  assert.equal(line.program, 'first');
  assert.equal(line.insns, insns.length);
  assert.equal(line.functions, 2, 'the program and its subprogram');
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'first.wasm'))), expectedModule(insns, false));
  assert.match((await ours([object, '--program', 'second'])).stdout, /^second: \d+ insns -> \d+ bytes of WebAssembly, compiled in \d+\.\d\d ms\n$/);

  await assert.rejects(jitCommand([object], { stdout: () => {}, stderr: () => {}, readStdin: async () => new Uint8Array() }), (e: unknown) => {
    assert.ok(e instanceof JitProgramChoiceError);
    assert.deepEqual([...e.available].sort(), ['first', 'second']);
    return true;
  });
  const unknown = await ours([object, '--program', 'third']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^bpfkit: .*two\.[^:]*: no program named 'third'; its programs: (first, second|second, first)\n$/);
});

test('bad input: typed errors that say where, no stack traces', async () => {
  const text = join(dir, 'bad.asm');
  writeFileSync(text, 'r0 = 1\nr0 +== 2\nexit\n');
  await assert.rejects(jitCommand([text], { stdout: () => {}, stderr: () => {}, readStdin: async () => new Uint8Array() }), (e: unknown) => {
    assert.ok(e instanceof JitInputError);
    assert.match(e.message, new RegExp(`^${text}: 2:\\d+: `));
    return true;
  });
  const truncated = join(dir, 'bad.bin');
  writeFileSync(truncated, new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0]));
  const cases: [string[], number, RegExp][] = [
    [[truncated], 1, /^bpfkit: .*bad\.bin: instruction 1: truncated/],
    [[join(dir, 'absent.o')], 1, /^bpfkit: .*absent\.o: ENOENT\n$/],
    [[asmFile, '--program', 'x'], 2, /^bpfkit: jit: --program applies to ELF objects/],
    [['--bogus'], 2, /^bpfkit: jit: unknown option '--bogus'\n$/],
    [[], 2, /^bpfkit: jit: missing program FILE/],
  ];
  const wild = join(dir, 'wild.bin');
  writeFileSync(wild, new Uint8Array([0x05, 0, 5, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
  cases.push([[wild], 1, /^bpfkit: .*wild\.bin: instruction 0: jump out of range/]);
  const elf = join(dir, 'bad.o');
  writeFileSync(elf, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
  cases.push([[elf], 1, /^bpfkit: .*bad\.o: ELF\+0x0: /]);
  for (const [argv, code, err] of cases) {
    const r = await ours(argv);
    assert.equal(r.code, code, argv.join(' '));
    assert.match(r.stderr, err, argv.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  }
  const help = await ours(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: bpfkit jit FILE/);
});

test('bin/bpfkit.js runs jit from its bundle (as an ES module, and as CommonJS): same output as from source, code cache taken', async () => {
  // A package-like tree inside the repository (so the package's type applies): bin/bpfkit.js and dist/cli/bundle.
  const root = join(process.cwd(), 'build', `test-jit-bundle-${process.pid}`);
  const bundleDir = join(root, 'dist', 'cli', 'bundle');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(bundleDir, { recursive: true });
  after(() => rmSync(root, { recursive: true, force: true }));
  const loader = await bundleCached('jit', bundleDir);
  writeFileSync(join(root, 'bin', 'bpfkit.js'), readFileSync(join(process.cwd(), 'bin', 'bpfkit.js')));
  const probe = join(root, 'probe.mjs');
  writeFileSync(probe, `const m = await import(${JSON.stringify(`file://${loader}`)}); console.log(m.codeCacheRejected);`);
  assert.equal(spawnSync(process.execPath, [probe], { encoding: 'utf8' }).stdout.trim(), 'false');
  const cases = [[asmFile], [rawFile, '--verified', '--json'], [asmFile, '-o', join(dir, 'bundle.wasm')], [join(dir, 'absent.asm')]];
  // Everything but the time.
  const timeless = (s: string): string => s.replace(/compiled in \d+\.\d\d ms/, 'compiled in T ms').replace(/"compile_ms":[\d.e-]+/, '"compile_ms":T');
  for (const commonjs of [false, true]) {
    if (commonjs) writeFileSync(join(root, 'bin', 'package.json'), '{ "type": "commonjs" }\n');
    for (const argv of cases) {
      const what = `${commonjs ? 'CommonJS' : 'ES module'}: ${argv.join(' ')}`;
      const b = spawnSync(process.execPath, [join(root, 'bin', 'bpfkit.js'), 'jit', ...argv], { encoding: 'utf8', timeout: 60_000 });
      const s = await ours(argv);
      assert.equal(b.status, s.code, `${what}: ${b.stderr}`);
      assert.equal(timeless(b.stdout), timeless(s.stdout), what);
      assert.equal(b.stderr, s.stderr, what);
      if (argv.includes('-o')) assert.deepEqual(new Uint8Array(readFileSync(argv[argv.indexOf('-o') + 1]!)), expectedModule(assemble(ASM), false), what);
    }
  }
});

test('the same path bundles `run` and the conformance plugin: same output as from source, as an ES module and as CommonJS', async () => {
  const root = join(process.cwd(), 'build', `test-run-bundle-${process.pid}`);
  const bundleDir = join(root, 'dist', 'cli', 'bundle');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(bundleDir, { recursive: true });
  after(() => rmSync(root, { recursive: true, force: true }));
  const loaders = [await bundleCached('run', bundleDir), await bundleCached('conformance', bundleDir)];
  for (const bin of ['bpfkit.js', 'bpfkit-conformance.js']) writeFileSync(join(root, 'bin', bin), readFileSync(join(process.cwd(), 'bin', bin)));
  const probe = join(root, 'probe.mjs');
  writeFileSync(probe, loaders.map((l, i) => `const m${i} = await import(${JSON.stringify(`file://${l}`)}); console.log(m${i}.codeCacheRejected);`).join('\n'));
  assert.equal(spawnSync(process.execPath, [probe], { encoding: 'utf8' }).stdout, 'false\nfalse\n');
  const mem = '01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10';
  const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const runCases = [[asmFile, '--mem', mem.replaceAll(' ', '')], [rawFile, '--mem', '0102', '--engine', 'interp'], [join(dir, 'absent.asm')]];
  const pluginCases: [string[], string][] = [[[mem, '--engine jit'], hex(encode(assemble(ASM)))], [[''], 'zz']];
  const capture = (f: (io: CommandIo) => Promise<number>, stdin = ''): Promise<CommandResult> => runCommand((_, io) => f(io), [], stdin);
  for (const commonjs of [false, true]) {
    if (commonjs) writeFileSync(join(root, 'bin', 'package.json'), '{ "type": "commonjs" }\n');
    for (const argv of runCases) {
      const what = `${commonjs ? 'CommonJS' : 'ES module'}: run ${argv.join(' ')}`;
      const b = spawnSync(process.execPath, [join(root, 'bin', 'bpfkit.js'), 'run', ...argv], { encoding: 'utf8', timeout: 60_000 });
      const s = await capture((io) => main(['run', ...argv], io));
      assert.deepEqual({ code: b.status, stdout: b.stdout, stderr: b.stderr }, s, what);
    }
    for (const [argv, stdin] of pluginCases) {
      const what = `${commonjs ? 'CommonJS' : 'ES module'}: conformance ${argv.join(' ')}`;
      const b = spawnSync(process.execPath, [join(root, 'bin', 'bpfkit-conformance.js'), ...argv], { encoding: 'utf8', input: stdin, timeout: 60_000 });
      const s = await capture((io) => conformancePlugin(argv, io), stdin);
      assert.deepEqual({ code: b.status, stdout: b.stdout, stderr: b.stderr }, s, what);
    }
  }
});
