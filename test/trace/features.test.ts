/**
 * Features bpftrace 0.17 lacks or cannot run here, checked against output
 * written from bpftrace's documentation: for loops over maps (bpftrace
 * 0.21's `for ($kv : @m)`), buf() with a run-time length, kstack modes'
 * argument checks, join()'s errors, uprobe wildcards, and what this kernel
 * does not support (hardware counters without a PMU). The for loops run on
 * the VM here and on the kernel in kernel/run.test.ts, which must agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, ScriptError } from '../../src/trace/index.js';
import { parseEvents } from '../../src/trace/vm/events.js';
import { runOnVm } from '../../src/trace/vm/run.js';
import { FOR_OUTPUT, FOR_SCRIPT } from './fixtures/for-loop.js';

const FORMATS: Record<string, string> = {
  'syscalls:sys_enter_write': 'name: sys_enter_write\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;\n\tfield:const char * buf;\toffset:24;\tsize:8;\tsigned:0;\n\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;\n',
};
const tracepointFormat = (c: string, n: string) => FORMATS[`${c}:${n}`];
const catalog = { tracepoints: () => Object.keys(FORMATS), userFunctions: (bin: string) => (bin === '/bin/app' ? ['main', 'main_loop', 'helper'] : undefined) };

function vm(src: string, events = '', mode: 'text' | 'json' = 'text'): string {
  const script = compile(src, { catalog, tracepointFormat });
  let out = '';
  runOnVm(script, parseEvents(events), { mode, write: (t) => { out += t; }, tracepointFormat });
  return out;
}

function scriptError(src: string): string {
  try {
    compile(src, { catalog, tracepointFormat });
  } catch (e) {
    if (e instanceof ScriptError) return e.render(src);
    throw e;
  }
  assert.fail(`no error for ${src}`);
}

test('for loops over maps on the VM', () => {
  assert.equal(vm(FOR_SCRIPT), FOR_OUTPUT);
});

test('for loops: the probe context and strings inside the body', () => {
  const out = vm(
    'tracepoint:syscalls:sys_enter_write { @c[comm] = count(); for ($kv : @c) { printf("%s=%d fd=%d\\n", $kv.0, $kv.1, args->fd); } }',
    '{"probe": "tracepoint:syscalls:sys_enter_write", "comm": "sh", "args": {"fd": 3, "buf": "x", "count": 1}}',
  );
  assert.equal(out, 'Attaching 1 probe...\nsh=1 fd=3\n\n\n@c[sh]: 1\n');
});

test('for loop errors', () => {
  assert.equal(scriptError('BEGIN { for ($kv : @none) { } }'), 'stdin:1:20-25: ERROR: Undefined map: @none\nBEGIN { for ($kv : @none) { } }\n                   ~~~~~\n');
  assert.match(scriptError('BEGIN { @h = hist(1); for ($kv : @h) { } }'), /ERROR: for loops over hist\(\) maps are not supported/);
  assert.match(scriptError('BEGIN { @m[1] = 1; for ($kv : @m) { return; } }'), /ERROR: 'return' is not allowed in a for loop body/);
  // The loop variable does not outlive the loop.
  assert.match(scriptError('BEGIN { @m[1] = 1; for ($kv : @m) { } print($kv); }'), /ERROR: Undefined or undeclared variable: \$kv/);
});

test('buf(): %r escapes, a run-time length clamped to the buffer, JSON', () => {
  const ev = '{"probe": "tracepoint:syscalls:sys_enter_write", "comm": "w", "args": {"fd": 1, "buf": "ab\\u0001\\tc\\\\d\\"", "count": 100}}';
  assert.equal(
    vm('tracepoint:syscalls:sys_enter_write { printf("%r|%r\\n", buf(args->buf, 4), buf(args->buf, args->count)); @[buf(args->buf, 2)] = count(); }', ev),
    'Attaching 1 probe...\nab\\x01\\x09|ab\\x01\\x09c\\d"' + '\\x00'.repeat(56) + '\n\n\n@[ab]: 1\n',
  );
  assert.equal(
    vm('tracepoint:syscalls:sys_enter_write { print(buf(args->buf, 3)); }', ev, 'json'),
    '{"type": "attached_probes", "data": {"probes": 1}}\n{"type": "value", "data": "ab\\\\x01"}\n\n\n',
  );
  assert.match(scriptError('BEGIN { printf("%r\\n", 5); }'), /ERROR: printf: %r specifier expects a value of type buffer \(int64 supplied\)/);
  assert.match(scriptError('BEGIN { $p = (uint64)0; print(buf($p)); }'), /ERROR: buf\(\) requires a length argument/);
});

test('kstack and ustack arguments, as bpftrace 0.17 checks them', () => {
  assert.equal(scriptError('BEGIN { print(kstack(3, perf)); }'), 'stdin:1:15-30: ERROR: kstack() expects a stack mode literal (integer provided)\nBEGIN { print(kstack(3, perf)); }\n              ~~~~~~~~~~~~~~~\n');
  assert.match(scriptError('BEGIN { print(ustack(foo)); }'), /ERROR: Unknown identifier: 'foo'/);
  assert.match(scriptError('BEGIN { print(kstack(perf, 0)); }'), /ERROR: kstack: the number of frames must be between 1 and 127/);
  for (const ok of ['kstack', 'kstack(5)', 'kstack(perf)', 'kstack(bpftrace)', 'kstack(perf, 5)', 'ustack(perf, 3)', 'ustack(bpftrace, 1)']) {
    assert.doesNotThrow(() => compile(`tracepoint:syscalls:sys_enter_write { @[${ok}] = count(); }`, { catalog, tracepointFormat }), ok);
  }
});

test('join() errors, as bpftrace 0.17 words them', () => {
  assert.equal(scriptError('BEGIN { $x = join(1); }'), 'stdin:1:14-21: ERROR: join() should not be used in an assignment or as a map key\nBEGIN { $x = join(1); }\n             ~~~~~~~\n');
  assert.match(scriptError('BEGIN { @ = join(1); }'), /ERROR: join\(\) should not be used in an assignment or as a map key/);
  assert.match(scriptError('BEGIN { join(1, 2); }'), /stdin:1:9-19: ERROR: join\(\) expects a string literal \(integer provided\)/);
  assert.match(scriptError('BEGIN { printf("%s\\n", join(1)); }'), /ERROR: printf: %s specifier expects a value of type string \(none supplied\)/);
});

test('uprobe wildcards expand over the binary\'s functions', () => {
  const s = compile('uprobe:/bin/app:main* { @[probe] = count(); }', { catalog, tracepointFormat });
  assert.deepEqual(s.probeNames, ['uprobe:/bin/app:main', 'uprobe:/bin/app:main_loop']);
  assert.match(scriptError('uprobe:/bin/app:nothing* { }'), /ERROR: No probes matched: uprobe:\/bin\/app:nothing\*/);
  assert.match(scriptError('uprobe:/bin/none:x* { }'), /ERROR: Could not read the symbols of \/bin\/none/);
});
