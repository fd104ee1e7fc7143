/**
 * Layouts of the members of `union bpf_attr` (include/uapi/linux/bpf.h)
 * that bpfkit sends, and a writer that fills them.
 *
 * Offsets are the kernel's (Linux 6.18); each layout names the anonymous
 * struct it mirrors. test/kernel/layout.test.ts compares every field with
 * the running kernel's BTF of `union bpf_attr`, so they cannot drift.
 * Fields bpfkit does not set yet are listed anyway so the size is right.
 */
import type { BpfCmd } from './constants.js';
import type { PointerField, Syscall } from './sys.js';

export interface AttrField {
  readonly offset: number;
  /** Bytes; pointers are 8 (__aligned_u64). */
  readonly size: number;
}

export interface AttrLayout {
  /** Size of the struct in the kernel; the size passed to bpf(2). */
  readonly size: number;
  readonly fields: Readonly<Record<string, AttrField>>;
}

const u32 = (offset: number): AttrField => ({ offset, size: 4 });
const u64 = (offset: number): AttrField => ({ offset, size: 8 });
const bytes = (offset: number, size: number): AttrField => ({ offset, size });

/** struct { map_type; key_size; ... } of BPF_MAP_CREATE. */
export const MAP_CREATE_ATTR = {
  size: 96,
  fields: {
    map_type: u32(0), key_size: u32(4), value_size: u32(8), max_entries: u32(12),
    map_flags: u32(16), inner_map_fd: u32(20), numa_node: u32(24), map_name: bytes(28, 16),
    map_ifindex: u32(44), btf_fd: u32(48), btf_key_type_id: u32(52), btf_value_type_id: u32(56),
    btf_vmlinux_value_type_id: u32(60), map_extra: u64(64), value_type_btf_obj_fd: u32(72),
    map_token_fd: u32(76), excl_prog_hash: u64(80), excl_prog_hash_size: u32(88),
  },
} as const satisfies AttrLayout;

/** struct { map_fd; key; value / next_key; flags } of BPF_MAP_*_ELEM. */
export const MAP_ELEM_ATTR = {
  size: 32,
  fields: { map_fd: u32(0), key: u64(8), value: u64(16), flags: u64(24) },
} as const satisfies AttrLayout;

/** struct { prog_type; insn_cnt; insns; license; ... } of BPF_PROG_LOAD. */
export const PROG_LOAD_ATTR = {
  size: 168,
  fields: {
    prog_type: u32(0), insn_cnt: u32(4), insns: u64(8), license: u64(16),
    log_level: u32(24), log_size: u32(28), log_buf: u64(32), kern_version: u32(40),
    prog_flags: u32(44), prog_name: bytes(48, 16), prog_ifindex: u32(64),
    expected_attach_type: u32(68), prog_btf_fd: u32(72), func_info_rec_size: u32(76),
    func_info: u64(80), func_info_cnt: u32(88), line_info_rec_size: u32(92),
    line_info: u64(96), line_info_cnt: u32(104), attach_btf_id: u32(108),
    attach_prog_fd: u32(112), core_relo_cnt: u32(116), fd_array: u64(120),
    core_relos: u64(128), core_relo_rec_size: u32(136), log_true_size: u32(140),
    prog_token_fd: u32(144), fd_array_cnt: u32(148), signature: u64(152),
    signature_size: u32(160), keyring_id: u32(164),
  },
} as const satisfies AttrLayout;

/** struct test of BPF_PROG_TEST_RUN (alias BPF_PROG_RUN). */
export const PROG_TEST_RUN_ATTR = {
  size: 80,
  fields: {
    prog_fd: u32(0), retval: u32(4), data_size_in: u32(8), data_size_out: u32(12),
    data_in: u64(16), data_out: u64(24), repeat: u32(32), duration: u32(36),
    ctx_size_in: u32(40), ctx_size_out: u32(44), ctx_in: u64(48), ctx_out: u64(56),
    flags: u32(64), cpu: u32(68), batch_size: u32(72),
  },
} as const satisfies AttrLayout;

/** struct { in_batch; out_batch; keys; values; count; map_fd; elem_flags; flags } batch, of BPF_MAP_*_BATCH. */
export const MAP_BATCH_ATTR = {
  size: 56,
  fields: {
    in_batch: u64(0), out_batch: u64(8), keys: u64(16), values: u64(24),
    count: u32(32), map_fd: u32(36), elem_flags: u64(40), flags: u64(48),
  },
} as const satisfies AttrLayout;

/** struct { pathname; bpf_fd; file_flags; path_fd } of BPF_OBJ_PIN and BPF_OBJ_GET. */
export const OBJ_PIN_ATTR = {
  size: 24,
  fields: { pathname: u64(0), bpf_fd: u32(8), file_flags: u32(12), path_fd: u32(16) },
} as const satisfies AttrLayout;

/** struct { start_id / prog_id / map_id / link_id; next_id; open_flags; ... } of BPF_*_GET_NEXT_ID and BPF_*_GET_FD_BY_ID. */
export const GET_ID_ATTR = {
  size: 16,
  fields: { start_id: u32(0), next_id: u32(4), open_flags: u32(8), fd_by_id_token_fd: u32(12) },
} as const satisfies AttrLayout;

/** struct info of BPF_OBJ_GET_INFO_BY_FD. */
export const OBJ_INFO_ATTR = {
  size: 16,
  fields: { bpf_fd: u32(0), info_len: u32(4), info: u64(8) },
} as const satisfies AttrLayout;

/** struct raw_tracepoint of BPF_RAW_TRACEPOINT_OPEN. */
export const RAW_TRACEPOINT_ATTR = {
  size: 24,
  fields: { name: u64(0), prog_fd: u32(8), cookie: u64(16) },
} as const satisfies AttrLayout;

/** struct { btf; btf_log_buf; btf_size; ... } of BPF_BTF_LOAD. */
export const BTF_LOAD_ATTR = {
  size: 40,
  fields: {
    btf: u64(0), btf_log_buf: u64(8), btf_size: u32(16), btf_log_size: u32(20),
    btf_log_level: u32(24), btf_log_true_size: u32(28), btf_flags: u32(32), btf_token_fd: u32(36),
  },
} as const satisfies AttrLayout;

/**
 * struct link_create of BPF_LINK_CREATE. The union at 16 is named by its
 * members: target_btf_id (fentry, LSM...), perf_event (bpf_cookie), tcx
 * (relative_fd at 16, expected_revision at 24).
 */
export const LINK_CREATE_ATTR = {
  size: 64,
  fields: {
    prog_fd: u32(0), target_fd: u32(4), attach_type: u32(8), flags: u32(12),
    target_btf_id: u32(16), perf_event: u64(16), tcx: bytes(16, 16),
  },
} as const satisfies AttrLayout;

/** struct link_detach of BPF_LINK_DETACH. */
export const LINK_DETACH_ATTR = { size: 4, fields: { link_fd: u32(0) } } as const satisfies AttrLayout;

/** struct { target_fd; attach_bpf_fd; attach_type; attach_flags; ... } of BPF_PROG_ATTACH / DETACH. */
export const PROG_ATTACH_ATTR = {
  size: 32,
  fields: {
    target_fd: u32(0), attach_bpf_fd: u32(4), attach_type: u32(8), attach_flags: u32(12),
    replace_bpf_fd: u32(16), relative_fd: u32(20), expected_revision: u64(24),
  },
} as const satisfies AttrLayout;

/** struct { map_fd } of BPF_MAP_FREEZE (the first member of the element struct). */
export const MAP_FREEZE_ATTR = { size: 32, fields: { map_fd: u32(0) } } as const satisfies AttrLayout;

/** struct bpf_prog_info (BPF_OBJ_GET_INFO_BY_FD on a program), the fields bpfkit reads. */
export const PROG_INFO = {
  size: 232,
  fields: {
    type: u32(0), id: u32(4), tag: bytes(8, 8), jited_prog_len: u32(16), xlated_prog_len: u32(20),
    jited_prog_insns: u64(24), xlated_prog_insns: u64(32), load_time: u64(40), created_by_uid: u32(48),
    nr_map_ids: u32(52), map_ids: u64(56), name: bytes(64, 16), ifindex: u32(80), btf_id: u32(128),
    nr_jited_ksyms: u32(104), jited_ksyms: u64(112), func_info_rec_size: u32(132), func_info: u64(136), nr_func_info: u32(144), nr_line_info: u32(148),
    line_info: u64(152), line_info_rec_size: u32(172),
    run_time_ns: u64(192), run_cnt: u64(200), verified_insns: u32(216),
  },
} as const satisfies AttrLayout;

/** struct bpf_btf_info. */
export const BTF_INFO = {
  size: 32,
  fields: { btf: u64(0), btf_size: u32(8), id: u32(12), name: u64(16), name_len: u32(24), kernel_btf: u32(28) },
} as const satisfies AttrLayout;

/** struct bpf_map_info, the fields bpfkit reads. */
export const MAP_INFO = {
  size: 104,
  fields: {
    type: u32(0), id: u32(4), key_size: u32(8), value_size: u32(12), max_entries: u32(16),
    map_flags: u32(20), name: bytes(24, 16), ifindex: u32(40), btf_id: u32(64),
    btf_key_type_id: u32(68), btf_value_type_id: u32(72), map_extra: u64(80),
  },
} as const satisfies AttrLayout;

/** struct bpf_link_info: type, id, prog_id, then a per-type union bpfkit does not read. */
export const LINK_INFO = {
  size: 112,
  fields: { type: u32(0), id: u32(4), prog_id: u32(8) },
} as const satisfies AttrLayout;

/** struct perf_event_attr (PERF_ATTR_SIZE_VER8), the fields bpfkit sets. */
export const PERF_EVENT_ATTR = {
  size: 136,
  fields: {
    type: u32(0), size: u32(4), config: u64(8), sample_period: u64(16), sample_type: u64(24),
    read_format: u64(32), flags: u64(40), wakeup_events: u32(48), bp_type: u32(52),
    config1: u64(56), config2: u64(64),
  },
} as const satisfies AttrLayout;

/** Fills one attribute block; `syscall(cmd)` turns it into the value a `Sys` takes. */
export class AttrWriter<L extends AttrLayout> {
  readonly attr: Uint8Array;
  private readonly view: DataView;
  private readonly pointers: PointerField[] = [];

  constructor(private readonly layout: L) {
    this.attr = new Uint8Array(layout.size);
    this.view = new DataView(this.attr.buffer);
  }

  u32(name: keyof L['fields'] & string, value: number): this {
    this.view.setUint32(this.field(name, 4).offset, value >>> 0, true);
    return this;
  }

  u64(name: keyof L['fields'] & string, value: bigint): this {
    this.view.setBigUint64(this.field(name, 8).offset, BigInt.asUintN(64, value), true);
    return this;
  }

  /** A pointer to `buf` (NULL when undefined); the Sys fills in the address. */
  ptr(name: keyof L['fields'] & string, buf: Uint8Array | undefined): this {
    this.pointers.push({ offset: this.field(name, 8).offset, buf });
    return this;
  }

  /** A NUL-padded object name (char[16]), truncated to 15 bytes as libbpf does. */
  name(name: keyof L['fields'] & string, value: string): this {
    const f = this.field(name, 16);
    const enc = new TextEncoder().encode(value).subarray(0, f.size - 1);
    this.attr.set(enc, f.offset);
    return this;
  }

  syscall(cmd: BpfCmd): Syscall {
    return { kind: 'bpf', cmd, attr: this.attr, pointers: this.pointers };
  }

  /** The pointer fields set so far (for calls other than bpf(2) that take this block). */
  get pointerFields(): readonly PointerField[] {
    return this.pointers;
  }

  /** Raw bytes at a field (a char[] name, a tag). */
  bytes(name: keyof L['fields'] & string, value: Uint8Array): this {
    const f = this.layout.fields[name];
    if (!f || value.length > f.size) throw new RangeError(`field ${name} cannot hold ${value.length} bytes`);
    this.attr.set(value, f.offset);
    return this;
  }

  private field(name: string, size: number): AttrField {
    const f = this.layout.fields[name];
    if (!f || f.size !== size) throw new RangeError(`bpf_attr field ${name} is not ${size} bytes`);
    return f;
  }
}

/** Read back a u64 the kernel wrote. */
export function readU64(attr: Uint8Array, field: AttrField): bigint {
  return new DataView(attr.buffer, attr.byteOffset, attr.byteLength).getBigUint64(field.offset, true);
}

/** A NUL-terminated char[] field. */
export function readName(attr: Uint8Array, field: AttrField): string {
  const b = attr.subarray(field.offset, field.offset + field.size);
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/** Read back a u32 the kernel wrote into an attribute block. */
export function readU32(attr: Uint8Array, field: AttrField): number {
  return new DataView(attr.buffer, attr.byteOffset, attr.byteLength).getUint32(field.offset, true);
}
