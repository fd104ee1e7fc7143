import { BpfkitError } from '../errors/index.js';

/** Linux errno values the map operations return (negated) as the kernel does. */
export const ERR = {
  EPERM: 1, ENOENT: 2, E2BIG: 7, EBADF: 9, EAGAIN: 11, EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22, ENOSPC: 28,
  EOPNOTSUPP: 95, ENOTSUPP: 524,
} as const;
export type ErrName = keyof typeof ERR;

const ERR_NAMES = new Map<number, ErrName>(Object.entries(ERR).map(([k, v]) => [v, k as ErrName]));

/** Name of an errno value ("ENOENT"), or its number as text. */
export function errName(errno: number): string {
  return ERR_NAMES.get(Math.abs(errno)) ?? String(Math.abs(errno));
}

/** A host-side map operation failed the way bpf(2) would: `errno` is the kernel's. */
export class MapOperationError extends BpfkitError {
  readonly code = 'MAP_OPERATION';
  constructor(readonly map: string, readonly operation: string, readonly errno: number, detail?: string) {
    super(`map '${map}': ${operation}: ${errName(errno)}${detail ? ` (${detail})` : ''}`);
  }
}

/** A map definition the VM cannot create (bad sizes, unknown or unsupported type). */
export class MapDefinitionError extends BpfkitError {
  readonly code = 'MAP_DEFINITION';
  constructor(readonly map: string, reason: string) {
    super(`map '${map}': ${reason}`);
  }
}
