import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, parse, ScriptError, type CompileOptions } from '../../src/trace/index.js';

const OPTS: CompileOptions = {
  catalog: { tracepoints: () => ['syscalls:sys_enter_openat', 'syscalls:sys_enter_read', 'syscalls:sys_exit_read', 'sched:sched_switch'] },
  tracepointFormat: (cat, name) => (cat === 'syscalls' && name === 'sys_enter_openat'
    ? 'name: sys_enter_openat\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n'
    : undefined),
};

/** The rendered error, as bpftrace 0.17 prints it (each expected text was checked against bpftrace here). */
function errorOf(src: string): string {
  try {
    compile(src, OPTS);
  } catch (e) {
    assert.ok(e instanceof ScriptError, `not a ScriptError: ${String(e)}`);
    return e.render(src);
  }
  assert.fail('compiled without error');
}

test('parses probes, predicates and statements', () => {
  const s = parse('tracepoint:syscalls:sys_enter_openat, t:syscalls:sys_enter_read /pid > 1 && comm == "x"/ { @[comm] = count(); $x = 1; if ($x) { @y = 2 } else { @y = 3 } }\nEND { print(@y); }');
  assert.equal(s.probes.length, 2);
  assert.deepEqual(s.probes[0].attachPoints.map((a) => a.text), ['tracepoint:syscalls:sys_enter_openat', 't:syscalls:sys_enter_read']);
  assert.equal(s.probes[0].predicate?.kind, 'binary');
  assert.deepEqual(s.probes[0].body.map((x) => x.kind), ['assign', 'assign', 'if']);
  assert.equal(s.probes[1].loc.line, 2);
});

test('syntax errors carry the position and caret', () => {
  assert.equal(errorOf('BEGIN { $x = 1 + ; }'), 'stdin:1:18-19: ERROR: syntax error, unexpected ;\nBEGIN { $x = 1 + ; }\n                 ~\n');
  assert.equal(errorOf('BEGIN { $x = ; }\nEND {}'), 'stdin:1:14-15: ERROR: syntax error, unexpected ;\nBEGIN { $x = ; }\n             ~\n');
});

test('semantic errors match bpftrace', () => {
  assert.equal(errorOf('BEGIN { @x = foo(1); }'), 'stdin:1:14-17: ERROR: Unknown function: foo\nBEGIN { @x = foo(1); }\n             ~~~\n');
  assert.equal(errorOf('BEGIN { printf("%d\\n"); }'), 'stdin:1:9-23: ERROR: printf: Not enough arguments for format string (0 supplied, 1 expected)\nBEGIN { printf("%d\\n"); }\n        ~~~~~~~~~~~~~~\n');
  assert.equal(errorOf('BEGIN { @x[1] = count(); @x["a"]=count(); }'), 'stdin:1:26-33: ERROR: Argument mismatch for @x: trying to access with arguments: [string[2]] when map expects arguments: [unsigned int64]\nBEGIN { @x[1] = count(); @x["a"]=count(); }\n                         ~~~~~~~\n');
  assert.equal(errorOf('tracepoint:syscalls:nope { }'), 'stdin:1:1-25: ERROR: tracepoint not found: syscalls:nope\ntracepoint:syscalls:nope { }\n~~~~~~~~~~~~~~~~~~~~~~~~\n');
  assert.equal(errorOf('BEGIN { @ = 1 }\nEND { print(@x) }'), 'stdin:2:7-15: ERROR: Undefined map: @x\nEND { print(@x) }\n      ~~~~~~~~\n');
  assert.equal(errorOf('END { $x = 1; $x = "a"; }'), "stdin:1:18-19: ERROR: Type mismatch for $x: trying to assign value of type 'string[2]' when variable already contains a value of type 'int64'\nEND { $x = 1; $x = \"a\"; }\n                 ~\n");
  assert.equal(errorOf('END { @x = count(); @x = sum(1); }'), "stdin:1:21-23: ERROR: Type mismatch for @x: trying to assign value of type 'sum' when map already contains a value of type 'count\nEND { @x = count(); @x = sum(1); }\n                    ~~\n");
  assert.equal(errorOf('END { printf("abc %d", 1, 2) }'), 'stdin:1:7-29: ERROR: printf: Too many arguments for format string (2 supplied, 1 expected)\nEND { printf("abc %d", 1, 2) }\n      ~~~~~~~~~~~~~~~~~~~~~~\n');
});

test('more errors: unsafe functions, unknown fields, multi-line spans', () => {
  assert.match(errorOf('BEGIN { system("ls"); }'), /system\(\) is an unsafe function being used in safe mode/);
  assert.match(errorOf('tracepoint:syscalls:sys_enter_openat { @[args->nope] = count(); }'), /does not contain a field named 'nope'/);
  assert.match(errorOf('BEGIN { @x = $y; }'), /^stdin:1:14-16: ERROR: Undefined or undeclared variable: \$y\n/);
  assert.match(errorOf('BEGIN { "abc }'), /unterminated string/);
  assert.match(errorOf('BEGIN { @ = count(); } tracepoint:nope:* { }'), /No probes matched/);
  assert.match(errorOf('BEGIN { x(1) }'), /Unknown function: x/);
  assert.equal(errorOf('BEGIN {\n  @ = foo(1)\n}'), 'stdin:2:7-10: ERROR: Unknown function: foo\n  @ = foo(1)\n      ~~~\n');
});

test('tabs expand to four spaces in the caret line', () => {
  const src = 'BEGIN {\t@x = foo(1); }';
  assert.equal(errorOf(src), 'stdin:1:14-17: ERROR: Unknown function: foo\nBEGIN {    @x = foo(1); }\n                ~~~\n');
});

test('fuzzed inputs give ScriptError, never a crash', () => {
  const alphabet = ['BEGIN', '{', '}', '(', ')', '@', '$x', '=', '"s"', '1', ';', 'printf', ',', '/', '+', 'count()', 'hist(', 'tracepoint:a:b', '->', '[', ']', '?', ':', 'if', 'else', 'comm', '\n', ' '];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % alphabet.length;
  for (let i = 0; i < 2000; i++) {
    const n = 1 + (i % 12);
    const src = Array.from({ length: n }, () => alphabet[rand()]).join(' ');
    try {
      compile(src, OPTS);
    } catch (e) {
      assert.ok(e instanceof ScriptError, `${JSON.stringify(src)}: ${String((e as Error).stack)}`);
    }
  }
});

test('deep nesting: 150 levels parse; past the limit a ScriptError at the place, never a stack overflow', () => {
  const parens = (n: number): string => `BEGIN { $x = ${'('.repeat(n)}1${')'.repeat(n)}; }`;
  assert.equal(parse(parens(150)).probes.length, 1);
  const cases = [
    parens(20000),
    `BEGIN { $x = ${'!'.repeat(20000)}1; }`,
    `BEGIN { ${'if (1) { '.repeat(5000)}$x = 1;${' }'.repeat(5000)} }`,
    `BEGIN { $x = ${'1 ? '.repeat(5000)}1${' : 2'.repeat(5000)}; }`,
    `BEGIN { if (1) { } ${'else if (1) { } '.repeat(5000)}}`,
  ];
  for (const src of cases) {
    assert.throws(() => parse(src), (e: unknown) => e instanceof ScriptError && /nesting too deep/.test(e.message) && e.loc !== undefined && e.loc.line === 1);
  }
});
