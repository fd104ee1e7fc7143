/**
 * Calls: helper calls checked against their prototypes (check_helper_call,
 * check_func_arg), references from ring buffer reservations, and
 * bpf-to-bpf calls that push a new frame (check_func_call).
 */
import { boundsSync, knownScalar, unknownScalar } from './bounds.js';
import { checkHelperMem } from './check-mem.js';
import { checkRegRead, clearCallerSaved, markScratched, newId, reject, setReg, type Env } from './env.js';
import { Reject } from './errors.js';
import { HELPERS, HELPER_MAX_ID, familyAllows, helperName, type ArgType } from './helpers.js';
import { mayBeNull, NOT_INIT, regTypeStr, scalarReg, unknownReg, type RegState } from './reg-state.js';
import { slotOf } from './stack.js';
import { cloneState, curFrame, getSlot, mapAllRegs, newFrame, type VState } from './state.js';
import { tnumIsConst } from './tnum.js';
import type { MapInfo } from './types.js';

const MEM_TYPES = 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_';
const BPF_MAX_VAR_SIZ = 1n << 29n;
export const MAX_CALL_FRAMES = 8;

const isNullConst = (r: RegState): boolean => r.type === 'scalar' && tnumIsConst(r.v.varOff) && r.v.varOff.value === 0n;

interface Meta {
  map?: MapInfo;
  /** The callback subprogram (ARG_PTR_TO_FUNC). */
  callback?: number;
  /** Largest value of the last size argument (msize_max_value). */
  msizeMax?: bigint;
  constKey?: bigint;
  memSize?: number;
  releaseRef?: number;
}

/** get_constant_map_key: a constant array index spilled or zeroed on the stack. */
function constantMapKey(s: VState, key: RegState, keySize: number): bigint | undefined {
  if (key.type !== 'fp' || !tnumIsConst(key.v.varOff)) return undefined;
  const f = s.frames[key.frameno];
  const { spi, byte } = slotOf(key.off + Number(BigInt.asIntN(64, key.v.varOff.value)));
  const slot = getSlot(f, spi);
  let zero = 0;
  for (let i = byte; i >= 0 && slot.types[i] === '0'; i--) zero++;
  if (zero >= keySize) return 0n;
  if (slot.types[7] !== 'r' || slot.spilled.type !== 'scalar') return undefined;
  let spill = 0;
  for (let i = byte; i >= 0 && slot.types[i] === 'r'; i--) spill++;
  if (spill !== keySize || !tnumIsConst(slot.spilled.v.varOff)) return undefined;
  return slot.spilled.v.varOff.value;
}

function typeMismatch(env: Env, regno: number, r: RegState, expected: string): never {
  reject(env, `R${regno} type=${regTypeStr(r)} expected=${expected}`,
    `argument ${regno} of this helper must be a ${expected.split(',')[0]} pointer`);
}

function checkSizeArg(env: Env, s: VState, regno: number, r: RegState, zeroOk: boolean, write: boolean, meta: Meta): void {
  if (r.type !== 'scalar') typeMismatch(env, regno, r, 'scalar');
  const v = r.v;
  meta.msizeMax = v.umax;
  if (v.smin < 0n) reject(env, `R${regno} min value is negative, either use unsigned or 'var &= const'`);
  if (v.umin === 0n && !zeroOk) reject(env, `R${regno} invalid zero-sized read: u64=[${v.umin},${v.umax}]`);
  if (v.umax >= BPF_MAX_VAR_SIZ) reject(env, `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
  // A NULL buffer passes only with a size of exactly zero (checkHelperMem's scalar case).
  checkHelperMem(env, s, regno - 1, Number(v.umax), write, zeroOk);
}

function checkArg(env: Env, s: VState, regno: number, t: ArgType, meta: Meta, args: readonly ArgType[]): void {
  const r = checkRegRead(env, s, regno);
  switch (t) {
    case 'anything':
      return;
    case 'const_map_ptr':
      if (r.type !== 'map_ptr') typeMismatch(env, regno, r, 'map_ptr');
      meta.map = r.map;
      return;
    case 'ctx':
      if (r.type !== 'ctx') typeMismatch(env, regno, r, 'ctx');
      if (r.off) reject(env, `dereference of modified ctx ptr R${regno} off=${r.off} disallowed`);
      return;
    case 'map_key': case 'map_value': {
      if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem'].includes(r.type) || mayBeNull(r)) {
        typeMismatch(env, regno, r, MEM_TYPES);
      }
      if (!meta.map) throw new Reject(env.insnIdx, `invalid map_ptr to access map->${t === 'map_key' ? 'key' : 'value'}`, undefined, 'EFAULT');
      const size = t === 'map_key' ? meta.map.keySize : meta.map.valueSize;
      checkHelperMem(env, s, regno, size, false, false);
      if (t === 'map_key' && (meta.map.type === 'array' || meta.map.type === 'percpu_array')) meta.constKey = constantMapKey(s, r, size);
      return;
    }
    case 'mem': case 'mem_or_null': case 'uninit_mem': {
      if (t === 'mem_or_null' && isNullConst(r)) return;
      if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem'].includes(r.type) || mayBeNull(r)) {
        typeMismatch(env, regno, r, MEM_TYPES);
      }
      return;
    }
    case 'const_size': case 'const_size_or_zero': {
      const prev = args[regno - 2];
      checkSizeArg(env, s, regno, r, t === 'const_size_or_zero', prev === 'uninit_mem', meta);
      return;
    }
    case 'const_alloc_size_or_zero':
      if (r.type !== 'scalar') typeMismatch(env, regno, r, 'scalar');
      if (!tnumIsConst(r.v.varOff)) reject(env, `R${regno} is not a known constant'`);
      meta.memSize = Number(r.v.varOff.value);
      return;
    case 'func':
      if (r.type !== 'func') typeMismatch(env, regno, r, 'func');
      meta.callback = r.subprog;
      return;
    case 'stack_or_null':
      if (isNullConst(r)) return;
      if (r.type !== 'fp') typeMismatch(env, regno, r, 'fp');
      return;
    case 'ringbuf_mem_release':
      if (r.type !== 'mem' || !r.ringbuf || r.maybeNull) typeMismatch(env, regno, r, 'ringbuf_mem');
      if (r.off || !tnumIsConst(r.v.varOff) || r.v.varOff.value !== 0n) {
        reject(env, `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`);
      }
      if (!r.refObjId) reject(env, `R${regno} must be referenced when passed to release function`);
      meta.releaseRef = r.refObjId;
      return;
  }
}

/**
 * Check a helper call. For callback-calling helpers (bpf_loop) returns the
 * state that enters the callback, for the driver to explore.
 */
export function checkHelperCall(env: Env, s: VState, id: number): VState | undefined {
  if (id < 0 || id >= HELPER_MAX_ID) throw new Reject(env.insnIdx, `invalid func ${helperName(id)}#${id}`, undefined, 'EINVAL');
  const proto = HELPERS.get(id);
  if (!proto || !familyAllows(proto.family, env.progType)) {
    throw new Reject(env.insnIdx, `program of this type cannot use helper ${helperName(id)}#${id}`,
      proto ? `${helperName(id)} is not available to ${env.progType} programs` : `${helperName(id)} is not modelled by bpfkit's verifier yet`, 'EINVAL');
  }
  const meta: Meta = {};
  proto.args.forEach((t, i) => checkArg(env, s, i + 1, t, meta, proto.args));
  if (meta.map && proto.mapTypes && !proto.mapTypes.includes(meta.map.type)) {
    throw new Reject(env.insnIdx, `cannot pass map_type ${mapTypeId(meta.map.type)} into func ${helperName(id)}#${id}`, undefined, 'EINVAL');
  }
  if (meta.map && !proto.mapTypes && ['ringbuf', 'prog_array', 'perf_event_array'].includes(meta.map.type)) {
    throw new Reject(env.insnIdx, `cannot pass map_type ${mapTypeId(meta.map.type)} into func ${helperName(id)}#${id}`, undefined, 'EINVAL');
  }
  if (meta.releaseRef !== undefined) {
    const ref = meta.releaseRef;
    s.refs = s.refs.filter((r) => r.id !== ref);
    mapAllRegs(s, (r) => (r.type === 'mem' && r.refObjId === ref ? unknownReg() : r));
  }
  let callbackState: VState | undefined;
  if (proto.callback && meta.callback !== undefined) {
    // The callback runs with (index, ctx); afterwards verification resumes at this call.
    const cb = cloneState(s);
    const caller = curFrame(cb);
    if (cb.frames.length >= MAX_CALL_FRAMES) reject(env, `the call stack of ${cb.frames.length + 1} frames is too deep`);
    const frame = newFrame(cb.frames.length, env.insnIdx, meta.callback);
    frame.regs[1] = unknownReg();
    frame.regs[2] = caller.regs[3];
    frame.regs[10] = { type: 'fp', off: 0, v: knownScalar(0n), id: 0, frameno: frame.frameno };
    frame.callbackRet = proto.callback.ret;
    cb.frames.push(frame);
    cb.callbackDepth++;
    callbackState = cb;
  }
  clearCallerSaved(env, s);
  switch (proto.ret) {
    case 'integer':
      setReg(env, s, 0, refineRetval(env, id, meta));
      break;
    case 'void':
      setReg(env, s, 0, NOT_INIT);
      break;
    case 'map_value_or_null': {
      const map = meta.map!;
      const nonNull = (map.type === 'array' || map.type === 'percpu_array') && meta.constKey !== undefined && meta.constKey < BigInt(map.maxEntries);
      setReg(env, s, 0, { type: 'map_value', map, off: 0, v: knownScalar(0n), id: nonNull ? 0 : newId(env), maybeNull: !nonNull });
      break;
    }
    case 'ringbuf_mem_or_null': {
      newId(env);
      const refId = newId(env);
      s.refs = [...s.refs, { id: refId, insn: env.insnIdx }];
      setReg(env, s, 0, {
        type: 'mem', off: 0, v: knownScalar(0n), id: refId, size: meta.memSize ?? 0, maybeNull: true,
        ringbuf: true, rdonly: false, refObjId: refId,
      });
      break;
    }
  }
  if (proto.changesPktData) {
    mapAllRegs(s, (r) => (r.type === 'pkt' || r.type === 'pkt_meta' || r.type === 'pkt_end' ? unknownReg() : r));
  }
  return callbackState;
}

/** do_refine_retval_range: helpers whose integer result has known bounds. */
function refineRetval(env: Env, id: number, meta: Meta): RegState {
  const v = unknownScalar();
  if (id === 8) {
    const hi = BigInt(Math.max(env.nrCpus, 1) - 1);
    v.umin = 0n; v.u32min = 0n; v.smin = 0n; v.s32min = 0n;
    v.umax = hi; v.u32max = hi; v.smax = hi; v.s32max = hi;
  } else if ((id === 45 || id === 67 || id === 114 || id === 115 || id === 141) && meta.msizeMax !== undefined) {
    const m = meta.msizeMax;
    v.smax = BigInt.asIntN(64, m);
    v.s32max = BigInt.asIntN(32, m);
    v.smin = -4095n;
    v.s32min = -4095n;
  } else {
    return unknownReg();
  }
  boundsSync(v);
  return scalarReg(v);
}

function mapTypeId(t: MapInfo['type']): number {
  return { hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6, lru_hash: 9, devmap: 14, ringbuf: 27 }[t];
}

/** check_func_call: push a frame for the callee at `target`. */
export function checkLocalCall(env: Env, s: VState, target: number, subprog: number): void {
  if (s.frames.length >= MAX_CALL_FRAMES) {
    reject(env, `the call stack of ${s.frames.length + 1} frames is too deep`);
  }
  const caller = curFrame(s);
  const callee = newFrame(s.frames.length, env.insnIdx, subprog);
  for (let i = 1; i <= 5; i++) callee.regs[i] = caller.regs[i];
  callee.regs[10] = { type: 'fp', off: 0, v: knownScalar(0n), id: 0, frameno: callee.frameno };
  for (let i = 0; i <= 5; i++) { caller.regs[i] = NOT_INIT; markScratched(env, i); }
  s.frames.push(callee);
  void target;
}

/** prepare_func_exit: return to the caller; returns the slot to continue at. */
export function checkLocalExit(env: Env, s: VState): number {
  const callee = curFrame(s);
  const r0 = callee.regs[0];
  if (callee.callbackRet) {
    const v = checkRegRead(env, s, 0);
    if (v.type !== 'scalar') reject(env, 'R0 not a scalar value');
    const [lo, hi] = callee.callbackRet;
    if (v.v.smin < BigInt(lo) || v.v.smax > BigInt(hi)) {
      let msg = 'At callback return the register R0 has';
      if (v.v.smin > -(1n << 63n)) msg += ` smin=${v.v.smin}`;
      if (v.v.smax < (1n << 63n) - 1n) msg += ` smax=${v.v.smax}`;
      if (v.v.smin === -(1n << 63n) && v.v.smax === (1n << 63n) - 1n) msg += ' unknown scalar value';
      throw new Reject(env.insnIdx, `${msg} should have been in [${lo}, ${hi}]`, undefined, 'EINVAL');
    }
    s.frames.pop();
    // Back to the calling instruction, which may run the callback again.
    return callee.callsite;
  }
  if (r0.type === 'fp') reject(env, 'cannot return stack pointer to the caller');
  s.frames.pop();
  const caller = curFrame(s);
  caller.regs[0] = r0;
  return callee.callsite + 1;
}

