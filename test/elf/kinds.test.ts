import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Btf } from '../../src/btf/index.js';
import { ATTACH_TYPES, MAP_TYPES, PROGRAM_TYPES, SECTION_DEFS, findSectionDef, attachTarget } from '../../src/elf/index.js';
import { readBytes } from '../helpers/fixtures.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

test('program, attach and map type numbers match the running kernel\'s BTF enums', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF here');
  const btf = Btf.parse(readBytes(VMLINUX));
  const check = (enumName: string, prefix: string, table: Record<string, number>) => {
    const e = btf.findByName(enumName, 'enum')[0];
    assert.ok(e && e.kind === 'enum', enumName);
    const kernel = new Map(e.values.map((v) => [v.name.slice(prefix.length).toLowerCase(), v.value]));
    for (const [name, n] of Object.entries(table)) {
      // Newer names than this kernel knows are allowed; known ones must agree.
      if (kernel.has(name)) assert.equal(n, kernel.get(name), `${enumName}: ${name}`);
    }
    const known = Object.keys(table).filter((k) => kernel.has(k)).length;
    assert.ok(known >= Object.keys(table).length - 2, `${enumName}: only ${known} names known to the kernel`);
  };
  check('bpf_prog_type', 'BPF_PROG_TYPE_', PROGRAM_TYPES);
  check('bpf_map_type', 'BPF_MAP_TYPE_', MAP_TYPES);
  check('bpf_attach_type', 'BPF_', ATTACH_TYPES);
});

test('section names resolve with libbpf\'s matching rules', () => {
  const d = (s: string) => { const x = findSectionDef(s); return x && [x.programType, x.attachType]; };
  assert.deepEqual(d('kprobe/foo'), ['kprobe', 'none']);
  assert.deepEqual(d('kprobe'), ['kprobe', 'none']);
  assert.equal(d('kprobefoo'), undefined); // '+' needs an exact name or a '/'
  assert.deepEqual(d('xdp'), ['xdp', 'xdp']);
  assert.equal(d('xdp/foo'), undefined); // exact names match exactly
  assert.deepEqual(d('xdp.frags/cpumap'), ['xdp', 'xdp_cpumap']);
  assert.deepEqual(d('tc/ingress'), ['sched_cls', 'tcx_ingress']);
  assert.deepEqual(d('fentry.s/x'), ['tracing', 'trace_fentry']);
  assert.deepEqual(d('cgroup/getsockopt'), ['cgroup_sockopt', 'cgroup_getsockopt']);
  assert.deepEqual(d('raw_tp.w/x'), ['raw_tracepoint_writable', 'none']);
  const fentry = findSectionDef('fentry/do_unlinkat')!;
  assert.equal(attachTarget('fentry/do_unlinkat', fentry), 'do_unlinkat');
  assert.equal(attachTarget('fentry', fentry), undefined);
  assert.ok(SECTION_DEFS.length > 100);
  const patterns = SECTION_DEFS.map((x) => x.pattern);
  assert.equal(new Set(patterns).size, patterns.length, 'no duplicate patterns');
});
