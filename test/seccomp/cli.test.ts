import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeSockFilter, parseListing } from '../../src/cbpf/index.js';
import { main } from '../../src/cli/main.js';
import { compile, parseProfile } from '../../src/seccomp/index.js';

const fixture = fileURLToPath(new URL('./fixtures/default-like.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bpfkit-seccomp-cli-'));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, readStdin: async () => new Uint8Array() });
  return { code, out, err };
}

test('compile prints the filter as tcpdump -d / -dd / -ddd would, and --raw writes sock_filter bytes', async () => {
  const expected = compile(parseProfile(readFileSync(fixture, 'utf8'), { arch: 'x86_64', kernel: '6.1' }).policy).filter;
  const d = await run('seccomp', 'compile', fixture, '--arch', 'x86_64', '--kernel', '6.1');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^\(000\) ld {7}\[4\]\n\(001\) jeq {6}#0xc000003e {6}jt \d+\tjf \d+\n/);
  assert.deepEqual(parseListing(d.out, 'd'), expected);
  for (const level of ['-dd', '-ddd']) {
    const r = await run('seccomp', 'compile', fixture, level, '--arch', 'x86_64', '--kernel', '6.1');
    assert.deepEqual(parseListing(r.out), expected, level);
  }
  const raw = join(dir, 'f.bpf');
  const r = await run('seccomp', 'compile', fixture, '--raw', '-o', raw, '--arch', 'x86_64', '--kernel', '6.1');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(decodeSockFilter(new Uint8Array(readFileSync(raw))), expected);
});

test('explain names the deciding rule and checks it against the compiled filter', async () => {
  const r = await run('seccomp', 'explain', fixture, 'personality', '0xffffffff', '--arch', 'x86_64');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^ALLOW\npersonality on x86_64: ALLOW by syscalls\[5\] \(personality\) because arg0 == 0xffffffff\n/);
  assert.match(r.out, /\* syscalls\[5\] \(personality\): ALLOW if arg0 == 0xffffffff \[yes\]/);
  assert.match(r.out, /filter returns 0x7fff0000 \(ALLOW\)\n$/);
  const no = await run('seccomp', 'explain', fixture, 'clone', String(0x10000000), '--arch', 'x86_64');
  assert.match(no.out, /^ERRNO\(1\)\nclone on x86_64: ERRNO\(1\) by default: no rule for clone matched \(1 considered\)/);
  assert.match(no.out, /filter returns 0x00050001 \(ERRNO\(1\)\)/);
  const i386 = await run('seccomp', 'explain', fixture, 'personality', '8', '--abi', 'x86', '--arch', 'x86_64');
  assert.match(i386.out, /^ALLOW\npersonality on x86: ALLOW/);
  const killed = await run('seccomp', 'explain', fixture, 'kexec_load', '--arch', 'x86_64');
  assert.match(killed.out, /^KILL_PROCESS\n/);
});

test('user errors exit 1 or 2 with one line, no stack', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_FOO" }] }');
  const r = await run('seccomp', 'compile', bad);
  assert.equal(r.code, 1);
  assert.equal(r.err, "bpfkit: syscalls[0].action: unknown action 'SCMP_ACT_FOO'\n");
  const u = await run('seccomp', 'explain', fixture, 'no_such_call');
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown syscall 'no_such_call'/);
  assert.equal((await run('seccomp', 'frobnicate')).code, 2);
  assert.equal((await run('seccomp', 'compile', fixture, '--arch', 'vax')).code, 2);
  const missing = await run('seccomp', 'compile', join(dir, 'nope.json'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope\.json: ENOENT/);
});
