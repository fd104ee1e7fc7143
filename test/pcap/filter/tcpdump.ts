/**
 * Runs the real tcpdump to compile a filter without capturing: it reads an
 * empty capture file of the wanted link type (so the link type and snaplen
 * come from the file, as `tcpdump -r file -d` does).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SockFilter } from '../../../src/cbpf/insn.js';
import type { LinkType } from '../../../src/pcap/filter/index.js';

const LINKTYPE_NUMBER: Record<LinkType, number> = { EN10MB: 1, RAW: 101, NULL: 0, LOOP: 108, LINUX_SLL: 113, LINUX_SLL2: 276 };

/** Why tcpdump cannot be used here, or undefined if it can. */
export function tcpdumpMissingReason(): string | undefined {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'tcpdump is not installed (apt-get install tcpdump)';
  }
}

export const requireTools = process.env.BPFKIT_REQUIRE_TOOLS === '1' || process.env.CI === 'true';

let dir: string | undefined;
const files = new Map<string, string>();

function emptyCapture(linkType: LinkType, snaplen: number): string {
  const key = `${linkType}/${snaplen}`;
  let f = files.get(key);
  if (f) return f;
  dir ??= mkdtempSync(join(tmpdir(), 'bpfkit-tcpdump-'));
  f = join(dir, `${linkType}-${snaplen}.pcap`);
  const h = new DataView(new ArrayBuffer(24));
  h.setUint32(0, 0xa1b2c3d4, true);
  h.setUint16(4, 2, true);
  h.setUint16(6, 4, true);
  h.setUint32(16, snaplen, true);
  h.setUint32(20, LINKTYPE_NUMBER[linkType], true);
  writeFileSync(f, new Uint8Array(h.buffer));
  files.set(key, f);
  return f;
}

export type TcpdumpResult = { ok: true; program: SockFilter[] } | { ok: false; error: string };

/** `tcpdump -r empty.pcap -dd [-O] EXPR`, parsed. */
export function tcpdumpCompile(expr: string, linkType: LinkType, optimize = true, snaplen = 262144): TcpdumpResult {
  const args = fileArgs(expr, linkType, optimize, snaplen);
  const key = args.join('\0');
  let r = cache.get(key);
  if (!r) {
    r = parseTcpdumpOutput(spawnSync('tcpdump', args, { encoding: 'utf8' }));
    cache.set(key, r);
  }
  return r;
}

/** Results by tcpdump argument list. */
const cache = new Map<string, TcpdumpResult>();

function fileArgs(expr: string, linkType: LinkType, optimize: boolean, snaplen: number): string[] {
  const args = ['-r', emptyCapture(linkType, snaplen), '-dd'];
  if (!optimize) args.push('-O');
  args.push('--', expr);
  return args;
}

function liveArgs(expr: string, optimize: boolean): string[] {
  const args = ['-i', 'lo', '-dd'];
  if (!optimize) args.push('-O');
  args.push('--', expr);
  return args;
}

export interface TcpdumpRequest {
  readonly expr: string;
  readonly linkType?: LinkType;
  readonly optimize: boolean;
  /** Compile as `tcpdump -i lo` (live capture) instead of from a file. */
  readonly live?: boolean;
}

/** Run many tcpdump compilations concurrently (tcpdump -i is slow to start), filling the caches. */
export async function prefetchTcpdump(requests: readonly TcpdumpRequest[], concurrency = 16): Promise<void> {
  const todo = requests
    .map((q) => (q.live ? liveArgs(q.expr, q.optimize) : fileArgs(q.expr, q.linkType ?? 'EN10MB', q.optimize, 262144)))
    .filter((args) => !cache.has(args.join('\0')));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const args = todo[next++]!;
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn('tcpdump', args);
        let stdout = '';
        let stderr = '';
        p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        p.on('error', (e) => resolve({ status: -1, stdout, stderr: String(e) }));
        p.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      cache.set(args.join('\0'), parseTcpdumpOutput(r));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function parseTcpdumpOutput(r: { status: number | null; stdout: string; stderr: string }): TcpdumpResult {
  if (r.status !== 0) {
    const line = r.stderr.split('\n').find((l) => l.startsWith('tcpdump: ')) ?? r.stderr;
    return { ok: false, error: line.replace(/^tcpdump: /, '').trim() };
  }
  const program: SockFilter[] = [];
  for (const m of r.stdout.matchAll(/\{\s*(0x[0-9a-f]+),\s*(\d+),\s*(\d+),\s*(0x[0-9a-f]+)\s*\}/g)) {
    program.push({ code: Number(m[1]), jt: Number(m[2]), jf: Number(m[3]), k: Number(m[4]) >>> 0 });
  }
  return { ok: true, program };
}

/**
 * `tcpdump -i lo -dd [-O] EXPR`: compiles for a live Linux capture (VLAN via
 * skb metadata, SKF_AD_* for inbound/outbound/ifindex). Needs the right to
 * open the loopback interface.
 */
export function tcpdumpCompileLive(expr: string, optimize = true): TcpdumpResult {
  const args = liveArgs(expr, optimize);
  const key = args.join('\0');
  let r = cache.get(key);
  if (!r) {
    r = parseTcpdumpOutput(spawnSync('tcpdump', args, { encoding: 'utf8' }));
    cache.set(key, r);
  }
  return r;
}

/** Why `tcpdump -i lo -d` cannot be used here, or undefined if it can. */
export function liveCompileMissingReason(): string | undefined {
  const missing = tcpdumpMissingReason();
  if (missing) return missing;
  const r = spawnSync('tcpdump', ['-i', 'lo', '-d', 'ip'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `tcpdump -i lo -d fails here: ${r.stderr.trim().split('\n').pop()}`;
}
