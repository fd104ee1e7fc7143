/**
 * Every attach point against the real kernel: each program counts its hits
 * and the test checks the count moved because of what the test did (and
 * stops moving once the link is closed).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import {
  attachKprobe, attachPerfSampling, attachProgram, attachRawTracepoint, attachSocketFilter, attachTcx,
  attachTracing, attachUprobe, attachXdp, loadCollection, liveLinks, readFunctionSymbols, uprobeOffset,
} from '../../src/kernel/index.js';
import { NotSupportedError } from '../../src/errors/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { hooksSpec, SLOT, u32, u64 } from './hooks.js';
import { createNetNs } from './netns.js';
import { readFileSync } from 'node:fs';

checkFdLeaks();

const spec = hooksSpec();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

kernelTest('raw tracepoint and tp_btf count syscalls, and stop when detached', () => {
  using coll = loadCollection(spec, { programs: ['on_raw_tp', 'on_tp_btf'] });
  const hits = coll.map('hits');
  const raw = attachRawTracepoint(coll.program('on_raw_tp'), 'sys_enter');
  const btf = attachTracing(coll.program('on_tp_btf'));
  spawnSync('/bin/true');
  assert.ok(u64(hits.lookup(u32(SLOT.RAWTP))!) > 0n);
  assert.ok(u64(hits.lookup(u32(SLOT.TP_BTF))!) > 0n);
  assert.ok(liveLinks().includes(raw));
  raw.close();
  btf.close();
  assert.ok(!liveLinks().includes(raw));
  const before = u64(hits.lookup(u32(SLOT.RAWTP))!);
  spawnSync('/bin/true');
  assert.equal(u64(hits.lookup(u32(SLOT.RAWTP))!), before, 'no hits after close');
});

kernelTest('fentry on do_sys_openat2 counts a child\'s opens, or reports NotSupportedError where trampolines are refused', () => {
  let coll;
  try {
    coll = loadCollection(spec, { programs: ['on_fentry'] });
  } catch (e) {
    // Linux 6.18 here refuses fentry with EPERM even for root (tp_btf, same BTF path, loads).
    assert.ok(e instanceof NotSupportedError, String(e));
    assert.match(e.message, /fentry programs \(BPF trampolines\) is not supported: .*EPERM/);
    return;
  }
  using c = coll;
  using link = attachProgram(c.program('on_fentry'), spec.programs.get('on_fentry')!);
  const child = spawnSync('/usr/bin/python3', ['-S', '-c', 'import os\nfor _ in range(50): os.close(os.open("/etc/hostname", os.O_RDONLY))']);
  assert.equal(child.status, 0);
  assert.ok(u64(c.map('by_pid').lookup(u32(child.pid))!) >= 50n);
  void link;
});

kernelTest('kprobes report NotSupportedError saying why', () => {
  using coll = loadCollection(spec, { programs: ['on_kprobe'] });
  assert.throws(() => attachKprobe(coll.program('on_kprobe'), 'do_sys_openat2'), (e: unknown) => {
    assert.ok(e instanceof NotSupportedError);
    assert.match(e.message, /kprobe do_sys_openat2 is not supported: .*CONFIG_KPROBES/);
    return true;
  });
});

kernelTest('uprobe on libc getppid counts a child\'s calls exactly', () => {
  // The libc this very process runs, wherever the distribution keeps it.
  const libc = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1];
  assert.ok(libc, 'libc.so.6 in /proc/self/maps');
  const off = uprobeOffset(libc, 'getppid');
  // Our offset agrees with the dynamic symbol table as readelf prints it.
  const readelf = execFileSync('readelf', ['-Ws', '--dyn-syms', libc], { encoding: 'utf8' });
  const addr = /\s([0-9a-f]+)\s+\d+\s+FUNC\s+\w+\s+\w+\s+\d+\s+getppid(@@\S+)?$/m.exec(readelf);
  assert.ok(addr);
  assert.ok(readFunctionSymbols(new Uint8Array(readFileSync(libc))).some((s) => s.name.startsWith('getppid') && s.address === BigInt(`0x${addr[1]}`)));
  assert.ok(off > 0n);
  using coll = loadCollection(spec, { programs: ['on_uprobe'] });
  using link = attachUprobe(coll.program('on_uprobe'), libc, 'getppid');
  const child = spawnSync('/usr/bin/python3', ['-S', '-c', 'import os\nfor _ in range(300): os.getppid()']);
  assert.equal(child.status, 0);
  assert.equal(u64(coll.map('by_pid').lookup(u32(child.pid))!), 300n);
  void link;
}, );

kernelTest('perf_event sampling on the CPU clock fires on every CPU', async () => {
  using coll = loadCollection(spec, { programs: ['on_sample'] });
  using link = attachPerfSampling(coll.program('on_sample'), { frequency: 1000 });
  const end = Date.now() + 150;
  while (Date.now() < end) { /* keep a CPU busy so samples land */ }
  await sleep(50);
  assert.ok(u64(coll.map('hits').lookup(u32(SLOT.PERF))!) > 10n);
  void link;
});

kernelTest('socket filter attached with SO_ATTACH_BPF drops a UDP socket\'s packets', async () => {
  using coll = loadCollection(spec, { programs: ['on_socket'] });
  const rx = createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const fd = (rx as unknown as { _handle: { fd: number } })._handle.fd;
  let got = 0;
  rx.on('message', () => got++);
  const tx = createSocket('udp4');
  const send = () => new Promise<void>((r) => tx.send('x', rx.address().port, '127.0.0.1', () => r()));
  const link = attachSocketFilter(coll.program('on_socket'), fd);
  for (let i = 0; i < 5; i++) await send();
  await sleep(50);
  assert.equal(got, 0, 'filtered out');
  assert.equal(u64(coll.map('hits').lookup(u32(SLOT.SOCK))!), 5n);
  link.close();
  await send();
  await sleep(50);
  assert.equal(got, 1, 'delivered once detached');
  rx.close();
  tx.close();
});

kernelTest('cgroup skb egress counts a child\'s packets in a new cgroup', () => {
  const cg = `/sys/fs/cgroup/unified/bpfkit-test-${process.pid}`;
  mkdirSync(cg);
  try {
    using coll = loadCollection(spec, { programs: ['on_cgroup'] });
    // Attached by section ('cgroup_skb/egress'), as attachCgroup(prog, cg, 'egress').
    using link = attachProgram(coll.program('on_cgroup'), spec.programs.get('on_cgroup')!, { cgroup: cg });
    const child = spawnSync('/bin/sh', ['-c', `echo $$ > ${cg}/cgroup.procs; exec /usr/bin/python3 -S -c "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(9): s.sendto(b'x',('127.0.0.1',9))"`]);
    assert.equal(child.status, 0, child.stderr.toString());
    assert.equal(u64(coll.map('hits').lookup(u32(SLOT.CGROUP))!), 9n);
    void link;
  } finally {
    rmdirSync(cg);
  }
});

kernelTest('cgroup sock_create sees each socket a child of the cgroup creates', () => {
  const cg = `/sys/fs/cgroup/unified/bpfkit-sock-${process.pid}`;
  mkdirSync(cg);
  try {
    const s = hooksSpec();
    using coll = loadCollection(s, { programs: ['on_sock_create'] });
    using link = attachProgram(coll.program('on_sock_create'), s.programs.get('on_sock_create')!, { cgroup: cg });
    const child = spawnSync('/bin/sh', ['-c', `echo $$ > ${cg}/cgroup.procs; exec /usr/bin/python3 -S -c "import socket\nfor i in range(4): socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()"`]);
    assert.equal(child.status, 0, child.stderr.toString());
    assert.equal(u64(coll.map('hits').lookup(u32(SLOT.SOCK_CREATE))!), 4n);
    void link;
  } finally {
    rmdirSync(cg);
  }
});

kernelTest('XDP (generic and native) and tcx ingress on a veth see the packets sent to it', { timeout: 30000 }, () => {
  using ns = createNetNs('link');
  using coll = loadCollection(spec, { programs: ['on_xdp', 'on_tcx'] });
  const hits = coll.map('hits');
  const send = (n: number) => ns.exec(['/usr/bin/python3', '-S', '-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${n}): s.sendto(b'x',('${ns.hostIp}',9))`]);
  send(1); // resolve ARP first
  for (const mode of ['generic', 'native'] as const) {
    hits.update(u32(SLOT.XDP), new Uint8Array(8));
    hits.update(u32(SLOT.TCX), new Uint8Array(8));
    const x = attachXdp(coll.program('on_xdp'), ns.hostIf, { mode });
    const t = attachTcx(coll.program('on_tcx'), ns.hostIf, 'ingress');
    send(12);
    x.close();
    t.close();
    // Native mode on veth also sees the peer's own traffic (neighbour/IPv6), hence at least.
    assert.ok(u64(hits.lookup(u32(SLOT.XDP))!) >= 12n, `xdp ${mode}`);
    assert.ok(u64(hits.lookup(u32(SLOT.TCX))!) >= 12n, `tcx with xdp ${mode}`);
  }
  writeFileSync('/dev/null', '');
});
