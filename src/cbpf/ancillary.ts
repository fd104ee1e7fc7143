/**
 * Linux's ancillary data loads: `ld [SKF_AD_OFF + n]` reads skb metadata
 * instead of packet bytes (include/uapi/linux/filter.h). Negative offsets
 * at or above SKF_NET_OFF / SKF_LL_OFF address the network / link headers.
 */
export const SKF_AD_OFF = 0xfffff000; // -0x1000 as u32
export const SKF_NET_OFF = 0xfff00000; // -0x100000
export const SKF_LL_OFF = 0xffe00000; // -0x200000

export type AncillaryField =
  | 'protocol' | 'pkttype' | 'ifindex' | 'nlattr' | 'nlattr_nest' | 'mark' | 'queue' | 'hatype'
  | 'rxhash' | 'cpu' | 'alu_xor_x' | 'vlan_tag' | 'vlan_tag_present' | 'pay_offset' | 'random' | 'vlan_tpid';

/** SKF_AD_* offsets, and the short names libpcap's bpf_image prints for them. */
export const ANCILLARY: readonly { readonly field: AncillaryField; readonly offset: number; readonly image: string }[] = [
  { field: 'protocol', offset: 0, image: 'proto' },
  { field: 'pkttype', offset: 4, image: 'type' },
  { field: 'ifindex', offset: 8, image: 'ifidx' },
  { field: 'nlattr', offset: 12, image: 'nla' },
  { field: 'nlattr_nest', offset: 16, image: 'nlan' },
  { field: 'mark', offset: 20, image: 'mark' },
  { field: 'queue', offset: 24, image: 'queue' },
  { field: 'hatype', offset: 28, image: 'hatype' },
  { field: 'rxhash', offset: 32, image: 'rxhash' },
  { field: 'cpu', offset: 36, image: 'cpu' },
  { field: 'alu_xor_x', offset: 40, image: 'xor_x' },
  { field: 'vlan_tag', offset: 44, image: 'vlan_tci' },
  { field: 'vlan_tag_present', offset: 48, image: 'vlanp' },
  { field: 'pay_offset', offset: 52, image: 'poff' },
  { field: 'random', offset: 56, image: 'random' },
  { field: 'vlan_tpid', offset: 60, image: 'vlan_tpid' },
];

const byK = new Map(ANCILLARY.map((a) => [(SKF_AD_OFF + a.offset) >>> 0, a]));
const byImage = new Map(ANCILLARY.map((a) => [a.image, a]));

/** The ancillary field an absolute load's k selects, if any. */
export function ancillaryField(k: number): AncillaryField | undefined {
  return byK.get(k >>> 0)?.field;
}

/** libpcap's short name for an ancillary k (`proto`, `vlan_tci`...). */
export function ancillaryImage(k: number): string | undefined {
  return byK.get(k >>> 0)?.image;
}

/** Names the kernel's bpf_asm uses (`ld #vlan_avail`) where they differ from libpcap's. */
const BPF_ASM_NAMES: Readonly<Record<string, string>> = { vlan_avail: 'vlanp', rand: 'random', poff: 'poff' };

/** The k of an ancillary load given libpcap's short name, bpf_asm's, or the SKF_AD field name. */
export function ancillaryK(name: string): number | undefined {
  const a = byImage.get(Object.hasOwn(BPF_ASM_NAMES, name) ? BPF_ASM_NAMES[name] : name) ?? ANCILLARY.find((x) => x.field === name);
  return a === undefined ? undefined : (SKF_AD_OFF + a.offset) >>> 0;
}
