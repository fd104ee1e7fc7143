/** Update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK) and map creation flags, as in linux/bpf.h. */
export const UPDATE = { ANY: 0, NOEXIST: 1, EXIST: 2, F_LOCK: 4 } as const;
export type UpdateFlagName = 'any' | 'noexist' | 'exist';

export function updateFlagValue(f: UpdateFlagName | number | undefined): number {
  if (f === undefined || f === 'any') return UPDATE.ANY;
  if (f === 'noexist') return UPDATE.NOEXIST;
  if (f === 'exist') return UPDATE.EXIST;
  return f;
}

export const MAP_FLAG = {
  NO_PREALLOC: 1, NO_COMMON_LRU: 2, NUMA_NODE: 4, RDONLY: 8, WRONLY: 16, STACK_BUILD_ID: 32,
  ZERO_SEED: 64, RDONLY_PROG: 128, WRONLY_PROG: 256, CLONE: 512, MMAPABLE: 1024,
} as const;

/** Values are stored 8-byte aligned, as the kernel rounds value_size up for per-CPU and array maps. */
export function roundUp8(n: number): number {
  return (n + 7) & ~7;
}
