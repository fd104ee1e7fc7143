import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, EVENT_KIND, type CompileOptions } from '../../src/trace/index.js';

const OPTS: CompileOptions = { catalog: { tracepoints: () => ['syscalls:sys_enter_read', 'syscalls:sys_enter_write'] } };

test('maps get key and value layouts from every assignment', () => {
  const c = compile('BEGIN { @a[comm, 1] = count(); @h = hist(3); @l[1] = lhist(3, 0, 10, 1); @s = "abc"; @s = str(0); @t = (1, "xy"); @v = avg(2); }', OPTS);
  const m = Object.fromEntries(c.maps.map((x) => [x.name, x]));
  assert.deepEqual(c.maps.map((x) => x.name), ['@a', '@h', '@l', '@s', '@t', '@v']);
  assert.equal(m['@a'].keySize, 24);
  assert.equal(m['@h'].keySize, 16); // zero key + bucket
  assert.equal(m['@l'].keySize, 16);
  assert.equal(m['@s'].valueSize, 64); // the longest string assigned
  assert.equal(m['@t'].valueSize, 16);
  assert.equal(m['@v'].valueSize, 16); // count and total
});

test('programs end with exit and reference maps by index', () => {
  const c = compile('tracepoint:syscalls:sys_enter_read { @[comm] = count(); printf("%d\\n", pid); }', OPTS);
  assert.equal(c.programs.length, 1);
  const p = c.programs[0];
  assert.equal(p.progType, 'tracepoint');
  assert.equal(p.insns[p.insns.length - 1].kind, 'exit');
  const mapRefs = p.insns.filter((i) => i.kind === 'lddw' && i.pseudo === 'map_fd').map((i) => (i.kind === 'lddw' ? Number(i.imm) : -1));
  assert.ok(mapRefs.includes(0), 'uses @');
  assert.ok(mapRefs.includes(c.internal.ringbuf), 'uses the ring buffer');
  assert.equal(p.slotLocs.length, p.insns.reduce((n, i) => n + (i.kind === 'lddw' ? 2 : 1), 0));
  assert.equal(c.formats.length, 1);
  assert.equal(EVENT_KIND.printf, 1);
});

test('attach points share one program unless the block reads per-probe values', () => {
  const shared = compile('t:syscalls:sys_enter_read, t:syscalls:sys_enter_write { @ = count(); }', OPTS);
  assert.equal(shared.programs.length, 1);
  assert.equal(shared.programs[0].probes.length, 2);
  assert.equal(shared.attachCount, 2);
  const split = compile('t:syscalls:sys_enter_* { @[probe] = count(); }', OPTS);
  assert.equal(split.programs.length, 2);
  assert.deepEqual(split.probeNames, ['tracepoint:syscalls:sys_enter_read', 'tracepoint:syscalls:sys_enter_write']);
});

test('dead code after exit() is not emitted (the verifier refuses unreachable instructions)', () => {
  const c = compile('BEGIN { exit(); @x = 1; } interval:s:1 { if (1) { exit(); } else { return; } @y = 2; }', OPTS);
  for (const p of c.programs) {
    const targets = new Set<number>();
    let slot = 0;
    const slots: number[] = [];
    for (const i of p.insns) {
      slots.push(slot);
      if (i.kind === 'jmp' || i.kind === 'ja') targets.add(slot + 1 + i.off);
      slot += i.kind === 'lddw' ? 2 : 1;
    }
    // Every instruction after an unconditional jump or exit must be a jump target.
    p.insns.forEach((i, k) => {
      if ((i.kind === 'ja' || i.kind === 'exit') && k + 1 < p.insns.length) assert.ok(targets.has(slots[k + 1]), `dead code at slot ${slots[k + 1]}`);
    });
  }
});

test('stack use beyond 512 bytes is a script error', () => {
  assert.throws(() => compile('BEGIN { printf("%s %s %s %s %s %s %s %s %s\\n", str(0), str(0), str(0), str(0), str(0), str(0), str(0), str(0), str(0)); }', OPTS), /stack limit/);
});

test('additive aggregations no probe reads back are per-CPU maps, updated without atomics', () => {
  const c = compile('tracepoint:syscalls:sys_enter_read { @c[comm] = count(); @s = sum(2); @h = hist(3); @n = count(); @m = max(1); @r = count(); print(@c); clear(@s); @x = @n; } END { @r2 = @r; }', OPTS);
  const m = Object.fromEntries(c.maps.map((x) => [x.name, x.perCpu]));
  assert.deepEqual(m, { '@c': true, '@s': true, '@h': true, '@n': false, '@m': false, '@r': false, '@r2': false, '@x': false });
  const probe = c.programs.find((p) => p.probes[0].provider === 'tracepoint')!;
  const atomics = probe.insns.filter((i) => i.kind === 'atomic').length;
  assert.equal(atomics, 2, 'only @n and @r (read elsewhere) use atomic adds');
});

test('one stack trace map per distinct (mode, depth), shared by kstack and ustack, as bpftrace has them', () => {
  const c = compile('tracepoint:syscalls:sys_enter_read { @a[kstack(1)] = count(); @b[ustack(1)] = count(); @c[kstack(perf, 2)] = count(); @d[kstack] = count(); @e[ustack(bpftrace, 127)] = count(); }', OPTS);
  const stacks = c.internal.stacks.map((s) => `${s.mode}:${s.limit}`);
  assert.deepEqual(stacks, ['bpftrace:1', 'perf:2', 'bpftrace:127']);
  const indices = c.internal.stacks.map((s) => s.index);
  assert.equal(new Set(indices).size, 3);
  const refs = new Set(c.programs[0].insns.filter((i) => i.kind === 'lddw' && i.pseudo === 'map_fd').map((i) => (i.kind === 'lddw' ? Number(i.imm) : -1)));
  for (const i of indices) assert.ok(refs.has(i), `the program uses stack map ${i}`);
  assert.deepEqual(compile('tracepoint:syscalls:sys_enter_read { @ = count(); }', OPTS).internal.stacks, [], 'no stack map unless used');
});

test('ustack packs the pid above the stack id (bpftrace does: user addresses mean something only in their process)', () => {
  const c = compile('tracepoint:syscalls:sys_enter_read { @[ustack] = count(); }', OPTS);
  const insns = c.programs[0].insns;
  const stackid = insns.findIndex((i) => i.kind === 'call' && i.helper === 27);
  assert.ok(stackid >= 0);
  const after = insns.slice(stackid + 1, stackid + 8);
  assert.ok(after.some((i) => i.kind === 'call' && i.helper === 14), 'get_current_pid_tgid after get_stackid');
  assert.ok(after.some((i) => i.kind === 'alu' && i.op === 'lsh'), 'the pid shifted up 32 bits');
});

test('reg() reads pt_regs in kprobes and uprobes, and is refused elsewhere with bpftrace\'s errors', () => {
  const err = (src: string) => {
    try {
      compile(src, OPTS);
    } catch (e) {
      return (e as Error).message;
    }
    return 'compiled';
  };
  assert.equal(err('uprobe:/bin/sh:main { @ = reg("ip"); }'), 'compiled');
  assert.match(err('uprobe:/bin/sh:main { @ = reg("foo"); }'), /'foo' is not a valid register on this architecture \(x86_64\)/);
  assert.match(err('tracepoint:syscalls:sys_enter_read { @ = reg("ip"); }'), /reg can not be used with "tracepoint" probes/);
  assert.match(err('BEGIN { @ = reg("ip"); }'), /reg can not be used with "BEGIN" probes/);
  assert.match(err('uprobe:/bin/sh:main { @ = reg(1); }'), /reg\(\) expects a string literal \(integer provided\)/);
});
