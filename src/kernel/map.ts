/**
 * Maps in the kernel: BPF_MAP_CREATE, the element and batch commands,
 * iteration, per-CPU values, freezing, pinning and memory mapping.
 */
import { AttrWriter, MAP_BATCH_ATTR, MAP_CREATE_ATTR, MAP_ELEM_ATTR, MAP_FREEZE_ATTR, MAP_INFO, readName, readU32 } from './attr.js';
import { MAP_FLAG, MAP_TYPE, mapTypeName, UPDATE_FLAG, type MapType, type UpdateFlag } from './constants.js';
import { ERRNO } from './errno.js';
import { KernelArgumentError } from './errors.js';
import { KernelFd } from './fd.js';
import { mmapFd, nativeSys, type NativeMapping } from './native.js';
import { objectInfo, objGet, objPin } from './object.js';
import { possibleCpus } from './cpus.js';
import { SyscallError, type Sys } from './sys.js';

export interface MapCreateOptions {
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** BPF_F_* map flags. */
  readonly flags?: number;
  /** Up to 15 bytes are kept. */
  readonly name?: string;
  /** For map-in-map: a map whose shape the inner maps share. */
  readonly innerMap?: BpfMap;
  readonly numaNode?: number;
  readonly mapExtra?: bigint;
  /** BTF describing key and value (BPF_BTF_LOAD fd and type ids). */
  readonly btf?: { readonly fd: number; readonly keyTypeId: number; readonly valueTypeId: number };
  readonly sys?: Sys;
}

/** What BPF_OBJ_GET_INFO_BY_FD says about a map. */
export interface MapInfo {
  readonly id: number;
  readonly type: MapType | number;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly btfId: number;
}

const PERCPU = new Set<MapType>(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
/** Map types whose values are fds on update and ids on lookup. */
const FD_VALUES = new Set<MapType>(['prog_array', 'array_of_maps', 'hash_of_maps', 'perf_event_array', 'cgroup_array', 'devmap', 'sockmap', 'sockhash']);

/** A map, owning its fd. */
export class BpfMap implements Disposable {
  readonly #fd: KernelFd;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string | undefined;
  private readonly sys: Sys;
  #mapping: NativeMapping | undefined;

  constructor(fd: number, opts: MapCreateOptions, sys: Sys) {
    this.type = opts.type;
    this.keySize = opts.keySize;
    this.valueSize = opts.valueSize;
    this.maxEntries = opts.maxEntries;
    this.flags = opts.flags ?? 0;
    this.name = opts.name;
    this.sys = sys;
    this.#fd = new KernelFd(fd, `map ${opts.type}${opts.name ? ` '${opts.name}'` : ''}`, sys);
  }

  get fd(): number {
    return this.#fd.fd;
  }

  /** True for per-CPU maps, whose lookups return one value per possible CPU. */
  get perCpu(): boolean {
    return PERCPU.has(this.type);
  }

  /** Bytes of one lookup: valueSize, or per-CPU values each rounded up to 8 times the CPU count. */
  private get valueBufferSize(): number {
    return this.perCpu ? roundUp8(this.valueSize) * possibleCpus() : FD_VALUES.has(this.type) ? 4 : this.valueSize;
  }

  /** BPF_MAP_LOOKUP_ELEM: a copy of the value, or undefined when the key is absent. Per-CPU maps: CPU 0's value (see lookupPerCpu). */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const raw = this.lookupRaw(key);
    if (raw === undefined || !this.perCpu) return raw;
    return raw.subarray(0, this.valueSize);
  }

  /** Per-CPU maps: one value per possible CPU. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    if (!this.perCpu) throw new KernelArgumentError(`map ${this.label}: ${this.type} is not a per-CPU map`);
    const raw = this.lookupRaw(key);
    if (raw === undefined) return undefined;
    return splitPerCpu(raw, this.valueSize);
  }

  private lookupRaw(key: Uint8Array, cmd: 'map_lookup_elem' | 'map_lookup_and_delete_elem' = 'map_lookup_elem'): Uint8Array | undefined {
    this.checkKey(key);
    const value = new Uint8Array(this.valueBufferSize);
    const w = new AttrWriter(MAP_ELEM_ATTR).u32('map_fd', this.fd).ptr('key', key.length ? key : undefined).ptr('value', value);
    try {
      this.sys.call(w.syscall(cmd));
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) return undefined;
      throw e;
    }
    return value;
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM: pop from a queue or stack (empty key), or take a hash entry. */
  lookupAndDelete(key: Uint8Array = new Uint8Array(0)): Uint8Array | undefined {
    return this.lookupRaw(key, 'map_lookup_and_delete_elem');
  }

  /** BPF_MAP_UPDATE_ELEM with BPF_ANY (default), BPF_NOEXIST or BPF_EXIST. Per-CPU maps: the value is given to every CPU. */
  update(key: Uint8Array, value: Uint8Array, flag: UpdateFlag = 'any'): void {
    this.checkKey(key);
    let v = value;
    if (this.perCpu) {
      this.checkSize('value', value, this.valueSize);
      v = joinPerCpu(Array.from({ length: possibleCpus() }, () => value), this.valueSize);
    } else {
      this.checkSize('value', value, FD_VALUES.has(this.type) ? 4 : this.valueSize);
    }
    this.updateRaw(key, v, flag);
  }

  /** Per-CPU maps: one value per possible CPU. */
  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flag: UpdateFlag = 'any'): void {
    if (!this.perCpu) throw new KernelArgumentError(`map ${this.label}: ${this.type} is not a per-CPU map`);
    if (values.length !== possibleCpus()) throw new KernelArgumentError(`map ${this.label}: ${values.length} values for ${possibleCpus()} CPUs`);
    for (const v of values) this.checkSize('value', v, this.valueSize);
    this.checkKey(key);
    this.updateRaw(key, joinPerCpu(values, this.valueSize), flag);
  }

  /** Maps holding fds (prog arrays, map-in-map): store `fd` at `key`. */
  updateFd(key: Uint8Array, fd: number): void {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, fd, true);
    this.checkKey(key);
    this.updateRaw(key, v, 'any');
  }

  private updateRaw(key: Uint8Array, value: Uint8Array, flag: UpdateFlag): void {
    const w = new AttrWriter(MAP_ELEM_ATTR)
      .u32('map_fd', this.fd)
      .ptr('key', key.length ? key : undefined)
      .ptr('value', value)
      .u64('flags', BigInt(UPDATE_FLAG[flag]));
    this.sys.call(w.syscall('map_update_elem'));
  }

  /** BPF_MAP_DELETE_ELEM; false when the key was absent. */
  delete(key: Uint8Array): boolean {
    this.checkKey(key);
    const w = new AttrWriter(MAP_ELEM_ATTR).u32('map_fd', this.fd).ptr('key', key);
    try {
      this.sys.call(w.syscall('map_delete_elem'));
      return true;
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) return false;
      throw e;
    }
  }

  /** BPF_MAP_GET_NEXT_KEY from `key`, or the first key when undefined; undefined at the end. */
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (key) this.checkKey(key);
    const next = new Uint8Array(this.keySize);
    const w = new AttrWriter(MAP_ELEM_ATTR).u32('map_fd', this.fd).ptr('key', key).ptr('value', next);
    try {
      this.sys.call(w.syscall('map_get_next_key'));
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) return undefined;
      throw e;
    }
    return next;
  }

  /** Every key, in the kernel's order (a key deleted meanwhile may restart a hash walk, as with bpftool). */
  *keys(): Generator<Uint8Array> {
    let k: Uint8Array | undefined;
    let n = 0;
    while ((k = this.nextKey(k)) !== undefined) {
      yield k;
      if (++n > this.maxEntries * 2 + 16) return; // a walk racing deletions can cycle; stop
    }
  }

  /** Every [key, value] pair (per-CPU maps: CPU 0's value). */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  /**
   * BPF_MAP_LOOKUP_BATCH (or _AND_DELETE_): every entry in as few calls as
   * the kernel allows. Per-CPU values come back as the raw per-CPU block.
   */
  lookupBatch(opts: { deleteAfter?: boolean; chunk?: number } = {}): [Uint8Array, Uint8Array][] {
    const chunk = Math.max(1, opts.chunk ?? Math.min(this.maxEntries, 4096));
    const vsize = this.valueBufferSize;
    const out: [Uint8Array, Uint8Array][] = [];
    // Hash maps' batch token is a bucket index (u32); arrays use the key; 8 bytes covers both.
    const tokenSize = Math.max(8, this.keySize);
    let inBatch: Uint8Array | undefined;
    for (;;) {
      const keys = new Uint8Array(chunk * this.keySize);
      const values = new Uint8Array(chunk * vsize);
      const outBatch = new Uint8Array(tokenSize);
      const w = new AttrWriter(MAP_BATCH_ATTR)
        .ptr('in_batch', inBatch)
        .ptr('out_batch', outBatch)
        .ptr('keys', keys)
        .ptr('values', values)
        .u32('count', chunk)
        .u32('map_fd', this.fd);
      let done = false;
      try {
        this.sys.call(w.syscall(opts.deleteAfter ? 'map_lookup_and_delete_batch' : 'map_lookup_batch'));
      } catch (e) {
        if (!(e instanceof SyscallError && e.errno === ERRNO.ENOENT)) throw e;
        done = true;
      }
      const n = readU32(w.attr, MAP_BATCH_ATTR.fields.count);
      for (let i = 0; i < n; i++) {
        out.push([keys.slice(i * this.keySize, (i + 1) * this.keySize), values.slice(i * vsize, (i + 1) * vsize)]);
      }
      if (done) return out;
      inBatch = outBatch;
    }
  }

  /** BPF_MAP_UPDATE_BATCH: keys.length entries in one call. */
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flag: UpdateFlag = 'any'): void {
    if (keys.length !== values.length) throw new KernelArgumentError(`map ${this.label}: ${keys.length} keys, ${values.length} values`);
    for (const k of keys) this.checkKey(k);
    for (const v of values) this.checkSize('value', v, this.valueBufferSize);
    const w = new AttrWriter(MAP_BATCH_ATTR)
      .ptr('keys', concat(keys))
      .ptr('values', concat(values))
      .u32('count', keys.length)
      .u32('map_fd', this.fd)
      .u64('elem_flags', BigInt(UPDATE_FLAG[flag]));
    this.sys.call(w.syscall('map_update_batch'));
  }

  /** BPF_MAP_DELETE_BATCH; returns how many were deleted. */
  deleteBatch(keys: readonly Uint8Array[]): number {
    for (const k of keys) this.checkKey(k);
    const w = new AttrWriter(MAP_BATCH_ATTR).ptr('keys', concat(keys)).u32('count', keys.length).u32('map_fd', this.fd);
    try {
      this.sys.call(w.syscall('map_delete_batch'));
    } catch (e) {
      if (!(e instanceof SyscallError && e.errno === ERRNO.ENOENT)) throw e;
    }
    return readU32(w.attr, MAP_BATCH_ATTR.fields.count);
  }

  /** BPF_MAP_FREEZE: no more writes from user space (programs may still write unless BPF_F_RDONLY_PROG). */
  freeze(): void {
    this.sys.call(new AttrWriter(MAP_FREEZE_ATTR).u32('map_fd', this.fd).syscall('map_freeze'));
  }

  /** BPF_OBJ_PIN at `path` under a bpffs mount. */
  pin(path: string): void {
    objPin(this.fd, path, this.sys);
  }

  /** BPF_OBJ_GET_INFO_BY_FD. */
  info(): MapInfo {
    return mapInfo(this.fd, this.sys);
  }

  /**
   * The value of a BPF_F_MMAPABLE array map, memory-mapped: reads and
   * writes go straight to the kernel's copy (global variables in .data and
   * .bss). Valid until close(). Read-only for frozen maps.
   */
  memory(): Uint8Array {
    if (this.type !== 'array' || (this.flags & MAP_FLAG.mmapable) === 0) {
      throw new KernelArgumentError(`map ${this.label}: only arrays created with BPF_F_MMAPABLE can be memory-mapped`);
    }
    if (!this.#mapping) {
      const len = roundUpPage(roundUp8(this.valueSize) * this.maxEntries);
      try {
        this.#mapping = mmapFd(this.fd, len, true);
      } catch (e) {
        // A frozen map can only be mapped read-only.
        if (!(e instanceof SyscallError && e.errno === ERRNO.EPERM)) throw e;
        this.#mapping = mmapFd(this.fd, len, false);
      }
    }
    return new Uint8Array(this.#mapping.buffer, 0, this.valueSize * this.maxEntries);
  }

  close(): void {
    this.#mapping?.unmap();
    this.#mapping = undefined;
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private get label(): string {
    return this.name ?? this.type;
  }

  private checkKey(key: Uint8Array): void {
    // Queues, stacks and bloom filters have no key.
    if (this.keySize === 0 && key.length === 0) return;
    this.checkSize('key', key, this.keySize);
  }

  private checkSize(what: string, buf: Uint8Array, size: number): void {
    if (buf.length !== size) {
      throw new KernelArgumentError(`map ${this.label}: ${what} is ${buf.length} bytes, the map's ${what} size is ${size}`);
    }
  }
}

/** BPF_MAP_CREATE. */
export function createMap(opts: MapCreateOptions): BpfMap {
  const sys = opts.sys ?? nativeSys;
  const w = new AttrWriter(MAP_CREATE_ATTR)
    .u32('map_type', MAP_TYPE[opts.type])
    .u32('key_size', opts.keySize)
    .u32('value_size', opts.valueSize)
    .u32('max_entries', opts.maxEntries)
    .u32('map_flags', opts.flags ?? 0);
  if (opts.name) w.name('map_name', opts.name);
  if (opts.innerMap) w.u32('inner_map_fd', opts.innerMap.fd);
  if (opts.numaNode !== undefined) w.u32('numa_node', opts.numaNode);
  if (opts.mapExtra) w.u64('map_extra', opts.mapExtra);
  if (opts.btf) w.u32('btf_fd', opts.btf.fd).u32('btf_key_type_id', opts.btf.keyTypeId).u32('btf_value_type_id', opts.btf.valueTypeId);
  const fd = sys.call(w.syscall('map_create'));
  return new BpfMap(fd, opts, sys);
}

/** BPF_OBJ_GET_INFO_BY_FD on a map fd. */
export function mapInfo(fd: number, sys: Sys = nativeSys): MapInfo {
  const b = objectInfo(fd, MAP_INFO.size, sys);
  const f = MAP_INFO.fields;
  return {
    id: readU32(b, f.id),
    type: mapTypeName(readU32(b, f.type)),
    name: readName(b, f.name),
    keySize: readU32(b, f.key_size),
    valueSize: readU32(b, f.value_size),
    maxEntries: readU32(b, f.max_entries),
    flags: readU32(b, f.map_flags),
    btfId: readU32(b, f.btf_id),
  };
}

/** A map already in the kernel, from its fd (taking ownership of it). */
export function mapFromFd(fd: number, sys: Sys = nativeSys): BpfMap {
  let info: MapInfo;
  try {
    info = mapInfo(fd, sys);
  } catch (e) {
    sys.call({ kind: 'close', fd });
    throw e;
  }
  if (typeof info.type === 'number') {
    sys.call({ kind: 'close', fd });
    throw new KernelArgumentError(`map id ${info.id} has type ${info.type}, unknown to bpfkit`);
  }
  return new BpfMap(fd, { type: info.type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.flags, name: info.name }, sys);
}

/** BPF_OBJ_GET: a map pinned at `path`. */
export function openPinnedMap(path: string, sys: Sys = nativeSys): BpfMap {
  return mapFromFd(objGet(path, sys), sys);
}

function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

function roundUpPage(n: number): number {
  return Math.ceil(n / 4096) * 4096;
}

function splitPerCpu(raw: Uint8Array, valueSize: number): Uint8Array[] {
  const stride = roundUp8(valueSize);
  const out: Uint8Array[] = [];
  for (let o = 0; o + stride <= raw.length; o += stride) out.push(raw.slice(o, o + valueSize));
  return out;
}

function joinPerCpu(values: readonly Uint8Array[], valueSize: number): Uint8Array {
  const stride = roundUp8(valueSize);
  const out = new Uint8Array(stride * values.length);
  values.forEach((v, i) => out.set(v, i * stride));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
