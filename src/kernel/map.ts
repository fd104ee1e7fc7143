/**
 * Maps in the kernel: BPF_MAP_CREATE and the element commands.
 */
import { AttrWriter, MAP_CREATE_ATTR, MAP_ELEM_ATTR } from './attr.js';
import { MAP_TYPE, UPDATE_FLAG, type MapType, type UpdateFlag } from './constants.js';
import { ERRNO } from './errno.js';
import { KernelArgumentError } from './errors.js';
import { KernelFd } from './fd.js';
import { nativeSys } from './native.js';
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
  readonly sys?: Sys;
}

/** A map, owning its fd. Per-CPU map values are not handled yet. */
export class BpfMap implements Disposable {
  readonly #fd: KernelFd;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly name: string | undefined;
  private readonly sys: Sys;

  constructor(fd: number, opts: MapCreateOptions, sys: Sys) {
    this.type = opts.type;
    this.keySize = opts.keySize;
    this.valueSize = opts.valueSize;
    this.maxEntries = opts.maxEntries;
    this.name = opts.name;
    this.sys = sys;
    this.#fd = new KernelFd(fd, `map ${opts.type}${opts.name ? ` '${opts.name}'` : ''}`, sys);
  }

  get fd(): number {
    return this.#fd.fd;
  }

  /** BPF_MAP_LOOKUP_ELEM: a copy of the value, or undefined when the key is absent. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkSize('key', key, this.keySize);
    const value = new Uint8Array(this.valueSize);
    const w = new AttrWriter(MAP_ELEM_ATTR).u32('map_fd', this.fd).ptr('key', key).ptr('value', value);
    try {
      this.sys.call(w.syscall('map_lookup_elem'));
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) return undefined;
      throw e;
    }
    return value;
  }

  /** BPF_MAP_UPDATE_ELEM with BPF_ANY (default), BPF_NOEXIST or BPF_EXIST. */
  update(key: Uint8Array, value: Uint8Array, flag: UpdateFlag = 'any'): void {
    this.checkSize('key', key, this.keySize);
    this.checkSize('value', value, this.valueSize);
    const w = new AttrWriter(MAP_ELEM_ATTR)
      .u32('map_fd', this.fd)
      .ptr('key', key)
      .ptr('value', value)
      .u64('flags', BigInt(UPDATE_FLAG[flag]));
    this.sys.call(w.syscall('map_update_elem'));
  }

  /** BPF_MAP_DELETE_ELEM; false when the key was absent. */
  delete(key: Uint8Array): boolean {
    this.checkSize('key', key, this.keySize);
    const w = new AttrWriter(MAP_ELEM_ATTR).u32('map_fd', this.fd).ptr('key', key);
    try {
      this.sys.call(w.syscall('map_delete_elem'));
      return true;
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) return false;
      throw e;
    }
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private checkSize(what: string, buf: Uint8Array, size: number): void {
    if (buf.length !== size) {
      throw new KernelArgumentError(`map ${this.name ?? this.type}: ${what} is ${buf.length} bytes, the map's ${what} size is ${size}`);
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
  const fd = sys.call(w.syscall('map_create'));
  return new BpfMap(fd, opts, sys);
}
