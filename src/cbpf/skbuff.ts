/**
 * The fields of Linux's `struct __sk_buff` (include/uapi/linux/bpf.h) that a
 * converted classic filter reads, and a builder for that context's bytes so
 * the converted program can run on a userspace VM.
 */
import type { SkbMeta } from './run.js';

/** Byte offsets in `struct __sk_buff`. */
export const SK_BUFF = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24,
  vlan_proto: 28, priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68,
} as const;

/** Size of the prefix of `struct __sk_buff` the builder fills. */
export const SK_BUFF_CONTEXT_SIZE = 192;

/**
 * The bytes of a `__sk_buff` for a packet: len, and the metadata in SkbMeta.
 * protocol and vlan_proto are stored in network byte order, as the kernel
 * keeps them.
 */
export function skBuffContext(len: number, meta: SkbMeta = {}): Uint8Array {
  const bytes = new Uint8Array(SK_BUFF_CONTEXT_SIZE);
  const v = new DataView(bytes.buffer);
  v.setUint32(SK_BUFF.len, len >>> 0, true);
  v.setUint32(SK_BUFF.pkt_type, (meta.pkttype ?? 0) & 7, true);
  v.setUint32(SK_BUFF.mark, (meta.mark ?? 0) >>> 0, true);
  v.setUint32(SK_BUFF.queue_mapping, (meta.queue ?? 0) & 0xffff, true);
  v.setUint16(SK_BUFF.protocol, (meta.protocol ?? 0) & 0xffff, false);
  v.setUint32(SK_BUFF.vlan_present, meta.vlanPresent ? 1 : 0, true);
  v.setUint32(SK_BUFF.vlan_tci, (meta.vlanTci ?? 0) & 0xffff, true);
  v.setUint16(SK_BUFF.vlan_proto, (meta.vlanTpid ?? 0) & 0xffff, false);
  v.setUint32(SK_BUFF.ifindex, (meta.ifindex ?? 0) >>> 0, true);
  v.setUint32(SK_BUFF.hash, (meta.rxhash ?? 0) >>> 0, true);
  return bytes;
}
