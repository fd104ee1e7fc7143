/**
 * `bpfkit feature [probe] [--json] [--helpers]`: what this kernel supports,
 * in bpftool's words ("eBPF program_type xdp is available"): program
 * types, map types, and with --helpers the helpers each program type may
 * call, plus the attach points bpfkit cannot use here (kprobes).
 */
import { HELPER_NAMES } from '../../asm/index.js';
import {
  kprobeUnsupportedReason, PROBED_MAP_TYPES, PROBED_PROGRAM_TYPES, probeHelper, probeMapType, probeProgramType,
} from '../../kernel/index.js';
import { UsageError, type CommandIo } from '../io.js';

export default async function feature(argv: string[], io: CommandIo): Promise<number> {
  const json = argv.includes('--json') || argv.includes('-j');
  const helpers = argv.includes('--helpers');
  for (const a of argv) if (!['probe', 'kernel', '--json', '-j', '--helpers'].includes(a)) throw new UsageError(`feature: unknown argument '${a}'\nusage: bpfkit feature [probe] [--helpers] [--json]`);
  const programTypes: Record<string, boolean> = {};
  for (const t of PROBED_PROGRAM_TYPES) programTypes[t] = probeProgramType(t);
  const mapTypes: Record<string, boolean | null> = {};
  for (const t of PROBED_MAP_TYPES) mapTypes[t] = probeMapType(t) ?? null;
  const helperSets: Record<string, string[]> = {};
  if (helpers) {
    for (const t of PROBED_PROGRAM_TYPES) {
      if (!programTypes[t] || ['tracing', 'ext', 'lsm', 'struct_ops'].includes(t)) continue;
      helperSets[t] = HELPER_NAMES.map((n, id) => [n, id] as const).filter(([n, id]) => id > 0 && n && probeHelper(t, id)).map(([n]) => n as string);
    }
  }
  const kprobes = kprobeUnsupportedReason();
  if (json) {
    io.stdout(`${JSON.stringify({ program_types: programTypes, map_types: mapTypes, ...(helpers ? { helpers: helperSets } : {}), attach: { kprobe: kprobes === undefined, ...(kprobes ? { kprobe_reason: kprobes } : {}) } })}\n`);
    return 0;
  }
  let out = 'Scanning eBPF program types...\n';
  for (const [t, ok] of Object.entries(programTypes)) out += `eBPF program_type ${t} is ${ok ? '' : 'NOT '}available\n`;
  out += '\nScanning eBPF map types...\n';
  for (const [t, ok] of Object.entries(mapTypes)) out += ok === null ? `eBPF map_type ${t} was not probed\n` : `eBPF map_type ${t} is ${ok ? '' : 'NOT '}available\n`;
  for (const [t, hs] of Object.entries(helperSets)) out += `\neBPF helpers supported for program type ${t}:\n${hs.map((h) => `\t- ${h}\n`).join('')}`;
  out += `\nkprobes: ${kprobes ?? 'available'}\n`;
  io.stdout(out);
  return 0;
}
