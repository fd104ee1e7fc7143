/**
 * `bpfkit verify OBJECT.o`: every program of a clang-compiled object is
 * checked with the object's maps and its section's program type; verdicts
 * match the kernel's for the same programs, and a refusal shows the failing
 * path with C source lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import verifyCommand from '../../src/cli/commands/verify.js';
import { UsageError } from '../../src/cli/io.js';
import { kernelTest } from '../helpers/kernel.js';
import { compilePrograms, MAPS } from './compiled.js';
import { kernelVerify } from './kernel-oracle.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/progs.bpf.c');
const OBJ = join(mkdtempSync(join(tmpdir(), 'bpfkit-verify-cli-')), 'progs.o');
execFileSync(process.env.CLANG ?? 'clang-19', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', SRC, '-o', OBJ], { stdio: 'pipe' });

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await verifyCommand(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => new Uint8Array() });
  return { code, out, err };
}

test('an object: one verdict line per program; a refusal shows the path with source lines', async () => {
  const r = await run(OBJ, '--log-level', '0');
  assert.equal(r.code, 1, 'some fixture programs are refused');
  assert.match(r.out, /^count_icmp \(xdp\/count_icmp, xdp\): accepted$/m);
  assert.match(r.out, /^len_filter \(socket\/len_filter, socket_filter\): accepted$/m);
  assert.match(r.out, /^ports_off_by_one \(xdp\/ports_off_by_one, xdp\): refused$/m);
  // The kernel's line-info format: "; <source> @ <file>:<line>" before the instructions.
  assert.match(r.out, /^; return ip->daddr == 0 \? XDP_DROP : XDP_PASS; @ progs\.bpf\.c:\d+\n9: \(61\)/m);
  assert.match(r.err, /ports_off_by_one: insn 9: invalid access to packet, off=30 size=4[^\n]*\n {2}at progs\.bpf\.c:\d+: return ip->daddr/);
});

test('--program selects one program; --json gives per-program reports', async () => {
  const one = await run(OBJ, '--program', 'count_icmp', '--log-level', '0');
  assert.equal(one.code, 0);
  assert.equal(one.out, 'count_icmp (xdp/count_icmp, xdp): accepted\n');
  const bySection = await run(OBJ, '--program', 'xdp/null_deref', '--json');
  assert.equal(bySection.code, 1);
  const reports = JSON.parse(bySection.out) as { program: string; accepted: boolean; errors: { message: string; source?: string }[] }[];
  assert.equal(reports.length, 1);
  assert.equal(reports[0].program, 'null_deref');
  assert.equal(reports[0].accepted, false);
  assert.match(reports[0].errors[0].source ?? '', /^progs\.bpf\.c:\d+: /);
  await assert.rejects(run(OBJ, '--program', 'nope'), (e: unknown) => e instanceof UsageError && /no program 'nope'/.test(e.message));
});

kernelTest('verdicts on the object match the kernel for each program', async () => {
  const r = await run(OBJ, '--json');
  const reports = JSON.parse(r.out) as { section: string; accepted?: boolean }[];
  const programs = compilePrograms();
  assert.equal(reports.length, programs.length);
  for (const p of programs) {
    const ours = reports.find((x) => x.section === p.section);
    assert.ok(ours, `no report for ${p.section}`);
    assert.equal(ours.accepted, kernelVerify(p.insns, p.type, MAPS).accepted, p.section);
  }
});
