/**
 * Memory accesses (check_mem_access and its per-type checks): context,
 * stack (spills, fills, partial writes), packet, map value and helper memory,
 * with the kernel's bounds rules and messages.
 */
import { Reject } from './errors.js';
import type { Insn, Size } from '../isa/index.js';
import { S64_MIN, coerceToSize, coerceToSizeSx, copyScalar, knownScalar, type Scalar } from './bounds.js';
import { ctxAccess, pktWritable } from './ctx-access.js';
import { checkRegRead, checkRegWrite, markSlotScratched, newId, reject, setReg, type Env } from './env.js';
import {
  NOT_INIT, constReg, isPointer, mayBeNull, regTypeStr, scalarReg, unknownReg, type PtrState, type RegState,
} from './reg-state.js';
import { MAX_BPF_STACK, isSpilled, setByte, slotOf, spillSize, type StackSlot } from './stack.js';
import { curFrame, getSlot, setSlot, type Frame, type VState } from './state.js';
import { tnumAdd, tnumConst, tnumIsAligned, tnumIsConst, tnumStr } from './tnum.js';

const BPF_MAX_VAR_OFF = 1n << 29n;

export type AccessKind = 'read' | 'write' | 'helper';

function memRangeError(env: Env, regno: number, r: RegState, off: number, size: number, memSize: number): string {
  switch (r.type) {
    case 'map_key': return `invalid access to map key, key_size=${memSize} off=${off} size=${size}`;
    case 'map_value': return `invalid access to map value, value_size=${memSize} off=${off} size=${size}`;
    case 'pkt': case 'pkt_meta': case 'pkt_end':
      return `invalid access to packet, off=${off} size=${size}, R${regno}(id=${r.id},off=${off},r=${memSize})`;
    default: return `invalid access to memory, mem_size=${memSize} off=${off} size=${size}`;
  }
}

const inMem = (off: bigint, size: number, memSize: number, zeroOk: boolean): boolean =>
  off >= 0n && (size > 0 || (size === 0 && zeroOk)) && off + BigInt(size) <= BigInt(memSize);

/** check_mem_region_access: fixed offset plus the variable part's range must stay inside memSize. */
export function checkMemRegion(env: Env, regno: number, r: PtrState, off: number, size: number, memSize: number, zeroOk: boolean): void {
  const v = r.v;
  const o = BigInt(off);
  if (v.smin < 0n && (v.smin === S64_MIN || BigInt.asIntN(32, o + v.smin) !== o + v.smin || v.smin + o < 0n)) {
    reject(env, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
      'bound the index from below, or make it unsigned');
  }
  if (!inMem(v.smin + o, size, memSize, zeroOk)) {
    throw rejectTwoLines(env, memRangeError(env, regno, r, Number(v.smin + o), size, memSize), `R${regno} min value is outside of the allowed memory range`);
  }
  if (v.umax >= BPF_MAX_VAR_OFF) {
    reject(env, `R${regno} unbounded memory access, make sure to bounds check any such access`,
      'compare the index against the object size before using it');
  }
  if (!inMem(v.umax + o, size, memSize, zeroOk)) {
    throw rejectTwoLines(env, memRangeError(env, regno, r, Number(v.umax + o), size, memSize), `R${regno} max value is outside of the allowed memory range`);
  }
}

function rejectTwoLines(env: Env, first: string, second: string): Reject {
  return new Reject(env.insnIdx, `${first}\n${second}`);
}

/** check_packet_access */
export function checkPacketAccess(env: Env, regno: number, r: PtrState & { range: number }, off: number, size: number, zeroOk: boolean): void {
  if (r.v.smin < 0n) {
    reject(env, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  const ok = r.range >= 0 && off >= 0 && (size > 0 || (size === 0 && zeroOk)) && off + size <= r.range;
  if (!ok) {
    throw rejectTwoLines(env, memRangeError(env, regno, r, off, size, r.range), `R${regno} offset is outside of the packet`);
  }
}

function updateStackDepth(env: Env, f: Frame, minOff: number): void {
  if (env.stackDepth[f.subprog] < -minOff) env.stackDepth[f.subprog] = -minOff;
}

/** check_stack_access_within_bounds */
function stackBounds(env: Env, f: Frame, regno: number, r: PtrState, off: number, size: number, kind: AccessKind): void {
  const extra = kind === 'read' ? ' read from' : kind === 'write' ? ' write to' : ' indirect access to';
  let minOff: bigint, maxOff: bigint;
  const constOff = tnumIsConst(r.v.varOff);
  if (constOff) {
    minOff = BigInt.asIntN(64, r.v.varOff.value) + BigInt(off);
    maxOff = minOff + BigInt(size);
  } else {
    if (r.v.smax >= BPF_MAX_VAR_OFF || r.v.smin <= -BPF_MAX_VAR_OFF) reject(env, `invalid unbounded variable-offset${extra} stack R${regno}`);
    minOff = r.v.smin + BigInt(off);
    maxOff = r.v.smax + BigInt(off) + BigInt(size);
  }
  const bad = minOff < -BigInt(MAX_BPF_STACK) || minOff > -1n || maxOff > 0n || size < 0;
  if (bad) {
    if (constOff) reject(env, `invalid${extra} stack R${regno} off=${off} size=${size}`);
    reject(env, `invalid variable-offset${extra} stack R${regno} var_off=${tnumStr(r.v.varOff)} off=${off} size=${size}`);
  }
  updateStackDepth(env, f, Number(minOff));
}

function stackFrame(s: VState, r: PtrState): Frame {
  const fno = r.type === 'fp' ? r.frameno : s.frames.length - 1;
  return s.frames[fno];
}

/** A register spilled into the top `size` bytes of a slot; the bytes below become misc unless zero or invalid. */
function spillToSlot(f: Frame, spi: number, old: StackSlot, size: number, reg: RegState): void {
  let types = old.types;
  for (let j = 7; j > 7 - size; j--) types = setByte(types, j, 'r');
  for (let j = 7 - size; j >= 0; j--) if (types[j] !== '0' && types[j] !== '?') types = setByte(types, j, 'm');
  setSlot(f, spi, { types, spilled: reg });
}

/** check_stack_write_fixed_off */
function stackWriteFixed(env: Env, s: VState, f: Frame, off: number, size: number, value: RegState | undefined, stImm: number | undefined): void {
  const { spi, byte } = slotOf(off);
  markSlotScratched(env, spi);
  const old = getSlot(f, spi);
  const aligned = off % 8 === 0;
  if (value && aligned && value.type === 'scalar') {
    const fits = value.v.umax < (size === 8 ? 1n << 64n : 1n << BigInt(size * 8));
    let reg = value;
    if (fits && !reg.id && !tnumIsConst(reg.v.varOff)) {
      reg = { ...reg, id: newId(env) };
      const rs = curFrame(s).regs;
      rs.forEach((x, i) => { if (x === value) rs[i] = reg; });
    }
    spillToSlot(f, spi, old, size, fits ? reg : { ...reg, id: 0 });
    return;
  }
  if (!value && aligned && stImm !== undefined) {
    spillToSlot(f, spi, old, size, constReg(BigInt(stImm)));
    return;
  }
  if (value && isPointer(value)) {
    if (size !== 8) reject(env, 'invalid size of register spill');
    if (f !== curFrame(s) && value.type === 'fp') reject(env, 'cannot spill pointers to stack into stack frame of the caller');
    spillToSlot(f, spi, old, size, value);
    return;
  }
  let types = old.types;
  if (isSpilled(old) || types.includes('r')) types = types.replace(/r/g, 'm');
  const zero = (value && value.type === 'scalar' && tnumIsConst(value.v.varOff) && value.v.varOff.value === 0n) || (!value && stImm === 0);
  for (let i = 0; i < size; i++) types = setByte(types, (byte - i + 8) % 8, zero ? '0' : 'm');
  setSlot(f, spi, { types, spilled: NOT_INIT });
}

/** check_stack_read_fixed_off; returns the loaded register (undefined when only checking). */
function stackReadFixed(env: Env, f: Frame, off: number, size: number): RegState {
  const { spi, byte } = slotOf(off);
  markSlotScratched(env, spi);
  const slot = getSlot(f, spi);
  if (isSpilled(slot)) {
    const reg = slot.spilled;
    const ssz = spillSize(slot);
    if (size !== 8 || ssz !== 8) {
      if (reg.type !== 'scalar') reject(env, 'invalid size of register fill');
      if (size <= ssz && off % 8 === 0) {
        const width = reg.v.umax === 0n ? 0 : reg.v.umax.toString(2).length;
        return width > size * 8 ? { ...reg, id: 0 } : reg;
      }
      let spill = 0, zero = 0;
      for (let i = 0; i < size; i++) {
        const t = slot.types[(byte - i + 8) % 8];
        if (t === 'r') spill++;
        else if (t === '0') zero++;
      }
      if (spill === size && tnumIsConst(reg.v.varOff) && reg.v.varOff.value === 0n) return constReg(0n);
      if (zero === size) return constReg(0n);
      return unknownReg();
    }
    return reg;
  }
  let zeros = 0;
  for (let i = 0; i < size; i++) if (slot.types[(byte - i + 8) % 8] === '0') zeros++;
  return zeros === size ? constReg(0n) : unknownReg();
}

function stackVarWrite(env: Env, f: Frame, r: PtrState, off: number, size: number, zero: boolean): void {
  const lo = Number(r.v.smin) + off;
  const hi = Number(r.v.smax) + off + size;
  for (let o = lo; o < hi; o++) {
    const { spi, byte } = slotOf(o);
    markSlotScratched(env, spi);
    const slot = getSlot(f, spi);
    let types = slot.types;
    if (types.includes('r')) types = types.replace(/r/g, 'm');
    types = setByte(types, byte, zero && types[byte] === '0' ? '0' : 'm');
    setSlot(f, spi, { types, spilled: NOT_INIT });
  }
}

/** Helper access to [off, off+size) of the stack (check_stack_range_initialized, privileged). */
function stackRangeHelper(env: Env, s: VState, regno: number, r: PtrState, off: number, size: number, write: boolean, zeroOk: boolean): void {
  const f = stackFrame(s, r);
  if (size === 0 && !zeroOk) reject(env, 'invalid zero-sized read');
  stackBounds(env, f, regno, r, off, size, write ? 'write' : 'read');
  if (!write) return;
  const lo = Number(r.v.smin) + off;
  const hi = Number(r.v.smax) + off + size;
  for (let o = lo; o < hi; o++) {
    const { spi, byte } = slotOf(o);
    markSlotScratched(env, spi);
    const slot = getSlot(f, spi);
    let types = slot.types;
    if (types.includes('r')) types = 'mmmmmmmm';
    types = setByte(types, byte, 'm');
    setSlot(f, spi, { types, spilled: NOT_INIT } as StackSlot);
  }
}

/** check_helper_mem_access: a helper reads or writes `size` bytes at the pointer in regno. */
export function checkHelperMem(env: Env, s: VState, regno: number, size: number, write: boolean, zeroOk: boolean): void {
  const r = curFrame(s).regs[regno];
  switch (r.type) {
    case 'pkt': case 'pkt_meta':
      if (!pktAccessAllowed(env)) reject(env, 'helper access to the packet is not allowed');
      checkPacketAccess(env, regno, r, r.off, size, zeroOk);
      return;
    case 'map_key':
      if (write) reject(env, `R${regno} cannot write into ${regTypeStr(r)}`);
      checkMemRegion(env, regno, r, r.off, size, r.map.keySize, false);
      return;
    case 'map_value':
      checkMemRegion(env, regno, r, r.off, size, r.map.valueSize, zeroOk);
      return;
    case 'mem':
      if (write && r.rdonly) reject(env, `R${regno} cannot write into ${regTypeStr(r)}`);
      checkMemRegion(env, regno, r, r.off, size, r.size, zeroOk);
      return;
    case 'fp':
      stackRangeHelper(env, s, regno, r, r.off, size, write, zeroOk);
      return;
    default:
      if (zeroOk && size === 0 && r.type === 'scalar' && tnumIsConst(r.v.varOff) && r.v.varOff.value === 0n) return;
      reject(env, `R${regno} type=${regTypeStr(r)} expected=fp`);
  }
}

function pktAccessAllowed(env: Env): boolean {
  return env.progType !== 'socket_filter' && env.progType !== 'kprobe' && env.progType !== 'tracepoint' &&
    env.progType !== 'perf_event' && env.progType !== 'raw_tracepoint';
}

/**
 * check_mem_access: `size` bytes at regno+off. For reads, returns the value
 * loaded into the destination register.
 */
export function checkMemAccess(env: Env, s: VState, regno: number, off: number, size: Size, kind: 'read' | 'write',
  value: RegState | undefined, stImm: number | undefined, signExtend: boolean, strictAlign = false): RegState | undefined {
  const r = curFrame(s).regs[regno];
  let result: RegState | undefined;
  // Atomics are always checked for alignment (check_generic_ptr_alignment with strict set).
  if (strictAlign && size > 1 && (r.type === 'map_value' || r.type === 'map_key' || r.type === 'mem')) {
    const regOff = tnumAdd(r.v.varOff, tnumConst(BigInt(r.off + off)));
    if (!tnumIsAligned(regOff, size)) {
      const vo = tnumIsConst(r.v.varOff) ? `${BigInt.asIntN(64, r.v.varOff.value)}` : tnumStr(r.v.varOff);
      const desc = mayBeNull(r) ? '' : r.type === 'map_value' ? 'value ' : r.type === 'map_key' ? 'key ' : '';
      reject(env, `misaligned ${desc}access off ${vo}+${r.off}+${off} size ${size}`);
    }
  }
  if (r.type === 'fp') {
    // The spill tracking relies on aligned stack accesses, so alignment is always strict here.
    const regOff = tnumAdd(r.v.varOff, tnumConst(BigInt(r.off + off)));
    if (size > 1 && !tnumIsAligned(regOff, size)) {
      const vo = tnumIsConst(r.v.varOff) ? `${BigInt.asIntN(64, r.v.varOff.value)}` : tnumStr(r.v.varOff);
      reject(env, `misaligned stack access off ${vo}+${r.off}+${off} size ${size}`);
    }
  }
  const o = off + (isPointer(r) ? r.off : 0);
  switch (r.type) {
    case 'map_value': {
      if (r.maybeNull) reject(env, `R${regno} invalid mem access '${regTypeStr(r)}'`, 'compare the pointer with 0 before using it');
      checkMemRegion(env, regno, r, o, size, r.map.valueSize, false);
      if (kind === 'read') result = unknownReg();
      break;
    }
    case 'map_key': {
      if (r.maybeNull) reject(env, `R${regno} invalid mem access '${regTypeStr(r)}'`);
      if (kind === 'write') reject(env, `R${regno} cannot write into ${regTypeStr(r)}`);
      checkMemRegion(env, regno, r, o, size, r.map.keySize, false);
      result = unknownReg();
      break;
    }
    case 'mem': {
      if (r.maybeNull) reject(env, `R${regno} invalid mem access '${regTypeStr(r)}'`, 'compare the pointer with 0 before using it');
      if (kind === 'write' && r.rdonly) reject(env, `R${regno} cannot write into ${regTypeStr(r)}`);
      checkMemRegion(env, regno, r, o, size, r.size, false);
      if (kind === 'read') result = unknownReg();
      break;
    }
    case 'ctx': {
      if (r.off < 0) reject(env, `negative offset ctx ptr R${regno} off=${r.off} disallowed`);
      if (r.off) reject(env, `dereference of modified ctx ptr R${regno} off=${r.off} disallowed`);
      if (!tnumIsConst(r.v.varOff) || r.v.varOff.value) reject(env, `variable ctx access var_off=${tnumStr(r.v.varOff)} disallowed`);
      const field = ctxAccess(env.progType, o, size, kind === 'write');
      if (field === undefined) {
        reject(env, `invalid bpf_context access off=${o} size=${size}`,
          `offset ${o} size ${size} is not a ${kind === 'write' ? 'writable' : 'readable'} field of this program type's context`);
      }
      if (kind === 'read') {
        if (field === 'scalar') result = unknownReg();
        else result = field === 'pkt_end' ? { type: 'pkt_end', off: 0, v: knownScalar(0n), id: 0 } : { type: field, off: 0, v: knownScalar(0n), id: 0, range: 0 };
      }
      break;
    }
    case 'fp': {
      const f = stackFrame(s, r);
      stackBounds(env, f, regno, r, o, size, kind);
      if (tnumIsConst(r.v.varOff)) {
        const so = o + Number(BigInt.asIntN(64, r.v.varOff.value));
        if (kind === 'read') result = stackReadFixed(env, f, so, size);
        else stackWriteFixed(env, s, f, so, size, value, stImm);
      } else if (kind === 'read') {
        result = unknownReg();
      } else {
        const zero = (value?.type === 'scalar' && tnumIsConst(value.v.varOff) && value.v.varOff.value === 0n) || (!value && stImm === 0);
        stackVarWrite(env, f, r, o, size, zero);
      }
      break;
    }
    case 'pkt': case 'pkt_meta': {
      if (kind === 'write' && !pktWritable(env.progType)) reject(env, 'cannot write into packet');
      checkPacketAccess(env, regno, r, o, size, false);
      if (kind === 'read') result = unknownReg();
      break;
    }
    default:
      reject(env, `R${regno} invalid mem access '${regTypeStr(r)}'`,
        r.type === 'scalar' ? 'the register holds a number, not a pointer' : mayBeNull(r) ? 'compare the pointer with 0 before using it' : undefined);
  }
  if (result && result.type === 'scalar' && size < 8) {
    const v: Scalar = copyScalar(result.v);
    if (signExtend) coerceToSizeSx(v, size); else coerceToSize(v, size);
    result = scalarReg(v, result.id);
  }
  return result;
}

type MemInsn = Extract<Insn, { kind: 'ldx' | 'st' | 'stx' | 'atomic' }>;

export function checkMemInsn(env: Env, s: VState, insn: MemInsn): void {
  switch (insn.kind) {
    case 'ldx': {
      checkRegRead(env, s, insn.src);
      checkRegWrite(env, insn.dst);
      const v = checkMemAccess(env, s, insn.src, insn.off, insn.size, 'read', undefined, undefined, insn.signExtend);
      setReg(env, s, insn.dst, v ?? unknownReg());
      return;
    }
    case 'stx': {
      const val = checkRegRead(env, s, insn.src);
      checkRegRead(env, s, insn.dst);
      checkMemAccess(env, s, insn.dst, insn.off, insn.size, 'write', val, undefined, false);
      return;
    }
    case 'st': {
      checkRegRead(env, s, insn.dst);
      checkMemAccess(env, s, insn.dst, insn.off, insn.size, 'write', undefined, insn.imm, false);
      return;
    }
    case 'atomic': {
      if (insn.op === 'load_acquire') {
        checkRegRead(env, s, insn.src);
        checkRegWrite(env, insn.dst);
        const v = checkMemAccess(env, s, insn.src, insn.off, insn.size, 'read', undefined, undefined, false);
        setReg(env, s, insn.dst, v ?? unknownReg());
        return;
      }
      if (insn.op === 'store_release') {
        const val = checkRegRead(env, s, insn.src);
        checkRegRead(env, s, insn.dst);
        checkMemAccess(env, s, insn.dst, insn.off, insn.size, 'write', val, undefined, false);
        return;
      }
      if (insn.size !== 4 && insn.size !== 8) reject(env, 'invalid atomic operand size');
      checkRegRead(env, s, insn.src);
      const d = checkRegRead(env, s, insn.dst);
      if (insn.op === 'cmpxchg') checkRegRead(env, s, 0);
      if (d.type === 'ctx' || d.type === 'pkt' || d.type === 'pkt_meta' || d.type === 'pkt_end') {
        reject(env, `BPF_ATOMIC stores into R${insn.dst} ${regTypeStr(d)} is not allowed`);
      }
      const loadReg = insn.op === 'cmpxchg' ? 0 : insn.fetch ? insn.src : -1;
      checkMemAccess(env, s, insn.dst, insn.off, insn.size, 'read', undefined, undefined, false, true);
      checkMemAccess(env, s, insn.dst, insn.off, insn.size, 'write', undefined, undefined, false, true);
      if (loadReg >= 0) {
        checkRegWrite(env, loadReg);
        const v = copyScalar(unknownReg().type === 'scalar' ? (unknownReg() as { v: Scalar }).v : knownScalar(0n));
        coerceToSize(v, insn.size);
        setReg(env, s, loadReg, scalarReg(v));
      }
      return;
    }
  }
}
