import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { fixture, run } from '../helpers/fixtures.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, readStdin: async () => new Uint8Array() });
  return { code, out, err };
}

test('inspect --json lists programs, maps, globals and BTF', async () => {
  const r = await cli(['inspect', await fixture('maps'), '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.license, 'Dual BSD/GPL');
  assert.deepEqual(j.programs.map((p: { name: string; insns: number }) => p.name), ['tail_a', 'tail_b', 'entry']);
  const flows = j.maps.find((m: { name: string }) => m.name === 'flows');
  assert.deepEqual([flows.type, flows.key_size, flows.value_size, flows.max_entries, flows.flags], ['hash', 8, 8, 1024, 1]);
  assert.ok(j.btf.types > 10);
  const g = JSON.parse((await cli(['inspect', await fixture('globals'), '--json'])).out);
  const threshold = g.globals.find((x: { name: string }) => x.name === 'threshold');
  assert.equal(threshold.section, '.rodata');
  assert.match((await cli(['inspect', await fixture('globals'), '--json'])).out, /"value": 1234605616436508552/);
});

test('inspect text output and errors', async () => {
  const r = await cli(['inspect', await fixture('subprogs')]);
  assert.equal(r.code, 0);
  assert.match(r.out, /xdp_main\s+xdp\s+xdp\s+xdp\s+32\s+cube,square,global_add/);
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const notElf = `${mkdtempSync(`${tmpdir()}/bpfkit-`)}/not-elf.o`;
  writeFileSync(notElf, 'hello, this is not an ELF object\n'.repeat(4));
  const bad = await cli(['inspect', notElf]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^bpfkit: ELF\+0x0: /);
  assert.equal((await cli(['inspect'])).code, 2);
});

test('btf dump --format raw matches bpftool; c and json formats', async () => {
  const obj = await fixture('core');
  const raw = await cli(['btf', 'dump', obj, '--format', 'raw']);
  assert.equal(raw.code, 0, raw.err);
  assert.equal(raw.out, run('bpftool', ['btf', 'dump', 'file', obj, 'format', 'raw']));
  const c = await cli(['btf', 'dump', obj, '--format', 'c']);
  assert.match(c.out, /^#ifndef __VMLINUX_H__/);
  assert.match(c.out, /struct task_struct \{/);
  const j = JSON.parse((await cli(['btf', 'dump', obj, '--format', 'json'])).out);
  assert.deepEqual(j, JSON.parse(run('bpftool', ['-j', 'btf', 'dump', 'file', obj])));
  assert.equal((await cli(['btf', 'dump', obj, '--format', 'xml'])).code, 2);
});
