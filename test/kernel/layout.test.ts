/**
 * The hand-written kernel ABI tables of src/kernel checked against the
 * running kernel's own description: bpf_attr layouts and enum values from
 * its BTF (/sys/kernel/btf/vmlinux, dumped by bpftool), errno numbers from
 * the system's asm-generic headers. Needs no privileges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { attr, ATTACH_TYPE, BPF_CMD, ERRNO, MAP_TYPE, PROG_TYPE } from '../../src/kernel/index.js';
import { requireKernel } from '../helpers/kernel.js';

interface BtfType {
  kind: string;
  name: string;
  /** size=, type_id=, nr_elems= ... */
  props: Record<string, number>;
  members: { name: string; typeId: number; bitsOffset: number; val?: number }[];
}

function loadBtf(): Map<number, BtfType> | string {
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no /sys/kernel/btf/vmlinux (kernel without BTF)';
  let text: string;
  try {
    text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
  } catch (e) {
    return `bpftool failed: ${(e as Error).message}`;
  }
  const types = new Map<number, BtfType>();
  let cur: BtfType | undefined;
  for (const line of text.split('\n')) {
    const head = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
    if (head) {
      const props: Record<string, number> = {};
      for (const m of head[4].matchAll(/(\w+)=(-?\d+)/g)) props[m[1]] = Number(m[2]);
      cur = { kind: head[2], name: head[3], props, members: [] };
      types.set(Number(head[1]), cur);
      continue;
    }
    const member = /^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)/.exec(line);
    if (member && cur) {
      cur.members.push({ name: member[1], typeId: Number(member[2]), bitsOffset: Number(member[3]) });
      continue;
    }
    const enumerator = /^\t'([^']*)' val=(-?\d+)/.exec(line);
    if (enumerator && cur) cur.members.push({ name: enumerator[1], typeId: 0, bitsOffset: 0, val: Number(enumerator[2]) });
  }
  return types;
}

const btf = loadBtf();
const skip = typeof btf === 'string' && !requireKernel ? btf : false;

function types(): Map<number, BtfType> {
  if (typeof btf === 'string') assert.fail(btf);
  return btf;
}

function byName(kind: string, name: string): BtfType {
  for (const t of types().values()) if (t.kind === kind && t.name === name) return t;
  assert.fail(`BTF has no ${kind} ${name}`);
}

/** Byte size of a type, through typedefs and qualifiers. */
function sizeOf(id: number): number {
  const t = types().get(id);
  assert.ok(t, `BTF type ${id}`);
  switch (t.kind) {
    case 'TYPEDEF': case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPE_TAG':
      return sizeOf(t.props.type_id);
    case 'ARRAY':
      return t.props.nr_elems * sizeOf(t.props.type_id);
    case 'PTR':
      return 8;
    default:
      return t.props.size;
  }
}

/** Members of a struct with anonymous struct/union members flattened in. */
function flatten(id: number, base = 0, out = new Map<string, { offset: number; size: number }>()) {
  const t = types().get(id);
  assert.ok(t, `BTF type ${id}`);
  for (const m of t.members) {
    const offset = base + m.bitsOffset / 8;
    if (m.name === '(anon)') flatten(m.typeId, offset, out);
    else out.set(m.name, { offset, size: sizeOf(m.typeId) });
  }
  return out;
}

/** The member struct of union bpf_attr whose fields include all of `names`. */
function attrStruct(names: string[]): { id: number; size: number } {
  for (const m of byName('UNION', 'bpf_attr').members) {
    const fields = flatten(m.typeId);
    if (names.every((n) => fields.has(n))) return { id: m.typeId, size: sizeOf(m.typeId) };
  }
  assert.fail(`no member of union bpf_attr has ${names.join(', ')}`);
}

const LAYOUTS = {
  MAP_CREATE_ATTR: attr.MAP_CREATE_ATTR,
  MAP_ELEM_ATTR: attr.MAP_ELEM_ATTR,
  PROG_LOAD_ATTR: attr.PROG_LOAD_ATTR,
  PROG_TEST_RUN_ATTR: attr.PROG_TEST_RUN_ATTR,
  MAP_BATCH_ATTR: attr.MAP_BATCH_ATTR,
  OBJ_PIN_ATTR: attr.OBJ_PIN_ATTR,
  GET_ID_ATTR: attr.GET_ID_ATTR,
  OBJ_INFO_ATTR: attr.OBJ_INFO_ATTR,
  RAW_TRACEPOINT_ATTR: attr.RAW_TRACEPOINT_ATTR,
  BTF_LOAD_ATTR: attr.BTF_LOAD_ATTR,
  LINK_CREATE_ATTR: attr.LINK_CREATE_ATTR,
  PROG_ATTACH_ATTR: attr.PROG_ATTACH_ATTR,
};

/** Structures outside bpf_attr, checked by their own name. */
const STRUCTS = {
  bpf_prog_info: attr.PROG_INFO,
  bpf_map_info: attr.MAP_INFO,
  bpf_btf_info: attr.BTF_INFO,
  perf_event_attr: attr.PERF_EVENT_ATTR,
};

for (const [name, layout] of Object.entries(STRUCTS)) {
  test(`struct ${name} layout matches the kernel's BTF`, { skip }, () => {
    const t = byName('STRUCT', name);
    if (name !== 'perf_event_attr') assert.equal(layout.size, t.props.size, 'struct size');
    const kernel = flatten(t.members.length ? [...types().entries()].find(([, v]) => v === t)![0] : 0);
    const fields: Record<string, attr.AttrField> = layout.fields;
    for (const [field, f] of Object.entries(fields)) {
      if (field === 'flags' && name === 'perf_event_attr') continue; // a run of bitfields
      assert.deepEqual(f, kernel.get(field), `${name}.${field}`);
    }
  });
}

for (const [name, layout] of Object.entries(LAYOUTS)) {
  test(`${name} matches the kernel's union bpf_attr`, { skip }, () => {
    const fields: Record<string, attr.AttrField> = layout.fields;
    const s = attrStruct(Object.keys(fields));
    assert.equal(layout.size, s.size, 'struct size');
    const kernel = flatten(s.id);
    for (const [field, f] of Object.entries(fields)) {
      const k = kernel.get(field);
      assert.deepEqual(f, k, `${name}.${field}`);
    }
  });
}

const ENUMS = [
  { table: BPF_CMD, enumName: 'bpf_cmd', prefix: 'BPF_' },
  { table: PROG_TYPE, enumName: 'bpf_prog_type', prefix: 'BPF_PROG_TYPE_' },
  { table: MAP_TYPE, enumName: 'bpf_map_type', prefix: 'BPF_MAP_TYPE_' },
  { table: ATTACH_TYPE, enumName: 'bpf_attach_type', prefix: 'BPF_' },
];

for (const { table, enumName, prefix } of ENUMS) {
  test(`enum ${enumName} values match the kernel's BTF`, { skip }, () => {
    const e = byName('ENUM', enumName);
    const vals = new Map(e.members.map((m) => [m.name, m.val]));
    for (const [key, value] of Object.entries(table)) {
      assert.equal(vals.get(`${prefix}${key.toUpperCase()}`), value, `${prefix}${key.toUpperCase()}`);
    }
  });
}

const headers = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];
test('errno numbers match asm-generic/errno*.h', { skip: headers.every(existsSync) ? false : 'no asm-generic errno headers' }, () => {
  const defined = new Map<string, number>();
  for (const h of headers) {
    for (const m of readFileSync(h, 'utf8').matchAll(/^#define\s+(E\w+)\s+(\d+)/gm)) defined.set(m[1], Number(m[2]));
  }
  for (const [name, value] of Object.entries(ERRNO)) {
    if (name === 'ENOTSUPP') continue; // kernel-internal (include/linux/errno.h), not in the uapi headers
    assert.equal(defined.get(name), value, name);
  }
});
