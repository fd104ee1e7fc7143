/** Scripts on the userspace VM, driven by synthetic events: no kernel, no root. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/trace/index.js';
import { parseEvents, parseSymbols } from '../../src/trace/vm/events.js';
import { runOnVm } from '../../src/trace/vm/run.js';

const FORMATS: Record<string, string> = {
  'syscalls:sys_enter_openat': 'name: sys_enter_openat\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n',
  'syscalls:sys_exit_read': 'name: sys_exit_read\nID: 2\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n',
  'sched:sched_process_exec': 'name: sched_process_exec\nID: 3\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n',
};
const tracepointFormat = (c: string, n: string) => FORMATS[`${c}:${n}`];
const catalog = { tracepoints: () => Object.keys(FORMATS) };

function run(src: string, events: string, mode: 'text' | 'json' = 'text'): string {
  const script = compile(src, { catalog, tracepointFormat });
  let out = '';
  runOnVm(script, parseEvents(events), { mode, write: (t) => { out += t; }, tracepointFormat });
  return out;
}

const EVENTS = [
  '{"probe": "tracepoint:syscalls:sys_enter_openat", "comm": "bash", "pid": 42, "args": {"filename": "/etc/passwd", "dfd": -100}, "repeat": 3}',
  '{"probe": "t:syscalls:sys_enter_openat", "comm": "cat", "pid": 43, "args": {"filename": "/etc/hosts"}}',
  '{"probe": "tracepoint:syscalls:sys_exit_read", "comm": "cat", "pid": 43, "args": {"ret": 100}, "repeat": 5}',
  '{"probe": "tracepoint:syscalls:sys_exit_read", "comm": "cat", "pid": 43, "args": {"ret": -2}}',
  '{"probe": "tracepoint:sched:sched_process_exec", "comm": "ls", "pid": 44, "args": {"filename": "/usr/bin/ls", "pid": 44}}',
].join('\n');

test('counts per comm and filenames from char * arguments', () => {
  assert.equal(
    run('tracepoint:syscalls:sys_enter_openat { @[comm] = count(); @f[str(args->filename)] = count(); }', EVENTS),
    'Attaching 1 probe...\n\n\n@[cat]: 1\n@[bash]: 3\n@f[/etc/hosts]: 1\n@f[/etc/passwd]: 3\n',
  );
});

test('printf, predicates, signed fields and BEGIN/END', () => {
  assert.equal(
    run('BEGIN { printf("go\\n"); } t:syscalls:sys_enter_openat /pid == 42/ { printf("%s %d %d\\n", comm, pid, args->dfd); } END { printf("end\\n"); }', EVENTS),
    'Attaching 3 probes...\ngo\nbash 42 -100\nbash 42 -100\nbash 42 -100\nend\n\n\n',
  );
});

test('hist, stats and JSON output', () => {
  assert.equal(
    run('tracepoint:syscalls:sys_exit_read { @r = hist(args->ret); @s = stats(args->ret); }', EVENTS),
    `Attaching 1 probe...\n\n\n@r: \n(..., 0)               1 |${'@'.repeat(10).padEnd(52)}|\n[0]                    0 |${' '.repeat(52)}|\n[1]                    0 |${' '.repeat(52)}|\n[2, 4)                 0 |${' '.repeat(52)}|\n[4, 8)                 0 |${' '.repeat(52)}|\n[8, 16)                0 |${' '.repeat(52)}|\n[16, 32)               0 |${' '.repeat(52)}|\n[32, 64)               0 |${' '.repeat(52)}|\n[64, 128)              5 |${'@'.repeat(52)}|\n\n@s: count 6, average 83, total 498\n\n`,
  );
  assert.equal(
    run('tracepoint:syscalls:sys_exit_read { @s = sum(args->ret); }', EVENTS, 'json'),
    '{"type": "attached_probes", "data": {"probes": 1}}\n\n\n{"type": "map", "data": {"@s": 498}}\n',
  );
});

test('__data_loc strings and exit()', () => {
  assert.equal(
    run('tracepoint:sched:sched_process_exec { printf("%s %d\\n", args->filename, args->pid); exit(); }', EVENTS),
    'Attaching 1 probe...\n/usr/bin/ls 44\n\n\n',
  );
});

test('bad event lines are errors with a line number', () => {
  assert.throws(() => parseEvents('{"probe": "x"}\n{oops'), /events line 2/);
});

test('kstack and ustack on the VM: recorded stacks, named from the recording\'s symbol table (else hex), one map per depth', () => {
  const text = [
    '{"symbols": [{"addr": "0xffffffff81000000", "size": 256, "name": "do_sys_openat2"}, {"addr": "0xffffffff81000100", "size": 64, "name": "do_syscall_64"}, {"pid": 42, "addr": "0x401000", "size": 64, "name": "main", "module": "/bin/app"}, {"pid": 42, "addr": "0x401040", "size": 32, "name": "helper", "module": "/bin/app"}]}',
    '{"probe": "tracepoint:syscalls:sys_exit_read", "pid": 42, "kstack": ["0xffffffff81000010", "0xffffffff81000120"], "ustack": ["0x401044", "0x401008"], "repeat": 2}',
    '{"probe": "tracepoint:syscalls:sys_exit_read", "pid": 42, "kstack": ["0xffffffff81000010", "0xffffffff81000130"], "ustack": ["0x401044", "0x402000"]}',
  ].join('\n');
  const src = 'tracepoint:syscalls:sys_exit_read { @k[kstack(1)] = count(); @k2[kstack] = count(); @u[ustack(perf)] = count(); @s = usym(0x401041); }';
  const script = compile(src, { catalog, tracepointFormat });
  let out = '';
  runOnVm(script, parseEvents(text), { mode: 'text', write: (t) => { out += t; }, tracepointFormat, symbols: parseSymbols(text) });
  assert.equal(out, [
    'Attaching 1 probe...\n\n\n',
    '@k[\n    do_sys_openat2+16\n]: 3\n',
    '@k2[\n    do_sys_openat2+16\n    do_syscall_64+48\n]: 1\n@k2[\n    do_sys_openat2+16\n    do_syscall_64+32\n]: 2\n',
    '@s: helper\n',
    '@u[\n\t401044 helper+4 (/bin/app)\n\t402000 0x402000 ([unknown])\n]: 1\n@u[\n\t401044 helper+4 (/bin/app)\n\t401008 main+8 (/bin/app)\n]: 2\n',
  ].join(''));
  // Without a symbol table every frame is an address; an event without stacks has none (get_stackid fails: nothing prints).
  assert.equal(run('tracepoint:syscalls:sys_exit_read { printf("[%s]|[%s]\\n", kstack(1), ustack(perf, 1)); }', '{"probe": "tracepoint:syscalls:sys_exit_read", "kstack": ["0xffffffff81000010"], "ustack": [4198468]}\n{"probe": "tracepoint:syscalls:sys_exit_read"}'),
    'Attaching 1 probe...\n[\n        0xffffffff81000010\n]|[\n\t401044 0x401044 ([unknown])\n]\n[]|[]\n\n\n');
  assert.throws(() => run('tracepoint:syscalls:sys_exit_read { @ = kstack; }', '{"probe": "tracepoint:syscalls:sys_exit_read", "kstack": ["zz"]}'), /'zz' is not an address/);
});
