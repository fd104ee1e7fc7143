/**
 * What the verifier knows about one register: a discriminated union by
 * pointer type, mirroring the kernel's bpf_reg_state. Values are immutable;
 * every transition builds a new one, so states can share registers.
 */
import { knownScalar, unknownScalar, isConst, type Scalar } from './bounds.js';
import type { MapInfo } from './types.js';

/** Fields every pointer carries: a fixed offset plus a tracked variable offset. */
interface PtrFields {
  /** Fixed offset (the kernel's reg->off). */
  readonly off: number;
  /** Variable offset and its ranges (the kernel keeps these in the same struct). */
  readonly v: Scalar;
  /** Identity shared by copies (packet ranges, null checks). */
  readonly id: number;
}

export type RegState =
  | { readonly type: 'not_init' }
  | { readonly type: 'scalar'; readonly v: Scalar; readonly id: number; readonly precise: boolean }
  | (PtrFields & { readonly type: 'ctx' })
  | (PtrFields & { readonly type: 'fp'; readonly frameno: number })
  /** A subprogram used as a callback (lddw with BPF_PSEUDO_FUNC). */
  | (PtrFields & { readonly type: 'func'; readonly subprog: number })
  | (PtrFields & { readonly type: 'pkt' | 'pkt_meta'; readonly range: number })
  | (PtrFields & { readonly type: 'pkt_end' })
  | (PtrFields & { readonly type: 'map_ptr'; readonly map: MapInfo })
  | (PtrFields & { readonly type: 'map_value' | 'map_key'; readonly map: MapInfo; readonly maybeNull: boolean })
  | (PtrFields & {
    readonly type: 'mem'; readonly size: number; readonly maybeNull: boolean; readonly ringbuf: boolean;
    readonly rdonly: boolean; readonly refObjId: number;
  });

export type RegType = RegState['type'];
export type PtrState = Exclude<RegState, { type: 'not_init' } | { type: 'scalar' }>;
export type ScalarState = Extract<RegState, { type: 'scalar' }>;

export const NOT_INIT: RegState = { type: 'not_init' };

export const scalarReg = (v: Scalar, id = 0): RegState => ({ type: 'scalar', v, id, precise: false });
export const unknownReg = (): RegState => scalarReg(unknownScalar());
export const constReg = (v: bigint): RegState => scalarReg(knownScalar(v));

/** Packet pointers never go beyond the end by this much; ranges below zero mean "at/after pkt_end". */
export const AT_PKT_END = -1;
export const BEYOND_PKT_END = -2;

export const isPointer = (r: RegState): r is PtrState => r.type !== 'scalar' && r.type !== 'not_init';
export const isScalar = (r: RegState): r is ScalarState => r.type === 'scalar';
export const isPktPtr = (r: RegState): boolean => r.type === 'pkt' || r.type === 'pkt_meta';
export const mayBeNull = (r: RegState): boolean =>
  (r.type === 'map_value' || r.type === 'map_key' || r.type === 'mem') && r.maybeNull;

/** The kernel's reg_type_str. */
export function regTypeStr(r: RegState): string {
  switch (r.type) {
    case 'not_init': return '?';
    case 'scalar': return 'scalar';
    case 'ctx': return 'ctx';
    case 'fp': return 'fp';
    case 'pkt': return 'pkt';
    case 'pkt_meta': return 'pkt_meta';
    case 'pkt_end': return 'pkt_end';
    case 'map_ptr': return 'map_ptr';
    case 'func': return 'func';
    case 'map_value': return r.maybeNull ? 'map_value_or_null' : 'map_value';
    case 'map_key': return r.maybeNull ? 'map_key_or_null' : 'map_key';
    case 'mem': return `${r.rdonly ? 'rdonly_' : ''}${r.ringbuf ? 'ringbuf_' : ''}mem${r.maybeNull ? '_or_null' : ''}`;
  }
}

/** The kernel's reg_not_null: pointers whose comparison with 0 is decided. */
export function regNotNull(r: RegState): boolean {
  if (mayBeNull(r)) return false;
  return r.type === 'map_value' || r.type === 'map_key' || r.type === 'mem' || r.type === 'map_ptr';
}

export const isConstScalar = (r: RegState): boolean => r.type === 'scalar' && isConst(r.v);

export function withId<R extends RegState>(r: R, id: number): R {
  return r.type === 'not_init' ? r : { ...r, id };
}

export function regId(r: RegState): number {
  return r.type === 'not_init' ? 0 : r.id;
}

export function refObjId(r: RegState): number {
  return r.type === 'mem' ? r.refObjId : 0;
}
