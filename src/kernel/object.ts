/**
 * Commands shared by every kind of kernel object: pinning under bpffs,
 * opening pinned objects, information by fd, walking ids.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { AttrWriter, GET_ID_ATTR, OBJ_INFO_ATTR, OBJ_PIN_ATTR, readU32 } from './attr.js';
import type { BpfCmd } from './constants.js';
import { ERRNO } from './errno.js';
import { nativeSys } from './native.js';
import { SyscallError, type Sys } from './sys.js';

export const BPFFS = '/sys/fs/bpf';

const cstr = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

/** BPF_OBJ_PIN: make the object outlive its fds at `path` (under a bpffs mount). */
export function objPin(fd: number, path: string, sys: Sys = nativeSys): void {
  if (path.startsWith(`${BPFFS}/`)) ensureBpffs();
  sys.call(new AttrWriter(OBJ_PIN_ATTR).ptr('pathname', cstr(path)).u32('bpf_fd', fd).syscall('obj_pin'));
}

/** BPF_OBJ_GET: a new fd for the object pinned at `path`. */
export function objGet(path: string, sys: Sys = nativeSys): number {
  return sys.call(new AttrWriter(OBJ_PIN_ATTR).ptr('pathname', cstr(path)).syscall('obj_get'));
}

/** BPF_OBJ_GET_INFO_BY_FD into a buffer of `size` bytes (the kernel fills what it knows). */
export function objectInfo(fd: number, size: number, sys: Sys = nativeSys, prefill?: (info: Uint8Array) => void): Uint8Array {
  const info = new Uint8Array(size);
  prefill?.(info);
  const w = new AttrWriter(OBJ_INFO_ATTR).u32('bpf_fd', fd).u32('info_len', size).ptr('info', info);
  sys.call(w.syscall('obj_get_info_by_fd'));
  return info;
}

export type ObjectKind = 'prog' | 'map' | 'link';

const NEXT_ID: Record<ObjectKind, BpfCmd> = { prog: 'prog_get_next_id', map: 'map_get_next_id', link: 'link_get_next_id' };
const FD_BY_ID: Record<ObjectKind | 'btf', BpfCmd> = { prog: 'prog_get_fd_by_id', map: 'map_get_fd_by_id', link: 'link_get_fd_by_id', btf: 'btf_get_fd_by_id' };

/** Ids of every object of a kind in the kernel (BPF_*_GET_NEXT_ID), ascending. */
export function objectIds(kind: ObjectKind, sys: Sys = nativeSys): number[] {
  const ids: number[] = [];
  let id = 0;
  for (;;) {
    const w = new AttrWriter(GET_ID_ATTR).u32('start_id', id);
    try {
      sys.call(w.syscall(NEXT_ID[kind]));
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) return ids;
      throw e;
    }
    id = readU32(w.attr, GET_ID_ATTR.fields.next_id);
    ids.push(id);
  }
}

/** A new fd for the object with this id (BPF_*_GET_FD_BY_ID); the caller owns it. */
export function fdById(kind: ObjectKind | 'btf', id: number, sys: Sys = nativeSys): number {
  return sys.call(new AttrWriter(GET_ID_ATTR).u32('start_id', id).syscall(FD_BY_ID[kind]));
}

/** Mount bpffs at /sys/fs/bpf unless something is mounted there already. */
export function ensureBpffs(): void {
  ensureMount(BPFFS, 'bpf');
}

/** Mount a pseudo file system (bpf, tracefs) at `dir` unless it is mounted already. */
export function ensureMount(dir: string, fsType: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === dir && l.split(' ')[2] === fsType)) return;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', fsType, fsType, dir], { stdio: 'pipe' });
}
