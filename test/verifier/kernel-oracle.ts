/**
 * A minimal bpf(2) bridge used only by the verifier's differential tests: it
 * creates maps and loads programs into the running kernel to get the real
 * verifier's verdict and log. It exists because src/kernel was not there yet
 * when these tests were written; switch to src/kernel once it lands.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encode, type Insn } from '../../src/isa/index.js';
import type { MapInfo, ProgType } from '../../src/verifier/index.js';

const SYS_BPF = 321; // x86_64
const BPF_MAP_CREATE = 0;
const BPF_PROG_LOAD = 5;

const PROG_TYPE_ID: Partial<Record<ProgType, number>> = {
  socket_filter: 1, kprobe: 2, sched_cls: 3, sched_act: 4, tracepoint: 5, xdp: 6,
  perf_event: 7, cgroup_skb: 8, raw_tracepoint: 17,
};
const MAP_TYPE_ID: Record<MapInfo['type'], number> = {
  hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6,
  lru_hash: 9, devmap: 14, ringbuf: 27,
};

interface Native {
  syscall: (nr: number, cmd: number, attr: Uint8Array, size: number) => number;
  close: (fd: number) => number;
  errno: () => number;
  address: (b: Uint8Array) => bigint;
}

let native: Native | null | undefined;
let unusable = '';

function load(): Native | null {
  if (native !== undefined) return native;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(n: string): { func(sig: string): (...a: unknown[]) => unknown };
      decode(p: unknown, t: string): number;
      address(b: unknown): bigint;
    };
    const libc = koffi.load('libc.so.6');
    const sc = libc.func('long syscall(long nr, long cmd, void *attr, uint32 size)');
    const cl = libc.func('int close(int fd)');
    const er = libc.func('int *__errno_location()');
    native = {
      syscall: (nr, cmd, attr, size) => Number(sc(nr, cmd, attr, size)),
      close: (fd) => Number(cl(fd)),
      errno: () => koffi.decode(er(), 'int'),
      address: (b) => koffi.address(b),
    };
    // Probe: an empty map-create attr fails with EINVAL when bpf(2) is usable.
    const r = native.syscall(SYS_BPF, BPF_MAP_CREATE, new Uint8Array(72), 72);
    if (r >= 0) native.close(r);
    else if (native.errno() === 1) { unusable = 'bpf(2): EPERM'; native = null; }
    else if (native.errno() === 38) { unusable = 'bpf(2): ENOSYS'; native = null; }
  } catch (e) {
    unusable = `koffi unavailable: ${(e as Error).message}`;
    native = null;
  }
  return native;
}

/** Why the kernel cannot be used here, or '' when it can. */
export function kernelUnusableReason(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'needs linux x86_64';
  load();
  return unusable;
}

export interface KernelVerdict {
  readonly accepted: boolean;
  readonly errno: number;
  readonly log: string;
}

function createMap(n: Native, m: MapInfo): number {
  const attr = new Uint8Array(72);
  const dv = new DataView(attr.buffer);
  dv.setUint32(0, MAP_TYPE_ID[m.type], true);
  dv.setUint32(4, m.keySize, true);
  dv.setUint32(8, m.valueSize, true);
  dv.setUint32(12, m.maxEntries, true);
  if (m.name) attr.set(new TextEncoder().encode(m.name.slice(0, 15)), 28);
  const fd = n.syscall(SYS_BPF, BPF_MAP_CREATE, attr, attr.length);
  if (fd < 0) throw new Error(`map create ${m.type} failed: errno ${n.errno()}`);
  return fd;
}

/**
 * Load `insns` as a program of `progType`. Map references are `lddw map_fd`
 * whose imm is an index into `maps`; they are rewritten to real fds.
 */
export function kernelVerify(insns: readonly Insn[], progType: ProgType, maps: readonly MapInfo[] = [], logLevel = 1): KernelVerdict {
  const n = load();
  if (!n) throw new Error(unusable);
  const fds: number[] = [];
  try {
    for (const m of maps) fds.push(createMap(n, m));
    const patched = insns.map((i) => {
      if (i.kind !== 'lddw' || (i.pseudo !== 'map_fd' && i.pseudo !== 'map_value')) return i;
      const idx = Number(i.imm & 0xffffffffn);
      return idx < fds.length ? { ...i, imm: (i.imm & ~0xffffffffn) | BigInt(fds[idx]) } : i;
    });
    const code = encode(patched);
    const license = new TextEncoder().encode('GPL\0');
    const log = new Uint8Array(1 << 22);
    const attr = new Uint8Array(144);
    const dv = new DataView(attr.buffer);
    const type = PROG_TYPE_ID[progType];
    if (type === undefined) throw new Error(`no kernel id for ${progType}`);
    dv.setUint32(0, type, true);
    dv.setUint32(4, code.length / 8, true);
    dv.setBigUint64(8, n.address(code), true);
    dv.setBigUint64(16, n.address(license), true);
    dv.setUint32(24, logLevel, true);
    dv.setUint32(28, log.length, true);
    dv.setBigUint64(32, n.address(log), true);
    const fd = n.syscall(SYS_BPF, BPF_PROG_LOAD, attr, attr.length);
    const errno = fd < 0 ? n.errno() : 0;
    if (fd >= 0) n.close(fd);
    const end = log.indexOf(0);
    return { accepted: fd >= 0, errno, log: new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end)) };
  } finally {
    for (const fd of fds) n.close(fd);
  }
}

/** The kernel's nr_cpu_ids: the highest possible CPU plus one. */
export function possibleCpus(): number {
  try {
    const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    const last = text.split(/[,-]/).pop() ?? '0';
    return Number(last) + 1;
  } catch {
    return 1;
  }
}
