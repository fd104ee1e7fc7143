/**
 * A whole BTF as a C header that compiles, like `bpftool btf dump file
 * /sys/kernel/btf/vmlinux format c` (vmlinux.h): every named type is
 * defined after the types it holds by value; types reached only through
 * pointers get forward declarations. Records carry preserve_access_index
 * so CO-RE relocations are emitted for every field access.
 */
import { CPrinter } from './c-printer.js';
import { BtfError } from './errors.js';
import type { Btf } from './spec.js';

const enum State { None, InProgress, Defined }

/** Real type graphs nest by value a few dozen levels; deeper means a corrupt (cyclic) BTF. */
const MAX_DEPTH = 1000;

export function dumpCHeader(btf: Btf): string {
  try {
    return dump(btf);
  } catch (e) {
    // A cyclic corrupt BTF can still exhaust the stack in a printer: report it as corrupt.
    if (e instanceof RangeError && /call stack/.test(e.message)) throw new BtfError('type graph too deep to print', 0, undefined, { cause: e });
    throw e;
  }
}

function dump(btf: Btf): string {
  const p = new CPrinter(btf);
  const out: string[] = [];
  const state = new Uint8Array(btf.typeCount);
  const declared = new Uint8Array(btf.typeCount);

  // Anonymous enums used inside other types are printed there; the rest at top level.
  const usedInline = new Uint8Array(btf.typeCount);
  for (const t of btf.types()) {
    if (t.kind === 'struct' || t.kind === 'union') for (const m of t.members) usedInline[m.type] = 1;
    else if (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'ptr' || t.kind === 'type_tag' || t.kind === 'restrict') usedInline[t.type] = 1;
    else if (t.kind === 'array') usedInline[t.elemType] = 1;
    else if (t.kind === 'func_proto') {
      usedInline[t.returnType] = 1;
      for (const q of t.params) usedInline[q.type] = 1;
    }
  }

  const emit = (text: string): void => {
    out.push(text, '');
  };

  const forward = (id: number): void => {
    if (declared[id]) return;
    declared[id] = 1;
    const t = btf.type(id);
    emit(`${t.kind === 'union' || (t.kind === 'fwd' && t.union) ? 'union' : 'struct'} ${p.nameOf(id)};`);
  };

  // Define a named type (and first whatever it needs complete).
  const define = (id: number, depth: number): void => {
    if (state[id] !== State.None) return;
    if (depth > MAX_DEPTH) throw new BtfError('type graph too deep', 0, id);
    const t = btf.type(id);
    switch (t.kind) {
      case 'struct': case 'union':
        state[id] = State.InProgress;
        for (const m of t.members) complete(m.type, depth + 1);
        emit(p.definition(id));
        declared[id] = 1;
        break;
      case 'enum': case 'enum64':
        emit(p.definition(id));
        break;
      case 'typedef':
        // The compiler defines __builtin_va_list itself.
        if (t.name.startsWith('__builtin_')) break;
        state[id] = State.InProgress;
        weak(t.type, depth + 1);
        emit(p.definition(id));
        break;
      case 'fwd':
        forward(id);
        break;
      default:
        break;
    }
    state[id] = State.Defined;
  };

  // `id` is used by value: it must be complete here.
  const complete = (id: number, depth: number): void => {
    if (depth > MAX_DEPTH) throw new BtfError('type graph too deep', 0, id);
    const t = btf.type(id);
    switch (t.kind) {
      case 'struct': case 'union':
        if (t.name) define(id, depth);
        else for (const m of t.members) complete(m.type, depth + 1);
        break;
      case 'enum': case 'enum64':
        if (t.name) define(id, depth);
        break;
      case 'typedef':
        define(id, depth);
        complete(t.type, depth + 1);
        break;
      case 'const': case 'volatile': case 'restrict': case 'type_tag':
        complete(t.type, depth + 1);
        break;
      case 'array':
        complete(t.elemType, depth + 1);
        break;
      default:
        weak(id, depth);
    }
  };

  // `id` is used through a pointer: a declaration is enough.
  const weak = (id: number, depth: number): void => {
    if (depth > MAX_DEPTH) throw new BtfError('type graph too deep', 0, id);
    const t = btf.type(id);
    switch (t.kind) {
      case 'struct': case 'union':
        if (!t.name) for (const m of t.members) complete(m.type, depth + 1);
        else if (state[id] !== State.Defined) forward(id);
        break;
      case 'fwd':
        forward(id);
        break;
      case 'enum': case 'enum64': case 'typedef':
        if (t.name || t.kind === 'typedef') define(id, depth);
        break;
      case 'ptr': case 'const': case 'volatile': case 'restrict': case 'type_tag':
        weak(t.type, depth + 1);
        break;
      case 'array':
        complete(t.elemType, depth + 1);
        break;
      case 'func_proto':
        weak(t.returnType, depth + 1);
        for (const q of t.params) weak(q.type, depth + 1);
        break;
      default:
        break;
    }
  };

  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if ((t.kind === 'struct' || t.kind === 'union' || t.kind === 'typedef') && t.name) define(id, 0);
    else if (t.kind === 'enum' || t.kind === 'enum64') {
      if (t.name) define(id, 0);
      else if (state[id] === State.None && !usedInline[id]) {
        state[id] = State.Defined;
        emit(`${p.enumBody(t, 0)};`);
      }
    } else if (t.kind === 'fwd' && !declared[id] && p.nameOf(id) !== t.name) forward(id);
  }

  return [
    '#ifndef __VMLINUX_H__',
    '#define __VMLINUX_H__',
    '',
    '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX',
    '#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)',
    '#endif',
    '',
    ...out,
    '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX',
    '#pragma clang attribute pop',
    '#endif',
    '',
    '#endif /* __VMLINUX_H__ */',
    '',
  ].join('\n');
}
