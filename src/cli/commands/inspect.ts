/**
 * `bpfkit inspect prog.o [--json]`: the programs, maps, globals, externs
 * and BTF of an ELF object, read without touching the kernel.
 */
import { readFileSync } from 'node:fs';
import { stringifyBtfJson, formatValue, type BtfJson } from '../../btf/index.js';
import { loadCollectionSpec, type CollectionSpec, type MapSpec } from '../../elf/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = 'usage: bpfkit inspect FILE.o [--json]';

function mapJson(m: MapSpec): Record<string, BtfJson> {
  return {
    name: m.name, origin: m.origin, type: m.type, key_size: m.keySize, value_size: m.valueSize,
    max_entries: m.maxEntries, flags: m.flags, pinning: m.pinning, numa_node: m.numaNode ?? null,
    btf_key_type_id: m.btfKeyTypeId, btf_value_type_id: m.btfValueTypeId,
    inner_map: m.innerMap ? mapJson(m.innerMap) : null,
    values: m.values.map((v) => ({ index: v.index, name: v.name })),
  };
}

function globalsJson(spec: CollectionSpec): BtfJson[] {
  const out: BtfJson[] = [];
  for (const m of spec.maps.values()) {
    if (!m.data) continue;
    for (const v of m.variables) {
      let value: BtfJson = null;
      if (spec.btf && v.typeId && m.origin !== 'kconfig') {
        try {
          value = formatValue(spec.btf, v.typeId, m.data.subarray(v.offset, v.offset + v.size), { littleEndian: spec.littleEndian });
        } catch {
          value = null;
        }
      }
      out.push({ section: m.name, name: v.name, offset: v.offset, size: v.size, value });
    }
  }
  return out;
}

export function inspectJson(spec: CollectionSpec): Record<string, BtfJson> {
  return {
    byte_order: spec.littleEndian ? 'little' : 'big',
    license: spec.license,
    kernel_version: spec.kernelVersion,
    programs: [...spec.programs.values()].map((p) => ({
      name: p.name, section: p.section, type: p.type, attach_type: p.attachType, attach_target: p.attachTarget ?? null,
      sleepable: p.sleepable, xdp_frags: p.xdpFrags, insns: p.insns.length,
      functions: p.functions.map((f) => f.name), maps: [...new Set(p.relocations.flatMap((r) => (r.kind === 'map' || r.kind === 'map_value' ? [r.map] : [])))],
      core_relocations: p.coreRelocations.length,
    })),
    maps: [...spec.maps.values()].map(mapJson),
    globals: globalsJson(spec),
    externs: spec.externs.map((e) => ({ name: e.name, kind: e.kind, weak: e.weak, offset: e.offset, size: e.size })),
    btf: spec.btf ? { types: spec.btf.typeCount - 1, strings_bytes: spec.btf.stringsLength } : null,
  };
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

export function inspectText(file: string, spec: CollectionSpec): string {
  let s = `${file}: eBPF object, ${spec.littleEndian ? 'little' : 'big'}-endian, license "${spec.license}"`;
  if (spec.kernelVersion) s += `, kernel version 0x${spec.kernelVersion.toString(16)}`;
  s += '\n\n';
  s += `Programs (${spec.programs.size}):\n`;
  if (spec.programs.size) {
    s += table([['NAME', 'SECTION', 'TYPE', 'ATTACH', 'INSNS', 'SUBPROGRAMS'], ...[...spec.programs.values()].map((p) => [
      p.name, p.section, p.type, p.attachType, String(p.insns.length), p.functions.slice(1).map((f) => f.name).join(',') || '-',
    ])]);
  }
  s += `\nMaps (${spec.maps.size}):\n`;
  if (spec.maps.size) {
    s += table([['NAME', 'TYPE', 'KEY', 'VALUE', 'MAX_ENTRIES', 'FLAGS', 'ORIGIN'], ...[...spec.maps.values()].map((m) => [
      m.name, m.type, String(m.keySize), String(m.valueSize), String(m.maxEntries), `0x${m.flags.toString(16)}`,
      m.origin + (m.pinning === 'by_name' ? ',pinned' : '') + (m.innerMap ? `,inner=${m.innerMap.type}` : '') + (m.values.length ? `,values=${m.values.map((v) => `${v.index}:${v.name}`).join(' ')}` : ''),
    ])]);
  }
  const globals = globalsJson(spec);
  s += `\nGlobals (${globals.length}):\n`;
  if (globals.length) {
    s += table([['SECTION', 'NAME', 'OFFSET', 'SIZE', 'VALUE'], ...globals.map((g) => {
      const o = g as Record<string, BtfJson>;
      return [String(o.section), String(o.name), String(o.offset), String(o.size), o.value === null ? '-' : stringifyBtfJson(o.value)];
    })]);
  }
  if (spec.externs.length) {
    s += `\nExterns (${spec.externs.length}):\n`;
    s += table([['NAME', 'KIND', 'WEAK'], ...spec.externs.map((e) => [e.name, e.kind, e.weak ? 'yes' : 'no'])]);
  }
  s += `\nBTF: ${spec.btf ? `${spec.btf.typeCount - 1} types, ${spec.btf.stringsLength} bytes of strings` : 'none'}\n`;
  return s;
}

export default async function inspect(argv: string[], io: CommandIo): Promise<number> {
  let json = false;
  const files: string[] = [];
  for (const a of argv) {
    if (a === '--json' || a === '-j') json = true;
    else if (a === '--help' || a === '-h') {
      io.stdout(USAGE + '\n');
      return 0;
    } else if (a.startsWith('-')) throw new UsageError(`inspect: unknown option '${a}'\n${USAGE}`);
    else files.push(a);
  }
  if (files.length !== 1) throw new UsageError(USAGE);
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(files[0])));
  io.stdout(json ? stringifyBtfJson(inspectJson(spec), 2) + '\n' : inspectText(files[0], spec));
  return 0;
}
