/**
 * `bpfkit verify FILE`: check a program with bpfkit's verifier and print the
 * kernel-format log. FILE is raw bytecode, eBPF assembly, or an ELF object
 * (every program in it, or the one --program names, with the object's maps,
 * its program types, and C source lines on the failing path). Exit 0 when
 * every program is accepted, 1 when one is refused, 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { assemble } from '../../asm/index.js';
import { isElf, loadCollectionSpec, type CollectionSpec, type ProgramSpec } from '../../elf/index.js';
import { decode, slotIndex, type Insn } from '../../isa/index.js';
import { verify, type MapInfo, type MapType, type ProgType, type VerifyResult } from '../../verifier/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage: bpfkit verify FILE [options]

Check FILE (an ELF object, raw eBPF bytecode, or assembly) with the verifier and
print its log. For an object, every program is checked (or the one --program
names) with the object's maps and program types; a refusal shows the failing
path with the C source lines (clang -g).

Options:
  --program NAME     ELF objects: only the program with this name (or section)
  --type TYPE        program type: xdp, socket, tc, tracepoint, kprobe, perf_event,
                     cgroup_skb, raw_tracepoint (default: xdp; for an object, used where
                     a section name gives no type libbpf knows)
  --log-level N      0, 1 (default: path to the error) or 2 (every instruction)
  --map SPEC         a map for 'lddw map_fd' immediates: FD:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES
                     (e.g. 3:hash:4:8:1024); repeatable
  --json             print the verdict, issues and statistics as JSON
  -h, --help         show this help
`;

const TYPE_ALIASES: Record<string, ProgType> = {
  xdp: 'xdp', socket: 'socket_filter', socket_filter: 'socket_filter', tc: 'sched_cls', sched_cls: 'sched_cls',
  sched_act: 'sched_act', tracepoint: 'tracepoint', kprobe: 'kprobe', perf_event: 'perf_event',
  cgroup_skb: 'cgroup_skb', raw_tracepoint: 'raw_tracepoint', raw_tp: 'raw_tracepoint',
};
const MAP_TYPES: readonly MapType[] = ['hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'lru_hash', 'devmap', 'ringbuf'];

function parseMap(spec: string): MapInfo {
  const parts = spec.split(':');
  const nums = [parts[0], parts[2], parts[3], parts[4]].map((p) => Number(p));
  const type = parts[1] as MapType;
  if (parts.length !== 5 || nums.some((n) => !Number.isInteger(n) || n < 0) || !MAP_TYPES.includes(type)) {
    throw new UsageError(`bad --map '${spec}': expected FD:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES with TYPE one of ${MAP_TYPES.join(', ')}`);
  }
  return { fd: nums[0], type, keySize: nums[1], valueSize: nums[2], maxEntries: nums[3] };
}

/** Text files are assembled; anything else is decoded as bytecode. */
function loadProgram(path: string, bytes: Uint8Array): Insn[] {
  const looksText = /\.(s|asm|bpf)$/i.test(path) ||
    (bytes.length > 0 && bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)));
  if (looksText) return assemble(new TextDecoder().decode(bytes));
  return decode(bytes);
}

export default async function verifyCommand(argv: string[], io: CommandIo): Promise<number> {
  let file: string | undefined;
  let progType: ProgType = 'xdp';
  let logLevel: 0 | 1 | 2 = 1;
  let json = false;
  let program: string | undefined;
  let typeGiven = false;
  const maps: MapInfo[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') { io.stdout(USAGE); return 0; }
    else if (a === '--type' || a === '-t') {
      const t = value();
      const p = TYPE_ALIASES[t];
      if (!p) throw new UsageError(`unknown program type '${t}' (known: ${Object.keys(TYPE_ALIASES).join(', ')})`);
      progType = p;
      typeGiven = true;
    } else if (a === '--log-level') {
      const n = Number(value());
      if (n !== 0 && n !== 1 && n !== 2) throw new UsageError('--log-level must be 0, 1 or 2');
      logLevel = n;
    } else if (a === '--map') maps.push(parseMap(value()));
    else if (a === '--program') program = value();
    else if (a === '--json') json = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'\n\n${USAGE}`);
    else if (file === undefined) file = a;
    else throw new UsageError(`unexpected argument '${a}'`);
  }
  if (file === undefined) throw new UsageError(`missing FILE\n\n${USAGE}`);
  const bytes = file === '-' ? await io.readStdin() : new Uint8Array(readFileSync(file));
  if (isElf(bytes)) return verifyObject(file, loadCollectionSpec(bytes), program, typeGiven ? progType : undefined, logLevel, json, io);
  if (program !== undefined) throw new UsageError('--program applies to ELF objects only');
  const insns = loadProgram(file, bytes);
  const result = verify(insns, { progType, maps, logLevel });
  if (json) {
    io.stdout(`${JSON.stringify({ accepted: result.accepted, errors: result.errors, stats: result.stats, log: result.log }, null, 2)}\n`);
  } else {
    io.stdout(result.log);
    if (!result.accepted && logLevel === 0) {
      for (const e of result.errors) io.stderr(`${file}: insn ${e.insn}: ${e.message}\n`);
    }
  }
  return result.accepted ? 0 : 1;
}

/** Verifier program types by the kernel's names (the ELF spec's program type). */
const VERIFIER_TYPES: ReadonlySet<string> = new Set<ProgType>([
  'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb', 'raw_tracepoint',
]);

/** The fd the verifier's MapInfo and the object's lddw instructions share for map number i (as a loader would hand out). */
const mapFd = (i: number): number => 3 + i;

/** The object's maps as the verifier sees them, and map names to fds; maps of types it does not model are left out. */
function objectMaps(spec: CollectionSpec): { infos: MapInfo[]; fds: Map<string, number>; skipped: Map<string, string> } {
  const infos: MapInfo[] = [];
  const fds = new Map<string, number>();
  const skipped = new Map<string, string>();
  [...spec.maps.values()].forEach((m, i) => {
    if (!(MAP_TYPES as readonly string[]).includes(m.type)) { skipped.set(m.name, m.type); return; }
    fds.set(m.name, mapFd(i));
    infos.push({ fd: mapFd(i), type: m.type as MapType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, name: m.name });
  });
  return { infos, fds, skipped };
}

/** The program's instructions with map references turned into `lddw map_fd` / `map_value` of the fds objectMaps chose. */
function linkMaps(p: ProgramSpec, fds: ReadonlyMap<string, number>, skipped: ReadonlyMap<string, string>): Insn[] {
  const insns = [...p.insns];
  for (const r of p.relocations) {
    if (r.kind !== 'map' && r.kind !== 'map_value') continue;
    const at = insns[r.insn];
    const fd = fds.get(r.map);
    if (at?.kind !== 'lddw') continue;
    if (fd === undefined) {
      throw new UsageError(`program ${p.name}: map '${r.map}' is a ${skipped.get(r.map) ?? 'unknown'} map, which the verifier does not model`);
    }
    insns[r.insn] = r.kind === 'map'
      ? { ...at, pseudo: 'map_fd', imm: BigInt(fd) }
      : { ...at, pseudo: 'map_value', imm: (BigInt(r.offset >>> 0) << 32n) | BigInt(fd) };
  }
  return insns;
}

/**
 * The log with C source lines before the instructions they compiled to, as
 * the kernel prints them when it has line info: "; code @ file:line".
 */
export function withSourceLines(log: string, p: ProgramSpec): string {
  if (p.lineInfo.length === 0) return log;
  const slots = slotIndex(p.insns);
  const bySlot = p.lineInfo.map((l) => ({ slot: slots[l.insn], text: `; ${l.line.trim()} @ ${l.fileName.split('/').pop()}:${l.lineNumber}` }))
    .sort((a, b) => a.slot - b.slot);
  let last = '';
  const out: string[] = [];
  for (const line of log.split('\n')) {
    const m = /^(\d+): \(/.exec(line);
    if (m) {
      const slot = Number(m[1]);
      let src: string | undefined;
      for (const l of bySlot) { if (l.slot <= slot) src = l.text; else break; }
      if (src !== undefined && src !== last) { out.push(src); last = src; }
    }
    out.push(line);
  }
  return out.join('\n');
}

/** The source line (from line info) of a slot, for the one-line refusal summary. */
function sourceOf(p: ProgramSpec, slot: number): string | undefined {
  const slots = slotIndex(p.insns);
  let best: string | undefined;
  for (const l of p.lineInfo) if (slots[l.insn] <= slot) best = `${l.fileName.split('/').pop()}:${l.lineNumber}: ${l.line.trim()}`;
  return best;
}

/**
 * The type to check a program as: the one its section gives; for a section
 * libbpf does not know ('xdp/NAME', 'socket/NAME'), --type, else the type its
 * first path component names, as libbpf's pre-1.0 prefix matching did.
 */
function programType(p: ProgramSpec, override: ProgType | undefined): string {
  if (p.type !== 'unspec') return p.type;
  return override ?? TYPE_ALIASES[p.section.split('/')[0]] ?? p.type;
}

async function verifyObject(file: string, spec: CollectionSpec, only: string | undefined, override: ProgType | undefined,
  logLevel: 0 | 1 | 2, json: boolean, io: CommandIo): Promise<number> {
  const programs = [...spec.programs.values()].filter((p) => only === undefined || p.name === only || p.section === only);
  if (programs.length === 0) {
    throw new UsageError(only === undefined ? `${file}: the object has no programs`
      : `${file}: no program '${only}' (programs: ${[...spec.programs.values()].map((p) => p.name).join(', ')})`);
  }
  const { infos, fds, skipped } = objectMaps(spec);
  let refused = 0, checked = 0;
  const reports: unknown[] = [];
  for (const p of programs) {
    const type = programType(p, override);
    if (!VERIFIER_TYPES.has(type)) {
      const why = `program type ${type} is not modelled by the verifier`;
      if (json) reports.push({ program: p.name, section: p.section, type, skipped: why });
      else io.stderr(`${file}: ${p.name} (${p.section}): skipped: ${why}\n`);
      continue;
    }
    checked++;
    // At least level 1 on an object: the failing path is what the refusal output shows.
    const level = logLevel === 0 ? 1 : logLevel;
    const result: VerifyResult = verify(linkMaps(p, fds, skipped), {
      progType: type as ProgType, maps: infos, logLevel: level, btfFuncInfo: p.funcInfo.length > 0,
    });
    if (!result.accepted) refused++;
    if (json) {
      reports.push({
        program: p.name, section: p.section, type, accepted: result.accepted, stats: result.stats,
        errors: result.errors.map((e) => ({ ...e, ...(sourceOf(p, e.insn) ? { source: sourceOf(p, e.insn) } : {}) })),
        log: result.log,
      });
      continue;
    }
    io.stdout(`${p.name} (${p.section}, ${type}): ${result.accepted ? 'accepted' : 'refused'}\n`);
    if (!result.accepted || logLevel > 0) io.stdout(withSourceLines(result.log, p));
    for (const e of result.errors) {
      const src = sourceOf(p, e.insn);
      io.stderr(`${file}: ${p.name}: insn ${e.insn}: ${e.message}${src ? `\n  at ${src}` : ''}\n`);
    }
  }
  if (json) io.stdout(`${JSON.stringify(reports, null, 2)}\n`);
  if (checked === 0) return 1;
  return refused > 0 ? 1 : 0;
}
