/** The command line: errors, -d, -l, --dry-run, --vm, and a kernel refusal mapped to the script. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelTest } from '../helpers/kernel.js';
import { runTrace } from './cli-run.js';

test('script errors print the caret display, exit 1, no stack trace', async () => {
  const r = await runTrace(['-e', 'BEGIN { @x = foo(1); }']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'stdin:1:14-17: ERROR: Unknown function: foo\nBEGIN { @x = foo(1); }\n             ~~~\n');
  assert.equal(r.stdout, '');
});

test('script files are named in errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-trace-cli-'));
  try {
    const f = join(dir, 'bad.bt');
    writeFileSync(f, 'BEGIN {\n  printf("%d\\n");\n}\n');
    const r = await runTrace([f]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `${f}:2:3-17: ERROR: printf: Not enough arguments for format string (0 supplied, 1 expected)\n  printf("%d\\n");\n  ~~~~~~~~~~~~~~\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors', async () => {
  const r = await runTrace(['-f', 'yaml', '-e', 'BEGIN {}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Invalid output format "yaml"/);
  assert.equal((await runTrace([])).code, 2);
});

test('-d prints the generated eBPF, --dry-run prints nothing', async () => {
  const d = await runTrace(['-d', '-e', 'BEGIN { @ = count(); exit(); }']);
  assert.equal(d.code, 0);
  assert.match(d.stdout, /^; BEGIN \(raw_tracepoint, \d+ insns\)\n/);
  assert.match(d.stdout, /call 1\b|map_lookup_elem/);
  assert.match(d.stdout, /exit/);
  const dry = await runTrace(['--dry-run', '-e', 'BEGIN { @ = count(); }']);
  assert.deepEqual([dry.code, dry.stdout, dry.stderr], [0, '', '']);
});

test('--vm runs BEGIN and END without the kernel', async () => {
  const r = await runTrace(['--vm', '-e', 'BEGIN { @a = 5; printf("%s %d\\n", "hi", 2 + 3); } END { @b = hist(3); }']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `Attaching 2 probes...\nhi 5\n\n\n@a: 5\n@b: \n[2, 4)                 1 |${'@'.repeat(52)}|\n\n`);
});

kernelTest('a program the verifier refuses names the script line, with the log under -v', async () => {
  const r = await runTrace(['-v', '-e', 'BEGIN { $x = 0;\n  while (1) { $x++; } }']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^stdin:2:\d+-\d+: ERROR: the kernel's verifier refused the program for BEGIN: BPF program is too large/);
  assert.match(r.stderr, /\n  while \(1\) \{ \$x\+\+; \} \}\n +~+\n/);
  assert.match(r.stderr, /processed|Processed/);
});

kernelTest('-l lists tracepoints matching a wildcard, sorted', async () => {
  const r = await runTrace(['-l', 'tracepoint:syscalls:sys_enter_open*']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes('tracepoint:syscalls:sys_enter_openat'));
  assert.deepEqual(lines, [...lines].sort());
  assert.ok(lines.every((l) => l.startsWith('tracepoint:syscalls:sys_enter_open')));
});

kernelTest('kprobes report that this kernel has none', async (t) => {
  const r = await runTrace(['-e', 'kprobe:vfs_read { @ = count(); }']).catch((e: unknown) => ({ code: -1, stdout: '', stderr: String(e) }));
  if (r.code === 0) return t.skip('this kernel has kprobes');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /kprobe vfs_read is not supported/);
});
