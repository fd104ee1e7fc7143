/**
 * Nothing left behind: 1,000 load/attach/detach/close cycles leave no fd
 * (ours or /proc/self/fd), no program, map or link in the kernel; a
 * process interrupted by SIGINT detaches its links and still dies by the
 * signal.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import { attachRawTracepoint, attachSocketFilter, loadCollection, objectIds, openFds } from '../../src/kernel/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { hooksSpec } from './hooks.js';

checkFdLeaks();

const procFds = (): number => readdirSync('/proc/self/fd').length;

async function gone(kind: 'prog' | 'map' | 'link', ids: ReadonlySet<number>): Promise<number[]> {
  let left: number[] = [];
  for (let tries = 0; tries < 60; tries++) {
    left = objectIds(kind).filter((id) => ids.has(id));
    if (left.length === 0) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
  return left;
}

/**
 * One cycle: load the collection, attach, detach, close. Detaching a
 * bpf_link waits for an RCU grace period in the kernel (about 16 ms for a
 * raw tracepoint here, 30 ms for XDP and tcx), so the 1,000 cycles use a
 * socket filter (SO_ATTACH_BPF, freed without waiting) and a sample of
 * bpf_link cycles runs alongside; BPFKIT_FULL_HYGIENE=1 makes all 1,000
 * cycles bpf_link ones (about 20 s).
 */
async function cycles(n: number, linkEvery: number): Promise<void> {
  // Only what the programs use: a 16 MiB ring buffer per cycle would measure the allocator.
  const full = hooksSpec();
  const spec = { ...full, maps: new Map([['hits', full.maps.get('hits')!]]) };
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const sockFd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
  const fdsBefore = procFds();
  const progs = new Set<number>();
  const maps = new Set<number>();
  const links = new Set<number>();
  for (let i = 0; i < n; i++) {
    const viaLink = i % linkEvery === 0;
    using coll = loadCollection(spec, { programs: [viaLink ? 'on_raw_tp' : 'on_socket'] });
    const prog = coll.program(viaLink ? 'on_raw_tp' : 'on_socket');
    if (viaLink) {
      using link = attachRawTracepoint(prog, 'sys_enter');
      links.add(link.info().id);
    } else {
      using link = attachSocketFilter(prog, sockFd);
      void link;
    }
    if (i % 10 === 0 || viaLink) {
      // Sampled: asking for info costs syscalls of its own.
      progs.add(prog.info().id);
      for (const m of coll.maps.values()) maps.add(m.info().id);
    }
  }
  assert.equal(openFds().length, 0);
  assert.equal(procFds(), fdsBefore, '/proc/self/fd');
  assert.deepEqual(await gone('link', links), [], 'links');
  assert.deepEqual(await gone('prog', progs), [], 'programs');
  assert.deepEqual(await gone('map', maps), [], 'maps');
  assert.ok(links.size > 0);
  // bpftool agrees.
  const listed = (what: string) => new Set((JSON.parse(execFileSync('bpftool', [what, 'list', '--json'], { encoding: 'utf8' })) as { id: number }[]).map((o) => o.id));
  for (const [what, ids] of [['prog', progs], ['map', maps], ['link', links]] as const) {
    const l = listed(what);
    assert.deepEqual([...ids].filter((id) => l.has(id)), [], `bpftool ${what} list`);
  }
  sock.close();
}

kernelTest('1,000 load/attach/detach/close cycles leave no fd, program, map or link behind', { timeout: 120000 }, async () => {
  await cycles(1000, process.env.BPFKIT_FULL_HYGIENE === '1' ? 1 : 20);
});

kernelTest('a process killed by SIGINT leaves no link behind and dies by the signal', { timeout: 30000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'fixtures/sigint-child.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const id = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
  assert.ok(objectIds('link').includes(id), 'the link exists while the child runs');
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  child.kill('SIGINT');
  assert.equal(await exited, 'SIGINT');
  assert.deepEqual(await gone('link', new Set([id])), []);
});
