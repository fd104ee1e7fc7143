/**
 * The user-space half of a running script, whatever runs the programs:
 * decodes event records (printf, exit, print, time...), prints them in
 * text or JSON, and prints maps at the end, as bpftrace does.
 */
import { EVENT_KIND, JOIN_ARG_SIZE, JOIN_ARGS, type CompiledScript } from './compiled.js';
import { cString, formatMap, jsonEscape, valueToString, type MapEntry, type OutputMode, type Resolver } from './output.js';
import { conversions, formatPrintf, type FormatValue } from './printf-format.js';
import { strftime } from './strftime.js';
import { hexPointer } from './user-symbols.js';
import type { TType } from './types.js';

/** What the session needs from the backend holding the maps. */
export interface MapAccess {
  entries(mapIndex: number): MapEntry[];
  clear(mapIndex: number): void;
  zero(mapIndex: number): void;
}

export interface SessionHooks {
  /** Run a command for system() (only with --unsafe). */
  system?(command: string): string;
  /** Wall-clock time now, for time(); injectable for tests. */
  now?(): Date;
  /** CLOCK_MONOTONIC ns -> wall clock, for strftime(). */
  monotonicToDate?(ns: bigint): Date;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export class TraceSession {
  /** Set by an exit() event: the driver should stop, run END and print maps. */
  exitRequested = false;
  /** Set once END runs: its events print again after an exit(). */
  private inEnd = false;

  constructor(
    readonly script: CompiledScript,
    readonly mode: OutputMode,
    private readonly write: (text: string) => void,
    private readonly maps: MapAccess,
    readonly resolver: Resolver,
    private readonly hooks: SessionHooks = {},
  ) {}

  attached(): void {
    const n = this.script.attachCount;
    this.write(this.mode === 'json' ? `{"type": "attached_probes", "data": {"probes": ${n}}}\n` : `Attaching ${n} probe${n === 1 ? '' : 's'}...\n`);
  }

  private message(type: string, text: string): void {
    this.write(this.mode === 'json' ? `{"type": "${type}", "data": "${jsonEscape(text)}"}\n` : text);
  }

  private argValue(t: TType, rec: Uint8Array, off: number): FormatValue {
    if (t.kind === 'int') {
      const v = dv(rec).getBigUint64(off, true);
      return t.signed ? BigInt.asIntN(64, v) : v;
    }
    if (t.kind === 'ptr' || t.kind === 'agg') return dv(rec).getBigUint64(off, true);
    if (t.kind === 'string') return cString(rec, off, t.size);
    return valueToString(t, rec, off, 'text', this.resolver);
  }

  /** One record from the ring buffer (or the VM's output). */
  handleEvent(rec: Uint8Array): void {
    if (rec.length < 8) return;
    // After exit(), bpftrace drops what other probe runs had already queued; END's own output still prints.
    if (this.exitRequested && !this.inEnd) return;
    const tag = dv(rec).getBigUint64(0, true);
    const kind = Number(tag >> 32n);
    const index = Number(tag & 0xffffffffn);
    switch (kind) {
      case EVENT_KIND.printf: case EVENT_KIND.system: case EVENT_KIND.cat: {
        const f = this.script.formats[index];
        const convs = conversions(f.parts);
        const values = f.argTypes.map((t, i) => {
          const v = this.argValue(t, rec, f.offsets[i]);
          // %s of an integer prints the number; %d of a string is rejected at compile time.
          return convs[i]?.conv === 's' && typeof v === 'bigint' ? v.toString() : v;
        });
        const text = formatPrintf(f.parts, values);
        if (kind === EVENT_KIND.printf) this.message('printf', text);
        else if (kind === EVENT_KIND.system) this.message('system', this.hooks.system ? this.hooks.system(text) : '');
        return;
      }
      case EVENT_KIND.join: {
        const count = Math.min(JOIN_ARGS, Number(dv(rec).getBigUint64(8, true)));
        const parts: string[] = [];
        for (let i = 0; i < count; i++) parts.push(cString(rec, 16 + i * JOIN_ARG_SIZE, JOIN_ARG_SIZE));
        const text = parts.join(this.script.joinSeparators[index] ?? ' ');
        this.write(this.mode === 'json' ? `{"type": "join", "data": "${jsonEscape(text)}"}\n` : `${text}\n`);
        return;
      }
      case EVENT_KIND.exit:
        this.exitRequested = true;
        return;
      case EVENT_KIND.print_map: {
        const p = this.script.mapPrints[index];
        if (p) this.printMap(p.map, p.top, p.div);
        return;
      }
      case EVENT_KIND.clear:
        this.maps.clear(index);
        return;
      case EVENT_KIND.zero:
        this.maps.zero(index);
        return;
      case EVENT_KIND.time: {
        const now = this.hooks.now?.() ?? new Date();
        this.message('time', strftime(this.script.timeFormats[index], now));
        return;
      }
      case EVENT_KIND.print_value: {
        const t = this.script.printValues[index];
        const s = valueToString(t, rec, 8, this.mode, this.resolver);
        this.write(this.mode === 'json' ? `{"type": "value", "data": ${s}}\n` : `${s}\n`);
        return;
      }
    }
  }

  printMap(index: number, top = 0, div = 1): void {
    const map = this.script.maps[index];
    if (!map) return;
    this.write(formatMap(map, this.maps.entries(index), this.mode, this.resolver, { top, div }));
  }

  /** END is about to run: print its events even after an exit(). */
  runningEnd(): void {
    this.inEnd = true;
  }

  /** The end of a run: a blank-line pair, then every map by name. */
  finish(): void {
    this.write('\n\n');
    for (let i = 0; i < this.script.maps.length; i++) this.printMap(i);
  }
}

/** Resolves what it can without a system (probe names); the rest prints as numbers. */
export function basicResolver(script: CompiledScript, extra: Partial<Resolver> = {}): Resolver {
  return {
    probeName: (id) => script.probeNames[id] ?? `probe ${id}`,
    ksym: (a) => `0x${a.toString(16)}`,
    usym: (a) => hexPointer(a),
    stack: () => undefined,
    username: (uid) => String(uid),
    timestamp: (i, ns) => strftime(script.timeFormats[i] ?? '', new Date(Number(ns / 1000000n)), Number((ns / 1000n) % 1000000n)),
    ...extra,
  };
}
