/**
 * The kernel CLI commands against bpftool and the kernel: `prog dump
 * xlated` must print what `bpftool prog dump xlated` prints for the same
 * program; `prog show`/`map show` agree with bpftool's JSON; `prog run`
 * reports the kernel's verdict; `map` commands read and write real maps.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { loadCollection } from '../../src/kernel/index.js';
import type { CommandIo } from '../../src/cli/io.js';
import prog from '../../src/cli/commands/prog.js';
import map from '../../src/cli/commands/map.js';
import feature from '../../src/cli/commands/feature.js';
import { EXAMPLES, exampleObject } from '../../examples/build.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { hooksObject } from './hooks.js';

checkFdLeaks();

async function run(cmd: (argv: string[], io: CommandIo) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await cmd(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), readStdin: async () => new Uint8Array() });
  return { code, out, err };
}

const bpftool = (...args: string[]): string => execFileSync('bpftool', args, { encoding: 'utf8' });

kernelTest('prog dump xlated prints what bpftool prints (headers, source lines, helpers, maps, subprogram calls)', async () => {
  const objects = [...EXAMPLES.map((n) => exampleObject(n)), hooksObject()];
  let compared = 0;
  for (const obj of objects) {
    const spec = loadCollectionSpec(new Uint8Array(readFileSync(obj)));
    // fentry is refused by this kernel and kprobe programs have nothing to show that others lack.
    using coll = loadCollection(spec, { programs: [...spec.programs.keys()].filter((n) => n !== 'on_fentry' && n !== 'on_kprobe') });
    for (const [name, p] of coll.programs) {
      const id = String(p.info().id);
      const ours = (await run(prog, ['dump', 'xlated', 'id', id])).out;
      assert.equal(ours, bpftool('prog', 'dump', 'xlated', 'id', id), name);
      compared++;
    }
  }
  assert.ok(compared >= 15);
});

kernelTest('prog show --json and map show --json agree with bpftool', async () => {
  using coll = loadCollection(loadCollectionSpec(new Uint8Array(readFileSync(exampleObject('xdpdrop')))));
  const id = coll.program('drop_port').info().id;
  const ours = JSON.parse((await run(prog, ['show', 'id', String(id), '--json'])).out);
  const theirs = JSON.parse(bpftool('prog', 'show', 'id', String(id), '--json'));
  for (const k of ['id', 'type', 'name', 'tag', 'bytes_xlated', 'bytes_jited', 'map_ids', 'btf_id', 'loaded_at']) {
    assert.deepEqual(ours[k], theirs[k], `prog ${k}`);
  }
  const mid = coll.map('stats').info().id;
  const m = JSON.parse((await run(map, ['show', 'id', String(mid), '--json'])).out);
  const bm = JSON.parse(bpftool('map', 'show', 'id', String(mid), '--json'));
  for (const k of ['id', 'type', 'name', 'bytes_key', 'bytes_value', 'max_entries', 'btf_id']) assert.deepEqual(m[k], bm[k], `map ${k}`);
  const list = JSON.parse((await run(prog, ['list', '--json'])).out) as { id: number }[];
  assert.ok(list.some((p) => p.id === id));
});

kernelTest('prog run: XDP verdicts from BPF_PROG_TEST_RUN, as JSON', async () => {
  const pkt = (port: number): Uint8Array => {
    const b = new Uint8Array(64);
    b[12] = 0x08; b[13] = 0x00; // IPv4
    b[14] = 0x45; b[23] = 17; // UDP
    b[36] = port >> 8; b[37] = port & 0xff;
    return b;
  };
  const obj = exampleObject('xdpdrop');
  writeFileSync(`/tmp/bpfkit-pkt-${process.pid}`, pkt(9999));
  const drop = JSON.parse((await run(prog, ['run', obj, '--program', 'drop_port', '--data-in', `/tmp/bpfkit-pkt-${process.pid}`, '--repeat', '10', '--json'])).out);
  assert.equal(drop.retval, 1, 'XDP_DROP');
  assert.equal(typeof drop.duration_ns, 'number');
  writeFileSync(`/tmp/bpfkit-pkt-${process.pid}`, pkt(53));
  const pass = JSON.parse((await run(prog, ['run', obj, '--data-in', `/tmp/bpfkit-pkt-${process.pid}`, '--json'])).out);
  assert.equal(pass.retval, 2, 'XDP_PASS');
});

kernelTest('map update, lookup and dump on a live map', async () => {
  using coll = loadCollection(loadCollectionSpec(new Uint8Array(readFileSync(exampleObject('icmpcount')))));
  const id = String(coll.map('counts').info().id);
  assert.equal((await run(map, ['update', 'id', id, 'key', '10', '0', '0', '1', 'value', '5', '0', '0', '0', '0', '0', '0', '0'])).code, 0);
  const got = JSON.parse((await run(map, ['lookup', 'id', id, 'key', '0x0a', '0', '0', '1', '--json'])).out);
  assert.deepEqual(got.value, ['0x05', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00']);
  const dump = (await run(map, ['dump', 'id', id])).out;
  assert.match(dump, /key: 0a 00 00 01 {2}value: 05 00 00 00 00 00 00 00\nFound 1 element\n/);
  // bpftool reads the same value back (formatted with the map's BTF).
  assert.match(bpftool('map', 'lookup', 'id', id, 'key', '10', '0', '0', '1'), /"value": 5\b/);
  assert.equal((await run(map, ['lookup', 'id', id, 'key', '1', '2', '3', '4'])).code, 1);
});

kernelTest('feature --json: what this kernel has, and kprobes missing with the reason', async () => {
  const f = JSON.parse((await run(feature, ['--json'])).out);
  assert.equal(f.program_types.xdp, true);
  assert.equal(f.program_types.tracepoint, true);
  assert.equal(f.map_types.ringbuf, true);
  assert.equal(f.attach.kprobe, false);
  assert.match(f.attach.kprobe_reason, /CONFIG_KPROBES/);
});

kernelTest('load --pin pins every program and map; attach keeps programs attached and prints the maps', async () => {
  const load = (await import('../../src/cli/commands/load.js')).default;
  const attach = (await import('../../src/cli/commands/attach.js')).default;
  const dir = `/sys/fs/bpf/bpfkit-cli-${process.pid}`;
  try {
    const r = await run(load, [exampleObject('syscount'), '--pin', dir, '--json']);
    assert.equal(r.code, 0);
    const j = JSON.parse(r.out) as { programs: { id: number; pinned: string }[]; maps: { id: number; pinned: string }[] };
    // bpftool sees the pinned objects, with the same ids.
    assert.equal(JSON.parse(bpftool('prog', 'show', 'pinned', j.programs[0].pinned, '--json')).id, j.programs[0].id);
    assert.equal(JSON.parse(bpftool('map', 'show', 'pinned', j.maps[0].pinned, '--json')).id, j.maps[0].id);
  } finally {
    execFileSync('rm', ['-rf', dir]);
  }
  const a = await run(attach, [exampleObject('syscount'), '--duration', '0.3', '--json']);
  assert.equal(a.code, 0);
  const lines = a.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines[0].attached, [{ kind: 'raw_tracepoint', target: 'sys_enter' }]);
  assert.ok(lines[1].maps.counts.length > 0, 'syscalls were counted while attached');
});
