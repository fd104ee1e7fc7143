// Kill any process that opens a chosen path (default /tmp/secret):
// tracepoint syscalls:sys_enter_openat + bpf_send_signal(SIGKILL).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define PATH_MAX_LEN 64

// Set from user space before load (lands in .rodata, frozen).
const volatile char target[PATH_MAX_LEN] = "/tmp/secret";
// Read from user space after the fact (memory-mapped .bss).
__u64 kills = 0;
__u32 last_pid = 0;

SEC("tracepoint/syscalls/sys_enter_openat")
int kill_on_open(struct trace_event_raw_sys_enter *ctx)
{
	char path[PATH_MAX_LEN] = {};
	const char *filename = (const char *)ctx->args[1];
	int n = bpf_probe_read_user_str(path, sizeof(path), filename);
	if (n <= 0)
		return 0;
	for (int i = 0; i < PATH_MAX_LEN; i++) {
		if (path[i] != target[i])
			return 0;
		if (path[i] == 0)
			break;
	}
	bpf_send_signal(9);
	__sync_fetch_and_add(&kills, 1);
	last_pid = bpf_get_current_pid_tgid() >> 32;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
