// Kernel symbol externs: untyped (kallsyms address), typed (vmlinux VAR), kfuncs (extern FUNC in .ksyms).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern const void bpf_prog_put __ksym;                  /* untyped, in kallsyms */
extern const void bpfkit_no_such_symbol __ksym __weak;  /* untyped, missing, weak: 0 */
extern void bpf_rcu_read_lock(void) __ksym;             /* kfunc */
extern void bpf_rcu_read_unlock(void) __ksym;
extern int bpfkit_no_such_kfunc(int, int) __ksym __weak; /* extern FUNC with unnamed parameters */
extern const int bpf_prog_active __ksym;                /* typed: BPF_PSEUDO_BTF_ID */

__u64 seen_addr;
__u64 seen_missing;

SEC("xdp")
int untyped(struct xdp_md *ctx)
{
	seen_addr = (__u64)&bpf_prog_put;
	seen_missing = (__u64)&bpfkit_no_such_symbol;
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	if (bpfkit_no_such_kfunc)
		return bpfkit_no_such_kfunc(1, 2);
	return XDP_PASS;
}

SEC("xdp")
int typed(struct xdp_md *ctx)
{
	int *p = bpf_this_cpu_ptr(&bpf_prog_active);
	return *p ? XDP_DROP : XDP_PASS;
}
