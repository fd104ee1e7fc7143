/**
 * Synthetic or recorded events that drive a script on the VM: which probe
 * fired, in which task, with which arguments. A recording is JSON lines,
 * one event per line:
 *   {"probe": "tracepoint:syscalls:sys_enter_openat", "comm": "bash", "pid": 42,
 *    "args": {"filename": "/etc/passwd", "flags": 0}}
 * `repeat` fires the same event several times (a synthetic generator).
 * `kstack` and `ustack` are the stacks kstack/ustack see, innermost first,
 * as addresses ("0xffffffff81234567" strings: JSON numbers lose 64-bit
 * precision). A line {"symbols": [...]} records the names to print them
 * with (see RecordedSymbol); without one, frames print in hex.
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
  readonly kstack?: readonly (number | string)[];
  readonly ustack?: readonly (number | string)[];
}

/**
 * A function of the recorded system: a kernel one, or with `pid` one of
 * that process's (in `module`, as /proc/PID/maps names the file).
 */
export interface RecordedSymbol {
  readonly addr: number | string;
  readonly size: number | string;
  readonly name: string;
  readonly pid?: number;
  readonly module?: string;
}

/** A stack frame's address: a number or a decimal or 0x-hex string. */
export function frameAddress(v: number | string): bigint {
  if (typeof v === 'number') return BigInt.asUintN(64, BigInt(Math.trunc(v)));
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) throw new ScriptError(`events: '${v}' is not an address (0x-hex or decimal)`, undefined);
  return BigInt.asUintN(64, BigInt(v));
}

/** The {"symbols": [...]} lines of a recording. */
export function parseSymbols(text: string): RecordedSymbol[] {
  const out: RecordedSymbol[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t.startsWith('{') || !t.includes('"symbols"')) return;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      return; // parseEvents reports it
    }
    const syms = (v as { symbols?: unknown }).symbols;
    if (!Array.isArray(syms)) return;
    for (const s of syms) {
      const ok = typeof s === 'object' && s !== null && typeof (s as RecordedSymbol).name === 'string' && (s as RecordedSymbol).addr !== undefined && (s as RecordedSymbol).size !== undefined;
      if (!ok) throw new ScriptError(`events line ${i + 1}: a symbol is {"addr", "size", "name"[, "pid", "module"]}`, undefined);
      frameAddress((s as RecordedSymbol).addr);
      out.push(s as RecordedSymbol);
    }
  });
  return out;
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
    if (typeof v === 'object' && v !== null && 'symbols' in v && !('probe' in v)) return;
    if (typeof v !== 'object' || v === null || typeof (v as { probe?: unknown }).probe !== 'string') {
      throw new ScriptError(`events line ${i + 1}: an event is an object with a "probe" name`, undefined);
    }
    out.push(v as TraceEvent);
  });
  return out;
}
