/**
 * The per-frame stack model: 64 slots of 8 bytes. Each byte is invalid ('?'),
 * misc ('m'), known zero ('0') or part of a spilled register ('r'); a slot
 * whose lowest byte is 'r' holds a spilled register state.
 * Character j of `types` describes the byte at fp - (8 * spi + j + 1), the
 * order the kernel's log prints.
 */
import { NOT_INIT, type RegState } from './reg-state.js';

export type SlotByte = '?' | 'm' | '0' | 'r';

export interface StackSlot {
  readonly types: string;
  readonly spilled: RegState;
}

export const MAX_BPF_STACK = 512;
export const EMPTY_SLOT: StackSlot = { types: '????????', spilled: NOT_INIT };

/** Slot index (spi) and byte position of stack offset `off` (negative). */
export function slotOf(off: number): { spi: number; byte: number } {
  const slot = -off - 1;
  return { spi: Math.floor(slot / 8), byte: slot % 8 };
}

export const isSpilled = (s: StackSlot): boolean => s.types[7] === 'r';

export function setByte(types: string, j: number, t: SlotByte): string {
  return types.slice(0, j) + t + types.slice(j + 1);
}

/** Number of consecutive spill bytes from the bottom of the slot. */
export function spillSize(s: StackSlot): number {
  let n = 0;
  for (let j = 7; j >= 0 && s.types[j] === 'r'; j--) n++;
  return n;
}
