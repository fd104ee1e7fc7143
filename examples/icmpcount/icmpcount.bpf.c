// Count ICMP packets per destination IPv4 address as devices queue them
// (tracepoint net:net_dev_queue).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   // destination address, network byte order
	__type(value, __u64); // packets
} counts SEC(".maps");

SEC("tracepoint/net/net_dev_queue")
int count_icmp(struct trace_event_raw_net_dev_template *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	struct iphdr ip;
	if (BPF_CORE_READ(skb, protocol) != __builtin_bswap16(0x0800))
		return 0;
	if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
		return 0;
	if (ip.version != 4 || ip.protocol != 1)
		return 0;
	__u32 daddr = ip.daddr;
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &daddr);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &daddr, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
