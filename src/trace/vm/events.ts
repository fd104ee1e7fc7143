/**
 * Synthetic or recorded events that drive a script on the VM: which probe
 * fired, in which task, with which arguments. A recording is JSON lines,
 * one event per line:
 *   {"probe": "tracepoint:syscalls:sys_enter_openat", "comm": "bash", "pid": 42,
 *    "args": {"filename": "/etc/passwd", "flags": 0}}
 * `repeat` fires the same event several times (a synthetic generator).
 */
import { ScriptError } from '../errors.js';

export interface TraceEvent {
  readonly probe: string;
  readonly comm?: string;
  readonly pid?: number;
  readonly tid?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly cpu?: number;
  /** CLOCK_MONOTONIC ns when it fired (default: 1 ms after the previous event). */
  readonly nsecs?: number;
  /** Tracepoint fields by name; strings for char* and char[] fields. */
  readonly args?: Readonly<Record<string, number | string>>;
  /** arg0..argN of kprobes, uprobes and raw tracepoints. */
  readonly argv?: readonly (number | string)[];
  readonly retval?: number;
  readonly repeat?: number;
}

/** Parse JSON lines; a bad line is an error naming its line number. */
export function parseEvents(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new ScriptError(`events line ${i + 1}: ${(e as Error).message}`, undefined);
    }
    if (typeof v !== 'object' || v === null || typeof (v as { probe?: unknown }).probe !== 'string') {
      throw new ScriptError(`events line ${i + 1}: an event is an object with a "probe" name`, undefined);
    }
    out.push(v as TraceEvent);
  });
  return out;
}
