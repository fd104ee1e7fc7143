// Programs for every attach point bpfkit supports, each counting its hits
// (keyed by a slot, or by pid where the test needs to tell processes apart),
// and emitters for the ring buffer and perf buffer readers.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} by_pid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

// Events per run of emit_ring (set from user space after load).
__u32 batch = 1;
__u64 seq = 0;
__u64 dropped = 0;

enum { XDP, TCX, SOCK, CGROUP, PERF, TP_BTF, FENTRY, RAWTP };

static __always_inline void hit(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void hit_pid(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *v = bpf_map_lookup_elem(&by_pid, &pid);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&by_pid, &pid, &one, BPF_NOEXIST);
}

SEC("xdp") int on_xdp(struct xdp_md *ctx) { hit(XDP); return XDP_PASS; }
SEC("tcx/ingress") int on_tcx(struct __sk_buff *skb) { hit(TCX); return -1; /* TCX_NEXT */ }
SEC("socket") int on_socket(struct __sk_buff *skb) { hit(SOCK); return 0; /* drop */ }
SEC("cgroup_skb/egress") int on_cgroup(struct __sk_buff *skb) { hit(CGROUP); return 1; }
SEC("perf_event") int on_sample(void *ctx) { hit(PERF); return 0; }
SEC("tp_btf/sys_enter") int on_tp_btf(void *ctx) { hit(TP_BTF); return 0; }
SEC("fentry/do_sys_openat2") int on_fentry(void *ctx) { hit_pid(); return 0; }
SEC("uprobe") int on_uprobe(void *ctx) { hit_pid(); return 0; }
SEC("kprobe/do_sys_openat2") int on_kprobe(void *ctx) { return 0; }
SEC("raw_tracepoint/sys_enter") int on_raw_tp(void *ctx) { hit(RAWTP); return 0; }

struct event {
	__u64 seq;
	__u8 pad[56];
};

static long emit_one(__u64 i, void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->seq = seq++;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

// Run with BPF_PROG_TEST_RUN: `batch` 64-byte events into the ring buffer.
SEC("raw_tracepoint/sys_enter") int emit_ring(void *ctx)
{
	bpf_loop(batch, emit_one, 0, 0);
	return 0;
}

SEC("raw_tracepoint/sys_enter") int emit_perf(void *ctx)
{
	struct event e = { .seq = seq++ };
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// Tail calls through a prog array filled at load from .values.
SEC("xdp") int tail_target(struct xdp_md *ctx) { return XDP_TX; }

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

SEC("xdp") int tail_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jumps, 1);
	return XDP_ABORTED;
}

// Map in map: outer[0] is inner_a, set at load from .values.
struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a },
};

SEC("xdp") int via_outer(struct xdp_md *ctx)
{
	__u32 zero = 0;
	void *in = bpf_map_lookup_elem(&outer, &zero);
	if (!in)
		return 100;
	__u32 *v = bpf_map_lookup_elem(in, &zero);
	return v ? *v : 101;
}

SEC("cgroup/sock_create") int on_sock_create(struct bpf_sock *sk) { hit(8); return 1; }
