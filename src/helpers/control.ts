import { NotSupportedError } from '../errors/index.js';
import { ProgArrayMap } from '../maps/index.js';
import type { Helper } from '../vm/index.js';
import { MAX_TAIL_CALL_CNT, type HelperHost } from './host.js';

const ENOENT = -2, E2BIG = -7;

/**
 * bpf_tail_call: on success the helper ends the running program (halt)
 * and leaves the target in the run state; the runtime then starts the
 * target with the same context, which is what replacing the program does.
 * On failure execution continues, as in the kernel.
 *
 * bpf_loop and bpf_for_each_map_elem call back into the program: the VM
 * has no hook for that yet, so they report NotSupported.
 */
export function controlHelpers(host: HelperHost): Record<string, Helper> {
  const st = host.state;
  const needsCallback = (name: string): Helper => () => {
    throw new NotSupportedError(`bpf_${name} on the VM`, 'helpers that call back into the program need a VM callback hook');
  };
  return {
    tail_call: (ctx) => {
      const map = host.mapAt(ctx.argU32(2));
      if (!(map instanceof ProgArrayMap)) return ENOENT;
      const index = ctx.argU32(3);
      if (ctx.arg(3) > 0xffffffffn || index >= map.maxEntries) return ENOENT;
      if (st.tailCalls >= MAX_TAIL_CALL_CNT) return E2BIG;
      const target = map.program(index);
      if (target === undefined) return ENOENT;
      st.tailCalls++;
      st.tailCall = target;
      ctx.halt();
      return 0;
    },
    loop: needsCallback('loop'),
    for_each_map_elem: needsCallback('for_each_map_elem'),
  };
}
