/**
 * The examples run for real: each C program is compiled with clang-19,
 * loaded, attached, and what the kernel produced is checked against what
 * the test made happen (processes killed, pings counted, TCP states,
 * syscalls, packets dropped). Network tests run in a namespace they create
 * and always delete.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadCollectionSpec, type CollectionSpec } from '../../src/elf/index.js';
import { attachProgram, attachXdp, loadCollection, RingBufferReader } from '../../src/kernel/index.js';
import { exampleObject, type ExampleName } from '../../examples/build.js';
import { decodeEvent, type TcpStateEvent } from '../../examples/tcpstates/main.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { createNetNs, pingScript } from './netns.js';

checkFdLeaks();

const spec = (name: ExampleName): CollectionSpec => loadCollectionSpec(new Uint8Array(readFileSync(exampleObject(name))));
const u64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

kernelTest('killsecret: a process opening /tmp/secret dies by SIGKILL, others live', () => {
  writeFileSync('/tmp/secret', 'x');
  const s = spec('killsecret');
  using coll = loadCollection(s);
  using link = attachProgram(coll.program('kill_on_open'), s.programs.get('kill_on_open')!);
  const victim = spawnSync('/bin/cat', ['/tmp/secret']);
  const bystander = spawnSync('/bin/cat', ['/etc/hostname']);
  assert.equal(victim.signal, 'SIGKILL');
  assert.equal(bystander.signal, null);
  assert.equal(bystander.status, 0);
  assert.equal(u64(coll.variable('kills')), 1n);
  assert.equal(new DataView(coll.variable('last_pid').slice().buffer).getUint32(0, true), victim.pid);
  void link;
});

kernelTest('killsecret: the target path is a .rodata constant set before load', () => {
  const s = spec('killsecret');
  const ro = s.maps.get('.rodata')!.data!;
  ro.fill(0);
  const path = `/tmp/bpfkit-secret-${process.pid}`;
  ro.set(new TextEncoder().encode(path));
  writeFileSync(path, 'x');
  using coll = loadCollection(s);
  using link = attachProgram(coll.program('kill_on_open'), s.programs.get('kill_on_open')!);
  assert.equal(spawnSync('/bin/cat', [path]).signal, 'SIGKILL');
  assert.equal(spawnSync('/bin/cat', ['/etc/hostname']).status, 0);
  // .rodata is frozen and mapped read-only; its value is what we set.
  assert.equal(new TextDecoder().decode(coll.variable('target').subarray(0, path.length + 1)), `${path}\0`);
  rmSync(path);
  void link;
});

kernelTest('icmpcount: ICMP packets per destination equal the pings sent in a namespace', { timeout: 30000 }, () => {
  using ns = createNetNs('icmp');
  const s = spec('icmpcount');
  using coll = loadCollection(s);
  using link = attachProgram(coll.program('count_icmp'), s.programs.get('count_icmp')!);
  const N = 5;
  const replies = Number(ns.exec(pingScript(ns.hostIp, N)).trim());
  assert.equal(replies, N, 'every ping answered');
  const key = Uint8Array.from(ns.hostIp.split('.').map(Number));
  const back = Uint8Array.from(ns.nsIp.split('.').map(Number));
  assert.equal(u64(coll.map('counts').lookup(key)!), BigInt(N), 'echo requests to the host side');
  assert.equal(u64(coll.map('counts').lookup(back)!), BigInt(N), 'echo replies to the namespace side');
  void link;
});

kernelTest('tcpstates: a loopback connection goes through the expected TCP states', async () => {
  const s = spec('tcpstates');
  using coll = loadCollection(s);
  using link = attachProgram(coll.program('on_state'), s.programs.get('on_state')!);
  using reader = new RingBufferReader(coll.map('events'));
  const events: TcpStateEvent[] = [];
  reader.start((r) => events.push(decodeEvent(r)));
  const server = createServer((sock) => {
    sock.on('end', () => sock.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((r) => client.on('connect', r));
  const cport = client.localPort!;
  client.end();
  await new Promise<void>((r) => client.on('close', () => r()));
  await new Promise<void>((r) => server.close(() => r()));
  await sleep(100);
  reader.consume((r) => events.push(decodeEvent(r)));
  // Follow each socket by its address: the first transition happens before the port is bound.
  const seq = (sport: number, dport: number) => {
    const sk = events.find((e) => e.sport === sport && e.dport === dport)?.skaddr;
    return events.filter((e) => e.skaddr === sk).map((e) => `${e.oldstate}->${e.newstate}`);
  };
  assert.deepEqual(seq(cport, port), ['CLOSE->SYN_SENT', 'SYN_SENT->ESTABLISHED', 'ESTABLISHED->FIN_WAIT1', 'FIN_WAIT1->FIN_WAIT2', 'FIN_WAIT2->CLOSE']);
  assert.deepEqual(seq(port, cport), ['LISTEN->SYN_RECV', 'SYN_RECV->ESTABLISHED', 'ESTABLISHED->CLOSE_WAIT', 'CLOSE_WAIT->LAST_ACK', 'LAST_ACK->CLOSE']);
  assert.ok(events.some((e) => e.sport === port && e.newstate === 'LISTEN'), 'the listening socket');
  void link;
});

kernelTest('syscount: a child making 2000 getppid calls is counted exactly', () => {
  const s = spec('syscount');
  using coll = loadCollection(s);
  using link = attachProgram(coll.program('count_syscalls'), s.programs.get('count_syscalls')!);
  const N = 2000;
  const child = spawnSync('/usr/bin/python3', ['-S', '-c', `import os\nfor _ in range(${N}): os.getppid()`]);
  assert.equal(child.status, 0);
  const GETPPID = process.arch === 'x64' ? 110 : 173;
  const key = new Uint8Array(8);
  new DataView(key.buffer).setUint32(0, child.pid, true);
  new DataView(key.buffer).setUint32(4, GETPPID, true);
  assert.equal(u64(coll.map('counts').lookup(key)!), BigInt(N));
  // Batch lookup sees the same entry and the child's other syscalls.
  const all = coll.map('counts').lookupBatch().filter(([k]) => new DataView(k.buffer).getUint32(0, true) === child.pid);
  assert.ok(all.length > 5, `child made several kinds of syscalls (${all.length})`);
  assert.equal(all.reduce((n, [k, v]) => (new DataView(k.buffer).getUint32(4, true) === GETPPID ? n + u64(v) : n), 0n), BigInt(N));
  void link;
});

kernelTest('xdpdrop: UDP to the chosen port is dropped at XDP and counted', { timeout: 30000 }, () => {
  using ns = createNetNs('xdp');
  const s = spec('xdpdrop');
  const ro = s.maps.get('.rodata')!.data!;
  new DataView(ro.buffer, ro.byteOffset).setUint16(0, 7777, true);
  using coll = loadCollection(s);
  for (const mode of ['generic', 'native'] as const) {
    const stats = coll.map('stats');
    stats.updatePerCpu(Uint8Array.of(0, 0, 0, 0), Array.from({ length: stats.lookupPerCpu(Uint8Array.of(0, 0, 0, 0))!.length }, () => new Uint8Array(8)));
    stats.updatePerCpu(Uint8Array.of(1, 0, 0, 0), Array.from({ length: stats.lookupPerCpu(Uint8Array.of(1, 0, 0, 0))!.length }, () => new Uint8Array(8)));
    using link = attachXdp(coll.program('drop_port'), ns.hostIf, { mode });
    const sendUdp = (port: number, n: number) =>
      ns.exec(['/usr/bin/python3', '-S', '-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${n}): s.sendto(b'x'*32,('${ns.hostIp}',${port}))`]);
    sendUdp(7777, 20);
    sendUdp(7778, 7);
    const sum = (k: number) => stats.lookupPerCpu(Uint8Array.of(k, 0, 0, 0))!.reduce((a, v) => a + u64(v), 0n);
    assert.equal(sum(0), 20n, `${mode}: dropped`);
    assert.equal(sum(1), 7n, `${mode}: passed`);
    void link;
  }
});

kernelTest('the syscount driver (examples/syscount/main.ts) runs and prints pid/count lines', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/syscount/main.ts', '0.3'], { cwd: root, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length > 0 && lines.every((l) => /^\d+\t\d+$/.test(l)), r.stdout);
});
