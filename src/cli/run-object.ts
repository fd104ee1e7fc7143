/**
 * `bpfkit run OBJECT.o --program NAME ...`: run a program of an ELF object
 * on the userspace VM, with its maps. With --pcap it runs an XDP, tc or
 * socket-filter program over every packet of a capture (streaming, flat
 * memory), counts the verdicts, optionally writes the packets that pass
 * (as the program left them) to --out, and prints the maps at the end.
 * Without --pcap, --mem-file / --mem run it with the conformance convention
 * (r1 = memory, r2 = its length).
 */
import { closeSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { BpfkitError } from '../errors/index.js';
import { loadCollectionSpec } from '../elf/index.js';
import { stringifyBtfJson } from '../btf/index.js';
import { CaptureParser, LINKTYPE, PcapError, PcapWriter, type CapturedPacket } from '../pcap/index.js';
import { tcActionName, xdpActionName } from '../progtypes/index.js';
import { loadCollection, type MapDump, type VmCollection, type VmProgram } from '../runtime/index.js';
import { DEFAULT_ENGINE, isEngine, type Engine } from '../vm/index.js';
import { ArgvReader } from './argv.js';
import { UsageError, type CommandIo } from './io.js';

const USAGE = `Usage: bpfkit run OBJECT.o [--program NAME] [--pcap IN [--out OUT]] [--mem-file F | --mem HEX]
                  [--engine interp|jit] [--repeat N] [--budget N] [--cpus N] [--skb-start l2|l3] [--json]

Run a program of an ELF object on the userspace VM.
  --program NAME  the program to run (needed when the object has several)
  --pcap IN       run an XDP, tc or socket-filter program on every packet of a capture
  --out OUT       write the packets that pass (as the program left them) to a pcap file
  --mem-file F    run with r1 = a copy of F's bytes, r2 = its length
  --mem HEX       the same with memory given as hex bytes
  --repeat N      (memory runs) run N times and report the mean time per run
  --engine E      jit (WebAssembly, the default) or interp (the reference interpreter)
  --skb-start S   where skb->data starts for socket filters: l2 (default, as on a packet socket) or l3
  --json          machine-readable output
`;

/** A run that cannot proceed (wrong program type for a capture, unsupported link type). */
export class RunObjectError extends BpfkitError {
  readonly code = 'RUN_OBJECT';
}

interface Options {
  file: string;
  program: string | undefined;
  pcap: string | undefined;
  out: string | undefined;
  mem: Uint8Array | undefined;
  engine: Engine;
  repeat: number;
  budget: number | undefined;
  cpus: number;
  skbStart: 'l2' | 'l3';
  json: boolean;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} takes a positive integer, not '${v}'`);
  return n;
}

function parseHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length % 2 !== 0) throw new UsageError(`--mem: '${text}' is not a sequence of hex bytes`);
  return new Uint8Array((clean.match(/../g) ?? []).map((h) => parseInt(h, 16)));
}

function parseArgs(argv: string[]): Options | undefined {
  const o: Options = {
    file: '', program: undefined, pcap: undefined, out: undefined, mem: undefined, engine: DEFAULT_ENGINE, repeat: 1,
    budget: undefined, cpus: 1, skbStart: 'l2', json: false,
  };
  let file: string | undefined;
  for (const r = new ArgvReader(argv); r.next();) {
    const a = r.arg;
    switch (r.flag) {
      case '--help': case '-h': return undefined;
      case '--program': case '-p': o.program = r.value(); break;
      case '--pcap': o.pcap = r.value(); break;
      case '--out': o.out = r.value(); break;
      case '--mem-file': o.mem = new Uint8Array(readFileSync(r.value())); break;
      case '--mem': o.mem = parseHex(r.value()); break;
      case '--engine': {
        const e = r.value();
        if (!isEngine(e)) throw new UsageError(`--engine takes interp or jit, not '${e}'`);
        o.engine = e;
        break;
      }
      case '--repeat': o.repeat = positiveInt('--repeat', r.value()); break;
      case '--budget': o.budget = positiveInt('--budget', r.value()); break;
      case '--cpus': o.cpus = positiveInt('--cpus', r.value()); break;
      case '--skb-start': {
        const s = r.value();
        if (s !== 'l2' && s !== 'l3') throw new UsageError(`--skb-start takes l2 or l3, not '${s}'`);
        o.skbStart = s;
        break;
      }
      case '--json': o.json = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`run: unknown option '${a}'`);
        if (file !== undefined) throw new UsageError(`run: one object file expected, got '${file}' and '${a}'`);
        file = a;
    }
  }
  if (file === undefined) throw new UsageError('run: missing OBJECT file');
  if (o.out !== undefined && o.pcap === undefined) throw new UsageError('--out needs --pcap');
  if (o.pcap !== undefined && o.mem !== undefined) throw new UsageError('--pcap and --mem-file/--mem exclude each other');
  o.file = file;
  return o;
}

function pickProgram(coll: VmCollection, file: string, name: string | undefined): VmProgram {
  if (name !== undefined) return coll.program(name);
  const all = [...coll.programs.values()];
  if (all.length === 1) return all[0];
  throw new UsageError(`${file} has ${all.length} programs (${all.map((p) => p.name).join(', ')}): choose one with --program`);
}

function mapsText(maps: MapDump[]): string {
  let s = '';
  for (const m of maps) {
    if (m.type === 'prog_array' || m.type === 'ringbuf' || m.type === 'perf_event_array') continue;
    s += `map '${m.name}' (${m.type}): ${m.entries.length} entr${m.entries.length === 1 ? 'y' : 'ies'}\n`;
    for (const e of m.entries) {
      if (e.formatted) s += `  ${stringifyBtfJson(e.formatted.key)}: ${stringifyBtfJson(e.formatted.value)}\n`;
      else s += `  key: ${e.key.join(' ')}  value: ${e.value.join(' ')}\n`;
    }
  }
  return s;
}

function mapsJson(maps: MapDump[]): string {
  return `[${maps.map((m) => `{"name":${JSON.stringify(m.name)},"type":${JSON.stringify(m.type)},"entries":[${m.entries.map((e) =>
    `{"key":${JSON.stringify(e.key)},"value":${JSON.stringify(e.value)}${e.formatted ? `,"formatted":{"key":${stringifyBtfJson(e.formatted.key)},"value":${stringifyBtfJson(e.formatted.value)}}` : ''}}`).join(',')}]}`).join(',')}]`;
}

/** Buffered, synchronous file output (flat memory for any capture size). */
class FileSink {
  private readonly fd: number;
  private buf = new Uint8Array(1 << 20);
  private used = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  /** One pcap record (16-byte header, then the data) straight into the buffer. */
  writeRecord(seconds: number, fraction: number, data: Uint8Array, wirelen: number): void {
    const n = 16 + data.length;
    if (this.used + n > this.buf.length) this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(n);
    const v = new DataView(this.buf.buffer, this.used, 16);
    v.setUint32(0, seconds, true);
    v.setUint32(4, fraction, true);
    v.setUint32(8, data.length, true);
    v.setUint32(12, wirelen, true);
    this.buf.set(data, this.used + 16);
    this.used += n;
  }

  write(b: Uint8Array): void {
    if (this.used + b.length > this.buf.length) this.flush();
    if (b.length > this.buf.length) {
      writeSync(this.fd, b);
      return;
    }
    this.buf.set(b, this.used);
    this.used += b.length;
  }
  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * Packets of a capture file, read synchronously in 1 MiB chunks: flat
 * memory for any size, and no promise per packet.
 */
function* captureFile(path: string): Generator<CapturedPacket, void, undefined> {
  const fd = openSync(path, 'r');
  try {
    const parser = new CaptureParser();
    for (;;) {
      const chunk = new Uint8Array(1 << 20);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      parser.push(chunk.subarray(0, n));
      for (let p = parser.next(); p !== undefined; p = parser.next()) yield p;
    }
    parser.end();
  } finally {
    closeSync(fd);
  }
}

type Family = 'xdp' | 'tc' | 'socket';

function familyOf(p: VmProgram): Family {
  switch (p.type) {
    case 'xdp': return 'xdp';
    case 'sched_cls': case 'sched_act': return 'tc';
    case 'socket_filter': case 'cgroup_skb': return 'socket';
    default: throw new RunObjectError(`program '${p.name}' is a ${p.type} program: --pcap runs xdp, tc (sched_cls/sched_act) and socket_filter programs`);
  }
}

function passes(family: Family, r: number): boolean {
  if (family === 'xdp') return r === 2 || r === 3;
  if (family === 'tc') return r === -1 || r === 0 || r === 1 || r === 3;
  return r !== 0;
}

async function runPcap(o: Options, coll: VmCollection, prog: VmProgram, io: CommandIo): Promise<number> {
  const family = familyOf(prog);
  const counts = new Map<string, number>();
  let packets = 0, acceptedBytes = 0, written = 0;
  const sink = o.out === undefined ? undefined : new FileSink(o.out);
  let writer: PcapWriter | undefined;
  let units = 1e6;
  const total = statSync(o.pcap!).size;
  const tty = (process.stderr as { isTTY?: boolean }).isTTY === true && !o.json;
  const t0 = performance.now();
  let lastDraw = t0;
  const draw = (offset: number, done: boolean): void => {
    const pct = total > 0 ? Math.min(100, (offset / total) * 100) : 100;
    const width = 30, fill = Math.round((pct / 100) * width);
    const rate = packets / Math.max(1e-3, (performance.now() - t0) / 1000);
    io.stderr(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct.toFixed(1)}% ${packets} packets ${Math.round(rate)}/s${done ? '\n' : ''}`);
  };
  try {
    for (const pkt of captureFile(o.pcap!)) {
      packets++;
      if (pkt.linkType !== LINKTYPE.EN10MB) {
        throw new RunObjectError(`${o.pcap}: packet ${pkt.number}: link type ${pkt.linkType} is not Ethernet (${LINKTYPE.EN10MB}); ${prog.type} programs take Ethernet frames`);
      }
      let r: number;
      try {
        r = prog.runPacket(pkt.data, o.skbStart);
      } catch (e) {
        if (e instanceof BpfkitError) throw new RunObjectError(`${o.pcap}: packet ${pkt.number}: ${e.message}`, { cause: e });
        throw e;
      }
      const name = family === 'xdp' ? xdpActionName(r) : family === 'tc' ? tcActionName(r) : r === 0 ? 'DROP' : 'ACCEPT';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (family === 'socket' && r !== 0) acceptedBytes += Math.min(r >>> 0, pkt.data.length);
      if (sink !== undefined && passes(family, r)) {
        const ts = pkt.timestamp;
        if (writer === undefined) {
          units = ts.unitsPerSecond === 1e9 ? 1e9 : 1e6;
          writer = new PcapWriter({ linkType: pkt.linkType, precision: units === 1e9 ? 'nano' : 'micro' });
          sink.write(writer.header());
        }
        let data = coll.packetView() ?? pkt.data;
        if (family === 'socket') data = data.subarray(0, Math.min(data.length, r >>> 0));
        const grown = data.length - pkt.data.length;
        const fraction = ts.unitsPerSecond === units ? ts.fraction : Math.floor((ts.fraction * units) / ts.unitsPerSecond);
        sink.writeRecord(ts.seconds, fraction, data, Math.max(data.length, pkt.wirelen + grown));
        written++;
      }
      if (tty && (packets & 4095) === 0) {
        const now = performance.now();
        if (now - lastDraw > 200) {
          lastDraw = now;
          draw(pkt.offset, false);
        }
      }
    }
  } catch (e) {
    if (e instanceof PcapError) throw new RunObjectError(`${o.pcap}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    sink?.close();
  }
  if (tty && packets >= 4096) draw(total, true);
  const seconds = (performance.now() - t0) / 1000;
  const maps = coll.dumpMaps();
  if (o.json) {
    const verdicts = Object.fromEntries([...counts].sort());
    io.stdout(`{"program":${JSON.stringify(prog.name)},"type":${JSON.stringify(prog.type)},${engineJson(prog)},"packets":${packets},"verdicts":${JSON.stringify(verdicts)}${family === 'socket' ? `,"accepted_bytes":${acceptedBytes}` : ''}${sink ? `,"written":${written}` : ''},"seconds":${seconds.toFixed(3)},"packets_per_second":${Math.round(packets / Math.max(seconds, 1e-9))},"maps":${mapsJson(maps)}}\n`);
    return 0;
  }
  let s = `${prog.name} (${prog.type}): ${packets} packets in ${seconds.toFixed(2)} s (${Math.round(packets / Math.max(seconds, 1e-9))} packets/s)\n`;
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) s += `  ${k.padEnd(18)} ${String(n).padStart(10)}  ${((n / Math.max(packets, 1)) * 100).toFixed(1)}%\n`;
  if (family === 'socket') s += `  accepted bytes     ${String(acceptedBytes).padStart(10)}\n`;
  if (sink) s += `wrote ${written} packets to ${o.out}\n`;
  io.stdout(s + mapsText(maps));
  return 0;
}

/** The engine that ran the program, and why it is not the one asked for if so. */
function engineJson(prog: VmProgram): string {
  const p = prog.prepared;
  return `"engine":"${p.engine}"${p.fallback === undefined ? '' : `,"fallback":${JSON.stringify(p.fallback)}`}`;
}

function runMem(o: Options, coll: VmCollection, prog: VmProgram, io: CommandIo): number {
  const mem = o.mem ?? new Uint8Array(0);
  const input = prog.type === 'xdp' || prog.type === 'sched_cls' || prog.type === 'sched_act' || prog.type === 'socket_filter' || prog.type === 'cgroup_skb'
    ? { packet: mem, skbStart: o.skbStart }
    : { mem };
  let res = prog.run(input);
  let ns = 0;
  if (o.repeat > 1) {
    const t0 = performance.now();
    for (let i = 0; i < o.repeat; i++) res = prog.run(input);
    ns = ((performance.now() - t0) * 1e6) / o.repeat;
  }
  const maps = coll.dumpMaps();
  if (o.json) {
    io.stdout(`{"program":${JSON.stringify(prog.name)},${engineJson(prog)},"r0":"0x${res.r0.toString(16)}","retval":${res.retval}${res.action ? `,"action":${JSON.stringify(res.action)}` : ''},"executed":${res.executed}${o.repeat > 1 ? `,"ns_per_run":${ns.toFixed(1)}` : ''},"trace":${JSON.stringify(res.trace)},"maps":${mapsJson(maps)}}\n`);
    return 0;
  }
  let s = `r0 = 0x${res.r0.toString(16)} (${res.r0})${res.action ? ` ${res.action}` : ''}\n`;
  for (const t of res.trace) s += `trace: ${t}\n`;
  if (o.repeat > 1) s += `${o.repeat} runs: ${ns.toFixed(0)} ns per run\n`;
  io.stdout(s + mapsText(maps));
  return 0;
}

/** `bpfkit run` for ELF objects; `argv` are the arguments after `run`. */
export async function runObjectCommand(argv: string[], io: CommandIo): Promise<number> {
  const o = parseArgs(argv);
  if (o === undefined) {
    io.stdout(USAGE);
    return 0;
  }
  const bytes = new Uint8Array(readFileSync(o.file));
  const spec = loadCollectionSpec(bytes);
  const coll = loadCollection(spec, { engine: o.engine, budget: o.budget, cpus: o.cpus, programs: o.program === undefined ? undefined : undefined });
  const prog = pickProgram(coll, o.file, o.program);
  const fallback = prog.prepared.fallback;
  if (fallback !== undefined && !o.json) io.stderr(`bpfkit: note: program '${prog.name}' runs on the interpreter: ${fallback}\n`);
  if (o.pcap !== undefined) return runPcap(o, coll, prog, io);
  return runMem(o, coll, prog, io);
}

export default runObjectCommand;
