/**
 * State equivalence at prune points (the kernel's states_equal/regsafe/
 * stacksafe): a new state is safe to drop when an already-verified state at
 * the same instruction covers it. Scalars are compared by range inclusion
 * (every scalar is treated as precise, which prunes less than the kernel but
 * never unsoundly); dead registers are ignored using the static liveness.
 */
import { scalarEqual, scalarWithin } from './bounds.js';
import type { Program } from './cfg.js';
import type { RegState } from './reg-state.js';
import type { StackSlot } from './stack.js';
import type { Frame, VState } from './state.js';

/** Consistent id renaming between the old and the current state (check_ids). */
class IdMap {
  private readonly fwd = new Map<number, number>();
  private readonly back = new Map<number, number>();
  check(oldId: number, curId: number): boolean {
    if (!oldId && !curId) return true;
    if (!oldId || !curId) return !oldId;
    const f = this.fwd.get(oldId), b = this.back.get(curId);
    if (f === undefined && b === undefined) { this.fwd.set(oldId, curId); this.back.set(curId, oldId); return true; }
    return f === curId && b === oldId;
  }
}

function regSafe(old: RegState, cur: RegState, ids: IdMap, exact: boolean): boolean {
  if (old.type === 'not_init') return !exact || cur.type === 'not_init';
  if (old.type !== cur.type) return false;
  if (old.type === 'scalar' && cur.type === 'scalar') {
    if (exact) return scalarEqual(old.v, cur.v) && ids.check(old.id, cur.id);
    return scalarWithin(old.v, cur.v) && (!old.id || ids.check(old.id, cur.id));
  }
  if (old.type === 'scalar' || cur.type === 'scalar') return false;
  if (old.off !== cur.off) return false;
  const varOk = exact ? scalarEqual(old.v, cur.v) : scalarWithin(old.v, cur.v);
  switch (old.type) {
    case 'pkt': case 'pkt_meta': {
      const c = cur as typeof old;
      if (exact ? old.range !== c.range : old.range > c.range && old.range >= 0) return false;
      if (old.range < 0 && old.range !== c.range) return false;
      return varOk && ids.check(old.id, c.id);
    }
    case 'map_value': case 'map_key': {
      const c = cur as typeof old;
      return old.map === c.map && old.maybeNull === c.maybeNull && varOk && ids.check(old.id, c.id);
    }
    case 'mem': {
      const c = cur as typeof old;
      return old.size === c.size && old.maybeNull === c.maybeNull && old.ringbuf === c.ringbuf && old.rdonly === c.rdonly &&
        varOk && ids.check(old.id, c.id) && ids.check(old.refObjId, c.refObjId);
    }
    case 'fp': {
      const c = cur as typeof old;
      return old.frameno === c.frameno && scalarEqual(old.v, c.v);
    }
    case 'map_ptr': {
      const c = cur as typeof old;
      return old.map === c.map;
    }
    default:
      return scalarEqual(old.v, cur.v);
  }
}

const EMPTY = '????????';

function slotSafe(old: StackSlot | undefined, cur: StackSlot | undefined, ids: IdMap, exact: boolean): boolean {
  const o = old?.types ?? EMPTY;
  const c = cur?.types ?? EMPTY;
  if (exact) {
    if (o !== c) return false;
    return o[7] !== 'r' || regSafe(old!.spilled, cur!.spilled, ids, true);
  }
  if (o[7] === 'r') {
    if (c[7] !== 'r') {
      // A spilled constant zero is as good as zeroed bytes.
      return false;
    }
    if (!regSafe(old!.spilled, cur!.spilled, ids, false)) return false;
  }
  for (let j = 0; j < 8; j++) {
    const ob = o[j], cb = c[j];
    // Privileged programs may read uninitialised stack, so invalid and misc bytes in the old state accept anything.
    if (ob === '?' || ob === 'm') continue;
    if (ob === '0' && cb !== '0') return false;
    if (ob === 'r' && cb !== 'r') return false;
  }
  return true;
}

function frameSafe(prog: Program, old: Frame, cur: Frame, live: number, precise: number, ids: IdMap, exact: boolean): boolean {
  if (old.callsite !== cur.callsite) return false;
  for (let i = 0; i < 11; i++) {
    if (!exact && i < 10 && !(live & (1 << i))) continue;
    // An imprecise scalar matches any scalar (the kernel's !rold->precise rule).
    if (!exact && i < 10 && !(precise & (1 << i)) && old.regs[i].type === 'scalar' && cur.regs[i].type === 'scalar') continue;
    if (!regSafe(old.regs[i], cur.regs[i], ids, exact)) return false;
  }
  const n = Math.max(old.stack.length, cur.stack.length);
  for (let spi = 0; spi < n; spi++) if (!slotSafe(old.stack[spi], cur.stack[spi], ids, exact)) return false;
  void prog;
  return true;
}

/**
 * Whether `cur` at slot `insn` is covered by `old` (exact: identical, used for
 * infinite loop detection).
 */
export function statesEqual(prog: Program, old: VState, cur: VState, insn: number, exact: boolean): boolean {
  if (old.frames.length !== cur.frames.length) return false;
  if (old.refs.length !== cur.refs.length) return false;
  const ids = new IdMap();
  for (let k = 0; k < old.refs.length; k++) if (!ids.check(old.refs[k].id, cur.refs[k].id)) return false;
  for (let fi = old.frames.length - 1; fi >= 0; fi--) {
    // Registers of a caller frame matter as they are live at its return point.
    const at = fi === old.frames.length - 1 ? insn : old.frames[fi + 1].callsite + 1;
    const live = prog.liveIn[at] ?? 0x3ff;
    const precise = prog.preciseIn[at] ?? 0x3ff;
    if (!frameSafe(prog, old.frames[fi], cur.frames[fi], live, precise, ids, exact)) return false;
  }
  return true;
}

