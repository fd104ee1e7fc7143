/**
 * uprobes and uretprobes: a perf event of the uprobe PMU
 * (/sys/bus/event_source/devices/uprobe/type) at a file offset of a
 * binary, found from its ELF symbols, attached through a bpf_link.
 */
import { readFileSync } from 'node:fs';
import { NotSupportedError } from '../../errors/index.js';
import { KernelArgumentError } from '../errors.js';
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import type { Sys } from '../sys.js';
import { readFunctionSymbols } from './elf-symbols.js';
import type { FdLink } from './link.js';
import { perfEventOpen } from './perf-event.js';
import { attachPerfEvent } from './tracepoint.js';

const UPROBE_PMU = '/sys/bus/event_source/devices/uprobe';

export interface UprobeOptions {
  readonly retprobe?: boolean;
  /** Only this process (default: every process running the binary). */
  readonly pid?: number;
  /** Bytes past the symbol's start. */
  readonly offset?: bigint;
  readonly cookie?: bigint;
  readonly sys?: Sys;
}

/** The file offset of function `symbol` in the binary at `path` (or a numeric offset given as "0x..."). */
export function uprobeOffset(path: string, symbol: string): bigint {
  if (/^0x[0-9a-f]+$/i.test(symbol)) return BigInt(symbol);
  const syms = readFunctionSymbols(new Uint8Array(readFileSync(path)), path).filter((s) => s.name === symbol || s.name.startsWith(`${symbol}@@`));
  if (syms.length === 0) throw new KernelArgumentError(`${path}: no function symbol '${symbol}'`);
  return syms[0].fileOffset;
}

/** Attach a uprobe (or uretprobe) program at `symbol` of the binary at `path`. */
export function attachUprobe(prog: Program, path: string, symbol: string, opts: UprobeOptions = {}): FdLink {
  const sys = opts.sys ?? nativeSys;
  let type: number;
  try {
    type = Number(readFileSync(`${UPROBE_PMU}/type`, 'utf8').trim());
  } catch (e) {
    throw new NotSupportedError('uprobes', `no uprobe PMU at ${UPROBE_PMU} (kernel without CONFIG_UPROBE_EVENTS)`, { cause: e });
  }
  const offset = uprobeOffset(path, symbol) + (opts.offset ?? 0n);
  // The retprobe bit's position is in format/retprobe ("config:0").
  let retBit = 0n;
  if (opts.retprobe) {
    const m = /config:(\d+)/.exec(readFileSync(`${UPROBE_PMU}/format/retprobe`, 'utf8'));
    retBit = 1n << BigInt(m ? Number(m[1]) : 0);
  }
  const pid = opts.pid ?? -1;
  const fd = perfEventOpen({
    type,
    config: retBit,
    config1: new TextEncoder().encode(`${path}\0`),
    config2: offset,
    pid,
    cpu: pid >= 0 ? -1 : 0,
  }, sys);
  return attachPerfEvent(prog, fd, 'uprobe', `${opts.retprobe ? 'uretprobe' : 'uprobe'}:${path}:${symbol}`, sys, opts.cookie);
}
