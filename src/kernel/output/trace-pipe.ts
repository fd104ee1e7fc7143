/**
 * bpf_printk output: lines of /sys/kernel/tracing/trace_pipe, parsed into
 * task, pid, cpu, timestamp and message. The pipe is read with a Node
 * stream (a blocking read on libuv's thread pool), so nothing spins.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { tracefs } from '../link/tracefs.js';

export interface TraceLine {
  readonly task: string;
  readonly pid: number;
  readonly cpu: number;
  /** Seconds, as printed. */
  readonly timestamp: number;
  readonly message: string;
  readonly raw: string;
}

const LINE = /^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S*\s*([\d.]+):\s+(?:bpf_trace_printk|\S+):\s?(.*)$/;

export function parseTraceLine(raw: string): TraceLine | undefined {
  const m = LINE.exec(raw);
  if (!m) return undefined;
  return { task: m[1], pid: Number(m[2]), cpu: Number(m[3]), timestamp: Number(m[4]), message: m[5], raw };
}

/** Lines from trace_pipe until the returned stream is destroyed. */
export function readTracePipe(onLine: (line: TraceLine) => void): ReadStream {
  const stream = createReadStream(`${tracefs()}/trace_pipe`, { encoding: 'utf8' });
  const rl = createInterface({ input: stream });
  rl.on('line', (l) => {
    const p = parseTraceLine(l);
    if (p) onLine(p);
  });
  return stream;
}
