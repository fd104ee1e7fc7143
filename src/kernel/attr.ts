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

  private field(name: string, size: number): AttrField {
    const f = this.layout.fields[name];
    if (!f || f.size !== size) throw new RangeError(`bpf_attr field ${name} is not ${size} bytes`);
    return f;
  }
}

/** Read back a u32 the kernel wrote into an attribute block. */
export function readU32(attr: Uint8Array, field: AttrField): number {
  return new DataView(attr.buffer, attr.byteOffset, attr.byteLength).getUint32(field.offset, true);
}
