/**
 * A loaded program's instructions as the kernel rewrote them, printed as
 * `bpftool prog dump xlated` prints them: helper calls named from
 * /proc/kallsyms (the kernel stores them as offsets from __bpf_call_base),
 * map loads as map[id:N] and map[id:N][0]+off.
 */
import { readFileSync } from 'node:fs';
import { formatInsn } from '../asm/index.js';
import { decodeAt, encodeInsn, type Insn } from '../isa/index.js';

import { Btf } from '../btf/index.js';
import { BTF_INFO, PROG_INFO, readU32 } from './attr.js';
import { objectInfo, fdById } from './object.js';
import { programCode } from './program.js';
import { addressOf, nativeSys } from './native.js';
import type { Sys } from './sys.js';

let syms: { base: bigint; byAddr: Map<bigint, string> } | undefined;

function kallsyms(refresh = false): { base: bigint; byAddr: Map<bigint, string> } {
  if (!syms || refresh) {
    const byAddr = new Map<bigint, string>();
    let base = 0n;
    try {
      for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
        const [addr, , name] = line.split(/\s+/);
        if (!name) continue;
        const a = BigInt(`0x${addr}`);
        if (name === '__bpf_call_base') base = a;
        if (!byAddr.has(a) && !name.includes('[')) byAddr.set(a, name);
      }
    } catch {
      // Without kallsyms helper calls print by number.
    }
    syms = { base, byAddr };
  }
  return syms;
}

function line(insn: Insn, pc: number): string {
  const op = `(${encodeInsn(insn)[0].opcode.toString(16).padStart(2, '0')})`;
  let body: string;
  if (insn.kind === 'lddw' && insn.pseudo === 'map_fd') {
    body = `r${insn.dst} = map[id:${Number(insn.imm & 0xffffffffn)}]`;
  } else if (insn.kind === 'lddw' && insn.pseudo === 'map_value') {
    body = `r${insn.dst} = map[id:${Number(insn.imm & 0xffffffffn)}][0]+${Number(insn.imm >> 32n)}`;
  } else if (insn.kind === 'lddw' && insn.pseudo === 'func') {
    const rel = Number(BigInt.asIntN(32, insn.imm & 0xffffffffn));
    body = `r${insn.dst} = subprog[${rel >= 0 ? '+' : ''}${rel}]`;
  } else if (insn.kind === 'call') {
    const k = kallsyms();
    const name = k.base !== 0n ? k.byAddr.get(k.base + BigInt(insn.helper)) : undefined;
    body = name ? `call ${name}#${insn.helper}` : formatInsn(insn, 'kernel').replace(/^\(\w\w\) /, '');
  } else {
    body = formatInsn(insn, 'kernel').replace(/^\(\w\w\) /, '');
  }
  return `${String(pc).padStart(4)}: ${op} ${body}`;
}

interface DebugInfo {
  readonly btf: Btf;
  /** insn -> func type id */
  readonly funcs: Map<number, number>;
  /** line records in insn order */
  readonly lines: { insn: number; lineOff: number }[];
}

/** The program's BTF (from the kernel, by id) with its func and line info, when it was loaded with them. */
function debugInfo(fd: number, sys: Sys): DebugInfo | undefined {
  const f = PROG_INFO.fields;
  const first = objectInfo(fd, PROG_INFO.size, sys);
  const btfId = readU32(first, f.btf_id);
  if (btfId === 0) return undefined;
  const nFunc = readU32(first, f.nr_func_info);
  const nLine = readU32(first, f.nr_line_info);
  const funcBuf = new Uint8Array(nFunc * 8);
  const lineBuf = new Uint8Array(nLine * 16);
  objectInfo(fd, PROG_INFO.size, sys, (info) => {
    const v = new DataView(info.buffer);
    v.setUint32(f.nr_func_info.offset, nFunc, true);
    v.setUint32(f.func_info_rec_size.offset, 8, true);
    v.setBigUint64(f.func_info.offset, addressOf(funcBuf), true);
    v.setUint32(f.nr_line_info.offset, nLine, true);
    v.setUint32(f.line_info_rec_size.offset, 16, true);
    v.setBigUint64(f.line_info.offset, addressOf(lineBuf), true);
  });
  const btfFd = fdById('btf', btfId, sys);
  let bytes: Uint8Array;
  try {
    const size = readU32(objectInfo(btfFd, BTF_INFO.size, sys), BTF_INFO.fields.btf_size);
    bytes = new Uint8Array(size);
    objectInfo(btfFd, BTF_INFO.size, sys, (info) => {
      const v = new DataView(info.buffer);
      v.setBigUint64(BTF_INFO.fields.btf.offset, addressOf(bytes), true);
      v.setUint32(BTF_INFO.fields.btf_size.offset, size, true);
    });
  } finally {
    sys.call({ kind: 'close', fd: btfFd });
  }
  const fv = new DataView(funcBuf.buffer);
  const lv = new DataView(lineBuf.buffer);
  return {
    btf: Btf.parse(bytes),
    funcs: new Map(Array.from({ length: nFunc }, (_, i) => [fv.getUint32(i * 8, true), fv.getUint32(i * 8 + 4, true)])),
    lines: Array.from({ length: nLine }, (_, i) => ({ insn: lv.getUint32(i * 16, true), lineOff: lv.getUint32(i * 16 + 8, true) })),
  };
}

/** A type as bpftool's btf_dumper_type_only prints it: "struct foo * ", "const char * ", "int ". */
function typeOnly(btf: Btf, id: number, depth = 0): string {
  if (depth > 32) return '';
  const t = btf.type(id);
  switch (t.kind) {
    case 'void': return 'void ';
    case 'int': case 'float': case 'typedef': return `${t.name} `;
    case 'struct': case 'union': case 'enum': case 'enum64': case 'fwd': {
      const kw = t.kind === 'fwd' ? (t.union ? 'union' : 'struct') : t.kind === 'enum64' ? 'enum' : t.kind;
      return `${kw} ${t.name} `;
    }
    case 'ptr': return `${typeOnly(btf, t.type, depth + 1)}* `;
    case 'const': return `const ${typeOnly(btf, t.type, depth + 1)}`;
    case 'volatile': return `volatile ${typeOnly(btf, t.type, depth + 1)}`;
    case 'restrict': return `restrict ${typeOnly(btf, t.type, depth + 1)}`;
    case 'type_tag': case 'decl_tag': case 'var': return typeOnly(btf, t.type, depth + 1);
    case 'array': return `${typeOnly(btf, t.elemType, depth + 1)}[${t.nelems}]`;
    case 'func': {
      const proto = btf.type(t.type);
      return proto.kind === 'func_proto' ? funcSig(btf, proto.returnType, t.name, proto.params, depth) : '';
    }
    case 'func_proto': return funcSig(btf, t.returnType, '', t.params, depth);
    case 'datasec': return '';
  }
}

function funcSig(btf: Btf, ret: number, name: string, params: readonly { name: string; type: number }[], depth: number): string {
  const args = params.map((p) => (p.type ? `${typeOnly(btf, p.type, depth + 1)}${p.name}` : '...'));
  return `${typeOnly(btf, ret, depth + 1)}${name}(${args.join(', ')})`;
}

/**
 * The xlated listing of the program with fd `fd`, one line per
 * instruction, with the function headers and source lines bpftool prints
 * from the program's BTF when it has one (`source: false` leaves them out).
 */
export function formatXlated(fd: number, sys: Sys = nativeSys, opts: { source?: boolean } = {}): string[] {
  const code = programCode(fd, 'xlated', sys);
  const dbg = opts.source === false ? undefined : debugInfo(fd, sys);
  let ksyms: string[] | undefined;
  const subprogName = (i: number): string | undefined => {
    ksyms ??= jitedSymbols(fd, sys);
    return ksyms[i];
  };
  let nextLine = 0;
  const out: string[] = [];
  for (let pc = 0; pc < code.length / 8; ) {
    if (dbg) {
      const fn = dbg.funcs.get(pc);
      if (fn !== undefined) {
        const sig = typeOnly(dbg.btf, fn);
        if (sig) out.push(`${sig}:`);
      }
      while (nextLine < dbg.lines.length && dbg.lines[nextLine].insn < pc) nextLine++;
      if (nextLine < dbg.lines.length && dbg.lines[nextLine].insn === pc) {
        const text = dbg.btf.string(dbg.lines[nextLine].lineOff).trimStart();
        if (text) out.push(`; ${text}`);
        nextLine++;
      }
    }
    // JITed bpf-to-bpf calls carry the callee's index in off: print them as bpftool does.
    if (code[pc * 8] === 0x85 && code[pc * 8 + 1] >> 4 === 1) {
      out.push(kernelInternal(code, pc, subprogName)!);
      pc += 1;
      continue;
    }
    let insn: Insn;
    try {
      insn = decodeAt(code, pc);
    } catch (e) {
      const internal = kernelInternal(code, pc, subprogName);
      if (internal === undefined) throw e;
      out.push(internal);
      pc += 1;
      continue;
    }
    out.push(line(insn, pc));
    pc += insn.kind === 'lddw' ? 2 : 1;
  }
  return out;
}

/** Instructions only the kernel emits (verifier inlining), which the ISA does not define. */
function kernelInternal(code: Uint8Array, pc: number, subprogName: (i: number) => string | undefined): string | undefined {
  const v = new DataView(code.buffer, code.byteOffset + pc * 8, 8);
  const opcode = v.getUint8(0);
  const regs = v.getUint8(1);
  const off = v.getInt16(2, true);
  // BPF_ADDR_PERCPU: mov64 with off -1; bpftool prints it as a plain move.
  if (opcode === 0xbf && off === -1) {
    return `${String(pc).padStart(4)}: (bf) r${regs & 0xf} = r${regs >> 4}`;
  }
  // bpf-to-bpf call after JIT: imm indexes the JITed functions, off is the relative target.
  if (opcode === 0x85 && (regs >> 4) === 1) {
    const name = subprogName(v.getInt32(4, true));
    return `${String(pc).padStart(4)}: (85) call pc${off >= 0 ? '+' : ''}${off}${name ? `#${name}` : ''}`;
  }
  return undefined;
}

/** Names of the program's JITed functions (bpf_prog_<tag>_<name>), from their addresses and /proc/kallsyms. */
function jitedSymbols(fd: number, sys: Sys): string[] {
  const f = PROG_INFO.fields;
  const n = readU32(objectInfo(fd, PROG_INFO.size, sys), f.nr_jited_ksyms);
  const addrs = new Uint8Array(n * 8);
  if (n > 0) {
    objectInfo(fd, PROG_INFO.size, sys, (info) => {
      const v = new DataView(info.buffer);
      v.setUint32(f.nr_jited_ksyms.offset, n, true);
      v.setBigUint64(f.jited_ksyms.offset, addressOf(addrs), true);
    });
  }
  // Programs loaded since the table was read are missing from it: read it again.
  const k = kallsyms(true);
  const v = new DataView(addrs.buffer);
  return Array.from({ length: n }, (_, i) => k.byAddr.get(v.getBigUint64(i * 8, true)) ?? '');
}
