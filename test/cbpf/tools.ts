/** Reference tools for the cBPF tests: tcpdump, and libpcap's bpf_dump via a small C program. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SockFilter } from '../../src/cbpf/index.js';

/** Path of a C helper from ./fixtures, built once per source hash (clang-19 is required, and libpcap-dev for bpf-dump). */
export function cTool(name: 'bpf-dump' | 'attach-filter' | 'bpf-filter' | 'udp-filter' | 'packet-filter'): string {
  const source = new URL(`./fixtures/${name}.c`, import.meta.url).pathname;
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const bin = join(tmpdir(), `bpfkit-${name}-${hash}`);
  if (!existsSync(bin)) {
    const tmp = `${bin}.${process.pid}`;
    execFileSync('clang-19', ['-O1', '-o', tmp, source, ...(name === 'bpf-dump' || name === 'bpf-filter' ? ['-lpcap'] : [])]);
    renameSync(tmp, bin);
  }
  return bin;
}

/** The errno SO_ATTACH_FILTER gives for each program (0: accepted). */
export function kernelAttachErrnos(programs: readonly (readonly SockFilter[])[]): number[] {
  const input = programs.map((p) => [p.length, ...p.map((f) => `${f.code} ${f.jt} ${f.jf} ${f.k >>> 0}`)].join(' ')).join('\n') + '\n';
  const out = execFileSync(cTool('attach-filter'), [], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.trim().split('\n').map(Number);
}

/** libpcap's own listing of a program. */
export function libpcapDump(filter: readonly SockFilter[], level: 1 | 2 | 3): string {
  const input = filter.map((f) => `${f.code} ${f.jt} ${f.jf} ${f.k >>> 0}`).join('\n') + '\n';
  return execFileSync(cTool('bpf-dump'), [String(level)], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** `tcpdump -y LINKTYPE -d EXPR` output (compiled without a capture device). */
export function tcpdumpListing(expr: string, level: 1 | 2 | 3, linkType = 'EN10MB'): string {
  const flag = ['-d', '-dd', '-ddd'][level - 1];
  return execFileSync('tcpdump', ['-y', linkType, flag, expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** libpcap's bpf_filter result for each (program, packet, wire length) case. */
export function libpcapFilter(cases: readonly { prog: readonly SockFilter[]; packet: Uint8Array; wirelen: number }[]): number[] {
  const lines = cases.map(({ prog, packet, wirelen }) =>
    [prog.length, ...prog.map((f) => `${f.code} ${f.jt} ${f.jf} ${f.k >>> 0}`), wirelen, packet.length, ...packet].join(' '));
  const out = execFileSync(cTool('bpf-filter'), [], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.trim().split('\n').map(Number);
}

export interface UdpFilterResult {
  readonly sport: number;
  readonly dport: number;
  /** Payload bytes delivered to the socket, or -1 when the filter dropped the datagram. */
  readonly received: number;
}

/**
 * Run classic filters in the kernel: each is attached to a UDP socket on
 * 127.0.0.1 that is sent one datagram (checksum off). The filter sees the
 * skb from the UDP header on.
 */
export function kernelUdpFilter(cases: readonly { prog: readonly SockFilter[]; payload: Uint8Array }[]): UdpFilterResult[] {
  const lines = cases.map(({ prog, payload }) =>
    [prog.length, ...prog.map((f) => `${f.code} ${f.jt} ${f.jf} ${f.k >>> 0}`), payload.length, ...payload].join(' '));
  const out = execFileSync(cTool('udp-filter'), [], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.trim().split('\n').map((l) => {
    const [sport, dport, received] = l.split(' ').map(Number);
    if (Number.isNaN(received)) throw new Error(`udp-filter: ${l}`);
    return { sport, dport, received };
  });
}

/**
 * Run classic filters in the kernel on whole frames (from the link header,
 * as libpcap's filters see them): SO_ATTACH_FILTER on a packet socket on the
 * loopback of a fresh network namespace (see fixtures/packet-filter.c). For
 * each program, per frame: the bytes delivered (min(result, length)) or -1;
 * or the errno of a refused attach. Throws with the reason when the setup fails.
 */
export function kernelPacketFilter(frames: readonly Uint8Array[], programs: readonly (readonly SockFilter[])[]): (number[] | { errno: number })[] {
  const input = [String(frames.length), ...frames.map((f) => [f.length, ...f].join(' ')),
    ...programs.map((p) => [p.length, ...p.map((f) => `${f.code} ${f.jt} ${f.jf} ${f.k >>> 0}`)].join(' '))].join('\n') + '\n';
  const out = execFileSync(cTool('packet-filter'), [], { input, encoding: 'utf8', maxBuffer: 256 << 20 }).split('\n');
  if (out[0] !== 'ready') throw new Error(`packet-filter: ${out[0]}`);
  const lines = out.slice(1, 1 + programs.length);
  if (lines.length !== programs.length || lines.some((l) => l.startsWith('error'))) throw new Error(`packet-filter: ${out.slice(1).find((l) => l.startsWith('error')) ?? 'short output'}`);
  return lines.map((l) => (l.startsWith('attach ') ? { errno: Number(l.slice(7)) } : l.split(' ').map(Number)));
}
