/**
 * reg("name"): x86-64's struct pt_regs, as bpftrace names its members,
 * with their byte offsets (arch/x86/include/asm/ptrace.h). Probes whose
 * context is a pt_regs (kprobes, uprobes) or starts with one (perf events).
 */
export const PT_REGS_OFFSETS: Readonly<Record<string, number>> = {
  r15: 0, r14: 8, r13: 16, r12: 24, bp: 32, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  ax: 80, cx: 88, dx: 96, si: 104, di: 112, orig_ax: 120, ip: 128, cs: 136, flags: 144, sp: 152, ss: 160,
};

/** Providers whose context reg() can read. */
export const REG_PROVIDERS: ReadonlySet<string> = new Set(['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'profile', 'interval', 'software', 'hardware']);
