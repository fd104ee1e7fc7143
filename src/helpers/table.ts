import type { ProgramType } from '../elf/index.js';
import type { Helper } from '../vm/index.js';
import { allowedHelpers } from './allowed.js';
import { controlHelpers } from './control.js';
import type { HelperHost } from './host.js';
import { helperId } from './ids.js';
import { mapHelpers } from './map-helpers.js';
import { outputHelpers } from './output.js';
import { packetHelpers } from './packet-helpers.js';
import { processHelpers } from './process.js';

/** Every helper the VM implements, by name (without bpf_). */
export function implementedHelpers(host: HelperHost): Record<string, Helper> {
  return {
    ...mapHelpers(host),
    ...processHelpers(host),
    ...outputHelpers(host),
    ...packetHelpers(host),
    ...controlHelpers(host),
  };
}

/** Names of the helpers the VM implements. */
export const IMPLEMENTED_HELPER_NAMES: readonly string[] = Object.keys(
  implementedHelpers({
    env: undefined as never, state: undefined as never, mapAt: () => undefined, ringbufs: [],
  }),
);

/** The helper table (indexed by id) a program of `type` gets: only the helpers its type may call. */
export function helperTable(host: HelperHost, type: ProgramType): Helper[] {
  const allowed = allowedHelpers(type);
  const table: Helper[] = [];
  for (const [name, fn] of Object.entries(implementedHelpers(host))) {
    if (allowed === undefined || allowed.has(name)) table[helperId(name)] = fn;
  }
  return table;
}
