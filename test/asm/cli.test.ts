import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CommandIo } from '../../src/cli/io.js';

async function run(argv: string[], stdin = new Uint8Array()): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), readStdin: async () => stdin };
  const code = await main(argv, io);
  return { code, out, err };
}

const SRC = 'mov %r0, 1\nlddw %r1, 0x1122334455667788\njeq %r1, 3, +1\ncall 1\nexit\n';
const HEX = [
  'b7 00 00 00 01 00 00 00',
  '18 01 00 00 88 77 66 55',
  '00 00 00 00 44 33 22 11',
  '15 01 01 00 03 00 00 00',
  '85 00 00 00 01 00 00 00',
  '95 00 00 00 00 00 00 00',
].join('\n') + '\n';

test('bpfkit asm prints hex, writes binary with -o, reads stdin with -', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-asm-cli-'));
  try {
    const src = join(dir, 'p.s');
    writeFileSync(src, SRC);
    assert.deepEqual(await run(['asm', src]), { code: 0, out: HEX, err: '' });
    const bin = join(dir, 'p.bin');
    assert.equal((await run(['asm', src, '-o', bin])).code, 0);
    assert.equal(Buffer.from(readFileSync(bin)).toString('hex'), HEX.replace(/[\s]/g, ''));
    const hexFile = join(dir, 'p.hex');
    assert.equal((await run(['asm', src, '-o', hexFile, '--hex'])).code, 0);
    assert.equal(readFileSync(hexFile, 'utf8'), HEX);
    assert.equal((await run(['asm', '-', '--syntax', 'ubpf'], new TextEncoder().encode(SRC))).out, HEX);

    // disasm reads the binary and the hex text alike
    assert.equal((await run(['disasm', hexFile])).out, (await run(['disasm', bin])).out);
    const llvm = await run(['disasm', bin]);
    assert.equal(llvm.code, 0);
    assert.equal(llvm.out.split('\n')[0], '       0:\tb7 00 00 00 01 00 00 00\tr0 = 0x1');
    assert.equal(llvm.out.split('\n')[1], '       1:\t18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11\tr1 = 0x1122334455667788 ll');
    const kernel = await run(['disasm', bin, '--style', 'kernel']);
    assert.equal(kernel.out, '0: (b7) r0 = 1\n1: (18) r1 = 0x1122334455667788\n3: (15) if r1 == 0x3 goto pc+1\n4: (85) call bpf_map_lookup_elem#1\n5: (95) exit\n');
    const ubpf = await run(['disasm', bin, '--style', 'ubpf']);
    assert.equal(ubpf.out, '\tmov %r0, 1\n\tlddw %r1, 0x1122334455667788\n\tjeq %r1, 3, L5\n\tcall 1\nL5:\n\texit\n');
    const json = await run(['disasm', bin, '--json']);
    const rows = JSON.parse(json.out) as { slot: number; bytes: string; text: string; insn: { kind: string; imm?: string } }[];
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[1], { slot: 1, bytes: '18010000887766550000000044332211', text: 'r1 = 0x1122334455667788 ll', insn: { kind: 'lddw', dst: 1, pseudo: 'imm', imm: '0x1122334455667788' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('asm errors point at the line and column; disasm refuses a truncated ELF and bad bytecode with typed errors', async () => {
  const bad = await run(['asm', '-'], new TextEncoder().encode('r0 = 1\n  r1 = r11\n'));
  assert.equal(bad.code, 1);
  assert.equal(bad.err, "bpfkit: <stdin>:2:8: unknown register 'r11'\n    r1 = r11\n         ^\n");
  const elf = await run(['disasm', '-'], new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
  assert.deepEqual(elf, { code: 1, out: '', err: 'bpfkit: ELF+0x0: file too short for an ELF64 header (8 bytes)\n' });
  const trunc = await run(['disasm', '-'], new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0, 0xb7]));
  assert.equal(trunc.code, 1);
  assert.match(trunc.err, /^bpfkit: instruction 1: truncated/);
  const usage = await run(['disasm', '--style', 'intel', 'x']);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--style takes llvm, kernel or ubpf/);
  for (const cmd of ['asm', 'disasm']) {
    const help = await run([cmd, '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, new RegExp(`^Usage: bpfkit ${cmd} FILE`));
  }
});

test('disasm shows a jump that leaves the program instead of refusing it', async () => {
  const out = await run(['disasm', '-', '--style', 'kernel'], new Uint8Array([0x05, 0, 0x10, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
  assert.deepEqual(out, { code: 0, out: '0: (05) goto pc+16\n1: (95) exit\n', err: '' });
});
