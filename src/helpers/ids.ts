import { HELPER_NAMES } from '../asm/helper-names.js';
import { HelperIdError } from './errors.js';

/**
 * Helper ids by name, taken from the generated table of the kernel's
 * enum bpf_func_id (src/asm/helper-names.ts), so they cannot drift.
 */
const BY_NAME = new Map<string, number>(HELPER_NAMES.map((n, i) => [n.replace(/^bpf_/, ''), i]));

/** The id of helper `name` ("map_lookup_elem" or "bpf_map_lookup_elem"). */
export function helperId(name: string): number {
  const id = BY_NAME.get(name.replace(/^bpf_/, ''));
  if (id === undefined) throw new HelperIdError(name);
  return id;
}

/** Linux's name of a helper id ("bpf_map_lookup_elem"), or "helper #N". */
export function helperName(id: number): string {
  return HELPER_NAMES[id] ?? `helper #${id}`;
}
