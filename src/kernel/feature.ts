/**
 * Feature probes, as `bpftool feature probe` and libbpf_probe_bpf_* do:
 * load the smallest program of a type, create the smallest map of a type,
 * call a helper from a program and read the verifier's verdict. Results
 * are cached per process; `require*` throw NotSupportedError naming the
 * missing feature.
 */
import { NotSupportedError } from '../errors/index.js';
import { ATTACH_TYPES } from '../elf/index.js';
import { helperName } from '../asm/index.js';
import { encode, type Insn } from '../isa/index.js';
import { MAP_FLAG, MAP_TYPE, PROG_TYPE, type MapType, type ProgType } from './constants.js';
import { VerifierError } from './errors.js';
import { createMap, type MapCreateOptions } from './map.js';
import { loadProgram } from './program.js';
import { SyscallError } from './sys.js';

const EXIT0: Insn[] = [{ kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: 0 } }, { kind: 'exit' }];
/** Types that cannot load without an attach target; probed as libbpf does, by the error the kernel gives. */
const NEEDS_TARGET = new Set<ProgType>(['tracing', 'ext', 'lsm', 'struct_ops']);

/** Types the kernel only loads with an expected attach type (enum bpf_attach_type numbers, via src/elf's table). */
const PROBE_ATTACH_TYPE: Partial<Record<ProgType, number>> = {
  cgroup_sock_addr: ATTACH_TYPES.cgroup_inet4_bind,
  cgroup_sockopt: ATTACH_TYPES.cgroup_getsockopt,
  sk_lookup: ATTACH_TYPES.sk_lookup,
  netfilter: ATTACH_TYPES.netfilter,
};
/** BPF_F_SLEEPABLE: syscall programs must be sleepable. */
const SLEEPABLE = 1 << 4;

const cache = new Map<string, boolean>();
function cached(key: string, f: () => boolean): boolean {
  let v = cache.get(key);
  if (v === undefined) {
    v = f();
    cache.set(key, v);
  }
  return v;
}

function tryLoad(type: ProgType, insns: Insn[]): { ok: true } | { ok: false; error: unknown } {
  try {
    loadProgram({ type, insns: encode(insns), expectedAttachType: PROBE_ATTACH_TYPE[type] ?? 0, flags: type === 'syscall' ? SLEEPABLE : 0 }).close();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e };
  }
}

/** Whether programs of this type load here. */
export function probeProgramType(type: ProgType): boolean {
  return cached(`prog:${type}`, () => {
    if (type === 'unspec') return false;
    const r = tryLoad(type, EXIT0);
    if (r.ok) return true;
    if (NEEDS_TARGET.has(type)) {
      // Known type, missing attach target: EINVAL with a log about attach_btf_id rather than "unknown type".
      const e = r.error;
      return e instanceof VerifierError || (e instanceof SyscallError && e.errno !== 22);
    }
    return false;
  });
}

function mapProbeOptions(type: MapType): MapCreateOptions | undefined {
  const base = { type, keySize: 4, valueSize: 4, maxEntries: 1 };
  switch (type) {
    case 'unspec': case 'struct_ops': case 'cgroup_storage': case 'percpu_cgroup_storage':
    case 'sk_storage': case 'inode_storage': case 'task_storage': case 'cgrp_storage':
    case 'array_of_maps': case 'hash_of_maps': case 'arena':
      return undefined; // need BTF, an inner map or a mapping: not probed by shape alone
    case 'ringbuf': case 'user_ringbuf':
      return { type, keySize: 0, valueSize: 0, maxEntries: 4096 };
    case 'queue': case 'stack': case 'bloom_filter':
      return { ...base, keySize: 0 };
    case 'lpm_trie':
      return { ...base, keySize: 8, flags: MAP_FLAG.no_prealloc };
    case 'stack_trace':
      return { ...base, valueSize: 8 };
    case 'devmap': case 'devmap_hash': case 'cpumap': case 'xskmap': case 'sockmap': case 'sockhash': case 'reuseport_sockarray':
      return { ...base, valueSize: type === 'reuseport_sockarray' ? 8 : 4 };
    default:
      return base;
  }
}

/** Whether maps of this type can be created here (undefined: this probe cannot tell). */
export function probeMapType(type: MapType): boolean | undefined {
  const opts = mapProbeOptions(type);
  if (!opts) return undefined;
  return cached(`map:${type}`, () => {
    try {
      createMap(opts).close();
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Whether program type `type` may call helper `id`: the verifier answers
 * "invalid func" / "unknown func" / "program of this type cannot use
 * helper" when not; any other complaint (argument types) means it may.
 */
export function probeHelper(type: ProgType, id: number): boolean {
  return cached(`helper:${type}:${id}`, () => {
    const r = tryLoad(type, [{ kind: 'call', helper: id }, ...EXIT0]);
    if (r.ok) return true;
    if (r.error instanceof VerifierError) return !/invalid func|unknown func|cannot (use|call) helper|helper call might sleep/.test(r.error.log);
    return false;
  });
}

export function requireProgramType(type: ProgType): void {
  if (!probeProgramType(type)) throw new NotSupportedError(`program type ${type}`, 'the kernel refuses to load the smallest program of this type');
}

export function requireMapType(type: MapType): void {
  if (probeMapType(type) === false) throw new NotSupportedError(`map type ${type}`, 'the kernel refuses to create the smallest map of this type');
}

export function requireHelper(type: ProgType, id: number): void {
  if (!probeHelper(type, id)) throw new NotSupportedError(`helper ${helperName(id) ?? id} in ${type} programs`, 'the verifier refuses the call');
}

export const PROBED_PROGRAM_TYPES = Object.keys(PROG_TYPE).filter((t) => t !== 'unspec') as ProgType[];
export const PROBED_MAP_TYPES = Object.keys(MAP_TYPE).filter((t) => t !== 'unspec') as MapType[];
