/**
 * Filters against the real kernel: a C probe runs under `bpfkit seccomp run`
 * (our koffi helper) and under `bwrap --seccomp`, and every call must end the
 * way the profile says: its errno, success, or death by SIGSYS.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probePath } from './native/build.js';

const cli = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
const requireKernel = process.env.BPFKIT_REQUIRE_KERNEL === '1';
const dir = mkdtempSync(join(tmpdir(), 'bpfkit-seccomp-'));
const probe = probePath();

interface Outcome { lines: Array<[number, number]>; status: number | null; signal: string | null; stderr: string }

function parse(r: ReturnType<typeof spawnSync>): Outcome {
  const lines = String(r.stdout).trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number) as [number, number]);
  return { lines, status: r.status, signal: r.signal, stderr: String(r.stderr) };
}

function bpfkit(...args: string[]): Outcome {
  return parse(spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 30_000 }));
}

function profile(name: string, edit: (p: { syscalls: Array<Record<string, unknown>> } & Record<string, unknown>) => void): string {
  const p = JSON.parse(readFileSync(new URL('./fixtures/default-like.json', import.meta.url), 'utf8'));
  edit(p);
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(p));
  return path;
}

// Test-only additions: one call per outcome the kernel can produce.
const testProfile = profile('test.json', (p) => {
  const allow = p.syscalls[0].names as string[];
  p.syscalls[0].names = allow.filter((n) => n !== 'getppid' && n !== 'getpgrp');
  p.syscalls.push(
    { names: ['getppid'], action: 'SCMP_ACT_KILL_PROCESS' },
    { names: ['getpgrp'], action: 'SCMP_ACT_TRAP' },
    // sched_yield is also on the allow list: ERRNO outranks ALLOW.
    { names: ['sched_yield'], action: 'SCMP_ACT_ERRNO', errnoRet: 77 },
  );
});

const EPERM = 1;
const ENOSYS = 38;
const hasIa32 = (() => {
  const r = parse(spawnSync(probe, ['int80:20'], { encoding: 'utf8' }));
  return r.status === 0 && r.lines[0]?.[0] > 0;
})();

// Calls that leave the process alive, with what each must return.
const calls: Array<[string, string, (ret: number, err: number) => boolean]> = [
  ['getpid allowed', 'sys:39', (ret, err) => ret > 0 && err === 0],
  ['personality(0xffffffff) allowed by an argument rule', 'sys:135:0xffffffff', (ret, err) => ret >= 0 && err === 0],
  ['personality(0x400000) not listed: default errno', 'sys:135:0x400000', (ret, err) => ret === -1 && err === EPERM],
  ['personality(0x1ffffffff) differs in the high word', 'sys:135:0x1ffffffff', (ret, err) => ret === -1 && err === EPERM],
  ['socket(AF_VSOCK) refused by SCMP_CMP_NE', 'sys:41:40:1:0', (ret, err) => ret === -1 && err === EPERM],
  ['socket(AF_UNIX) allowed', 'sys:41:1:1:0', (ret, err) => ret >= 0 && err === 0],
  ['clone(CLONE_NEWUSER) refused by MASKED_EQ', 'sys:56:0x10000000', (ret, err) => ret === -1 && err === EPERM],
  ['sched_yield gets errnoRet 77', 'sys:24', (ret, err) => ret === -1 && err === 77],
  ['clone3 gets ENOSYS from its rule', 'sys:435', (ret, err) => ret === -1 && err === ENOSYS],
  ['unknown syscall number gets the default errno, not ENOSYS', 'sys:1000', (ret, err) => ret === -1 && err === EPERM],
  ['x32 getpid passes the filter (the kernel may lack x32)', 'sys:0x40000027', (ret, err) => (ret > 0 && err === 0) || err === ENOSYS],
];
if (hasIa32) {
  calls.push(['i386 getpid (int 0x80) allowed by the x86 sub-architecture', 'int80:20', (ret, err) => ret > 0 && err === 0]);
  calls.push(['i386 personality(8) allowed', 'int80:136:8', (ret, err) => ret >= 0 && err === 0]);
  calls.push(['i386 personality(0x400000) refused', 'int80:136:0x400000', (ret, err) => ret === -1 && err === EPERM]);
}

function checkCalls(o: Outcome, via: string): void {
  assert.equal(o.status, 0, `${via}: exit ${o.status} signal ${o.signal}: ${o.stderr}`);
  assert.equal(o.lines.length, calls.length);
  calls.forEach(([what, , ok], i) => {
    const [ret, err] = o.lines[i];
    assert.ok(ok(ret, err), `${via}: ${what}: got ret ${ret} errno ${err}`);
  });
}

test('bpfkit seccomp run: allowed, refused and errno calls behave as the profile says', () => {
  checkCalls(bpfkit('seccomp', 'run', testProfile, '--', probe, ...calls.map((c) => c[1])), 'bpfkit seccomp run');
});

test('bpfkit seccomp run: KILL_PROCESS and TRAP end the process with SIGSYS', () => {
  const killed = bpfkit('seccomp', 'run', testProfile, '--', probe, 'sys:39', 'sys:110', 'sys:39');
  assert.equal(killed.status, 128 + 31, killed.stderr);
  assert.equal(killed.lines.length, 1, 'the call before getppid ran, the one after did not');
  assert.match(killed.stderr, /killed by SIGSYS/);
  const trapped = bpfkit('seccomp', 'run', testProfile, '--', probe, 'sys:111');
  assert.equal(trapped.status, 128 + 31, trapped.stderr);
  assert.equal(trapped.lines.length, 0);
});

test('bpfkit seccomp run: other ABIs get the bad-arch action when the profile lists only x86_64', () => {
  const only64 = profile('only64.json', (p) => { delete p.archMap; p.defaultAction = 'SCMP_ACT_ALLOW'; p.syscalls = []; });
  const ok = bpfkit('seccomp', 'run', only64, '--', probe, 'sys:39');
  assert.equal(ok.status, 0, ok.stderr);
  const x32 = bpfkit('seccomp', 'run', only64, '--', probe, 'sys:39', 'sys:0x40000027');
  assert.equal(x32.status, 128 + 31, x32.stderr);
  assert.equal(x32.lines.length, 1);
  if (hasIa32) {
    const i386 = bpfkit('seccomp', 'run', only64, '--', probe, 'int80:20');
    assert.equal(i386.status, 128 + 31, i386.stderr);
  }
});

test('the raw filter works with bwrap --seccomp', (t) => {
  const why = process.getuid?.() !== 0 ? 'bwrap without user namespaces needs root' : spawnSync('bwrap', ['--version']).error ? 'bwrap not installed' : '';
  if (why) return requireKernel ? assert.fail(why) : t.skip(why);
  const raw = join(dir, 'filter.bpf');
  const c = bpfkit('seccomp', 'compile', testProfile, '--raw', '-o', raw);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(readFileSync(raw).length % 8, 0);
  // As root without user namespaces bwrap needs a mount namespace over the real root.
  const fd = readFileSync(raw);
  const bwrap = (...args: string[]) => {
    const filterFd = fd3(fd);
    try {
      return parse(spawnSync('bwrap', ['--dev-bind', '/', '/', '--seccomp', '3', probe, ...args],
        { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe', filterFd] }));
    } finally {
      closeSync(filterFd);
    }
  };
  checkCalls(bwrap(...calls.map((x) => x[1])), 'bwrap --seccomp');
  const killed = bwrap('sys:110');
  // bwrap reports its child's death by signal N as exit status 128 + N.
  assert.ok(killed.signal === 'SIGSYS' || killed.status === 128 + 31, `status ${killed.status} signal ${killed.signal}`);
  assert.equal(killed.lines.length, 0);
});

/** bwrap reads the filter from fd 3: a file descriptor to put there (as `3<filter.bpf` would). */
function fd3(bytes: Buffer): number {
  const path = join(dir, `fd3-${Math.random().toString(36).slice(2)}.bpf`);
  writeFileSync(path, bytes);
  return openSync(path, 'r');
}
