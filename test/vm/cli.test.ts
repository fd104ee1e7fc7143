import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build as b, encode } from '../../src/isa/index.js';
import { main as plugin, parsePluginArgs } from '../../src/cli/conformance.js';
import { main } from '../../src/cli/main.js';
import type { CommandIo } from '../../src/cli/io.js';

function fakeIo(stdin = ''): CommandIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    readStdin: async () => new TextEncoder().encode(stdin),
  };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'bpfkit-vm-'));
const file = (name: string, data: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const hexOf = (bytes: Uint8Array): string => Array.from(bytes, (x) => `${x.toString(16).padStart(2, '0')}  `).join('');

test('bpfkit run: bytecode file with --mem, r0 in hex and decimal', async () => {
  // r0 = *(u32 *)(r1 + 0) + r2
  const prog = file('sum.bin', encode([b.ldx(4, 0, 1, 0), b.add64(0, 2), b.exit()]));
  const io = fakeIo();
  assert.equal(await main(['run', prog, '--mem', '05 00 00 00'], io), 0);
  assert.equal(io.out, 'r0 = 0x9 (9)\n');
});

test('bpfkit run: assembly text, --mem-file, --json with --repeat', async () => {
  const asm = file('prog.asm', 'mov %r0, -1\nexit\n');
  const io = fakeIo();
  assert.equal(await main(['run', asm, '--json', '--repeat', '3', '--mem-file', file('m.bin', new Uint8Array(4))], io), 0);
  const line = io.out.trim().split('\n');
  assert.equal(line.length, 1);
  const j = JSON.parse(line[0]) as { r0: string; ns_per_run: number; engine: string };
  assert.equal(j.r0, '0xffffffffffffffff');
  assert.equal(typeof j.ns_per_run, 'number');
  assert.deepEqual(Object.keys(j), ['r0', 'ns_per_run', 'engine']);
  assert.equal(j.engine, 'jit', 'the JIT is the default');
  const i = fakeIo();
  assert.equal(await main(['run', asm, '--json', '--engine', 'interp'], i), 0);
  assert.equal((JSON.parse(i.out) as { engine: string }).engine, 'interp');
});

test('bpfkit run: user errors go to stderr with a non-zero exit and no stack trace', async () => {
  const cases: [string[], RegExp][] = [
    [['run'], /missing program FILE/],
    [['run', join(dir, 'missing.bin')], /ENOENT/],
    [['run', file('bad.bin', new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0]))], /instruction 0: unknown opcode/],
    [['run', file('oob.bin', encode([b.ldx(8, 0, 1, 0), b.exit()]))], /pc 0: invalid read of 8 bytes at 0x0/],
    [['run', file('loop.bin', encode([b.ja(-1)])), '--budget', '10'], /pc 0: instruction budget of 10 exhausted/],
    [['run', file('x.bin', encode([b.exit()])), '--engine', 'fast'], /--engine takes interp or jit/],
    [['run', file('y.bin', encode([b.exit()])), '--repeat', '0'], /--repeat takes a positive integer/],
    [['run', file('z.o', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]))], /ELF\+0x0: file too short/],
  ];
  for (const [argv, message] of cases) {
    const io = fakeIo();
    const code = await main(argv, io);
    assert.notEqual(code, 0, argv.join(' '));
    assert.match(io.err, message);
    assert.doesNotMatch(io.err, /\n\s+at /, 'no stack trace');
    assert.equal(io.out, '');
  }
});

test('conformance plugin: MEM argument, program on stdin, r0 in hex', async () => {
  const prog = encode([b.ldx(2, 0, 1, 1), b.exit()]);
  const io = fakeIo(`${hexOf(prog)}\n`);
  assert.equal(await plugin(['aa  bb  cc  ', ''], io), 0);
  assert.equal(io.out, '0xccbb\n');
});

test('conformance plugin: options arrive as one argument; errors exit 1 with the message on stdout', async () => {
  assert.equal(parsePluginArgs(['', '--engine jit']).engine, 'jit');
  assert.equal(parsePluginArgs(['--engine=interp']).engine, 'interp');
  assert.deepEqual([...parsePluginArgs(['01  ff  ']).mem], [1, 255]);
  assert.throws(() => parsePluginArgs(['', '--bogus']), /unknown option/);
  const io = fakeIo(hexOf(encode([b.call(1), b.exit()])));
  assert.equal(await plugin([], io), 1);
  assert.match(io.out, /^pc 0: unknown helper 1\n$/);
});

test('conformance plugin: helper 5 unwinds when its argument is 0', async () => {
  const prog = (r1: number) => hexOf(encode([b.mov64(1, b.imm(r1)), b.call(5), b.mov64(0, b.imm(2)), b.exit()]));
  const zero = fakeIo(prog(0));
  assert.equal(await plugin([''], zero), 0);
  assert.equal(zero.out, '0x0\n');
  const other = fakeIo(prog(-1));
  assert.equal(await plugin([''], other), 0);
  assert.equal(other.out, '0x2\n');
});
