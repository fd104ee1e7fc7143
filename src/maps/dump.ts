import { formatValue, type Btf, type BtfJson } from '../btf/index.js';
import type { VmMap } from './map.js';

/** BTF type ids of a map's key and value (0: none). */
export interface MapBtf {
  readonly btf: Btf | undefined;
  readonly keyTypeId: number;
  readonly valueTypeId: number;
}

/** One entry as bpftool's `map dump -j` shows it: hex byte lists, plus `formatted` when BTF says the types. */
export interface DumpedEntry {
  readonly key: string[];
  readonly value: string[];
  readonly formatted?: { readonly key: BtfJson; readonly value: BtfJson };
}

function hexList(b: Uint8Array): string[] {
  return [...b].map((x) => '0x' + x.toString(16).padStart(2, '0'));
}

/** Decode bytes through BTF, falling back to undefined when the type does not fit. */
function decode(t: MapBtf, typeId: number, bytes: Uint8Array): BtfJson | undefined {
  if (t.btf === undefined || typeId === 0) return undefined;
  try {
    return formatValue(t.btf, typeId, bytes);
  } catch {
    return undefined;
  }
}

/** Every entry of a map, decoded through BTF where it has it. Per-CPU values are shown per CPU. */
export function dumpMap(map: VmMap, types: MapBtf = { btf: undefined, keyTypeId: 0, valueTypeId: 0 }): DumpedEntry[] {
  const out: DumpedEntry[] = [];
  const percpu = map.type.startsWith('percpu') || map.type === 'lru_percpu_hash';
  for (const [k, v] of map) {
    const key = map.keySize === 0 ? undefined : decode(types, types.keyTypeId, k);
    let value: BtfJson | undefined;
    if (percpu) {
      const stride = (map.valueSize + 7) & ~7;
      const vals: BtfJson[] = [];
      for (let c = 0; c * stride < v.length; c++) {
        const d = decode(types, types.valueTypeId, v.subarray(c * stride, c * stride + map.valueSize));
        if (d === undefined) break;
        vals.push({ cpu: c, value: d });
      }
      value = vals.length > 0 ? vals : undefined;
    } else value = decode(types, types.valueTypeId, v);
    const e: DumpedEntry = { key: hexList(k), value: hexList(v) };
    out.push(value !== undefined && (key !== undefined || map.keySize === 0) ? { ...e, formatted: { key: key ?? null, value } } : e);
  }
  return out;
}
