import { loadCollectionSpec } from '../elf/index.js';
import { loadCollection, type LoadCollectionOptions, type VmCollection } from './collection.js';

/**
 * The unit-test entry point: an ELF object's bytes to a live collection.
 *
 *   const obj = await loadObject(bytes);
 *   const res = obj.program('xdp_prog').run({ packet });
 *   res.action // 'XDP_PASS'
 */
export async function loadObject(bytes: Uint8Array, opts: LoadCollectionOptions = {}): Promise<VmCollection> {
  return loadObjectSync(bytes, opts);
}

export function loadObjectSync(bytes: Uint8Array, opts: LoadCollectionOptions = {}): VmCollection {
  return loadCollection(loadCollectionSpec(bytes), opts);
}
