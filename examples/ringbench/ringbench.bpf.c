// Ring buffer throughput: each BPF_PROG_TEST_RUN of emit emits `batch`
// 64-byte records carrying a sequence number. Used by bench/ringbuf.ts
// with the bpfkit reader and with libbpf's ring_buffer in C.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} rb SEC(".maps");

__u32 batch = 1;
__u64 seq = 0;
__u64 dropped = 0;

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

SEC("raw_tracepoint/sys_enter")
int emit(void *ctx)
{
	bpf_loop(batch, emit_one, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
