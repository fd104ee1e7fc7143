// Trace TCP state changes (tracepoint sock:inet_sock_set_state) into a
// ring buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
	__u64 skaddr;
	__u32 pid;
	__s32 oldstate;
	__s32 newstate;
	__u16 sport;
	__u16 dport;
	__u8 saddr[4];
	__u8 daddr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != 6 /* IPPROTO_TCP */ || ctx->family != 2 /* AF_INET */)
		return 0;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->skaddr = (__u64)ctx->skaddr;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->oldstate = ctx->oldstate;
	e->newstate = ctx->newstate;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	__builtin_memcpy(e->saddr, ctx->saddr, 4);
	__builtin_memcpy(e->daddr, ctx->daddr, 4);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
