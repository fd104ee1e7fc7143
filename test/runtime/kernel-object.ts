/**
 * A minimal kernel loader for the differential tests: create an object's
 * maps with src/kernel, point lddw map_fd / map_value at them, load each
 * program. (src/kernel has no object loader yet; this one covers what the
 * runtime fixtures use.) Everything opened is closed by close(), also when
 * a later step fails.
 */
import type { CollectionSpec } from '../../src/elf/index.js';
import type { Insn } from '../../src/isa/index.js';
import { createMap, loadProgram, type BpfMap, type Program } from '../../src/kernel/index.js';

export class KernelObject {
  readonly maps = new Map<string, BpfMap>();
  readonly programs = new Map<string, Program>();

  constructor(readonly spec: CollectionSpec, only?: readonly string[]) {
    try {
      for (const [name, m] of spec.maps) {
        const map = createMap({ type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags, name: name.slice(0, 15).replace(/[^A-Za-z0-9_]/g, '_') });
        this.maps.set(name, map);
        if (m.data !== undefined) map.update(new Uint8Array(4), m.data.subarray(0, m.valueSize));
        // As libbpf: .rodata is frozen, which lets the verifier treat it as constant (bpf_snprintf formats).
        if (m.origin === 'rodata' || m.origin === 'kconfig') map.freeze();
      }
      for (const [name, p] of spec.programs) {
        if (only !== undefined && !only.includes(name)) continue;
        const insns: Insn[] = p.insns.slice();
        for (const r of p.relocations) {
          const old = insns[r.insn];
          if (old?.kind !== 'lddw') continue;
          if (r.kind === 'map') insns[r.insn] = { ...old, pseudo: 'map_fd', imm: BigInt(this.maps.get(r.map)!.fd) };
          else if (r.kind === 'map_value') insns[r.insn] = { ...old, pseudo: 'map_value', imm: BigInt(this.maps.get(r.map)!.fd) | (BigInt(r.offset) << 32n) };
        }
        this.programs.set(name, loadProgram({ type: p.type, insns, license: p.license || 'GPL', name: name.slice(0, 15) }));
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
    this.programs.clear();
    this.maps.clear();
  }
}
