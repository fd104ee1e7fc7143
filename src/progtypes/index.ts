/**
 * Program types and the contexts they run with, in Linux's user-visible
 * layouts: `struct __sk_buff` for socket filters, tc and cgroup skb;
 * `struct xdp_md` for XDP, with packet pointers that are real addresses in
 * the VM; tracepoint records, pt_regs for kprobes and perf event data for
 * the tracing types. See https://docs.kernel.org/bpf/prog_flow_dissector.html
 * and include/uapi/linux/bpf.h.
 */
export { PacketBuffer } from './packet.js';
export {
  XdpContext, XDP_ACTIONS, XDP_MD, XDP_HEADROOM, XDP_FRAME_SIZE, XDP_SHINFO_SIZE, XDP_FRAME_STRUCT, xdpActionName,
  type XdpAction, type XdpRunOptions,
} from './xdp.js';
export { SkbContext, SK_BUFF, tcActionName, ethProtocol, packetType, type SkbStart, type SkbRunOptions, type SkbFieldsOut } from './skb.js';
export {
  parseTracepointFormat, encodeTracepointRecord, recordSize, TracepointFormatError,
  type TracepointField, type TracepointFormat, type TracepointValue,
} from './tracepoint.js';
export { shippedTracepointFormat, SHIPPED_TRACEPOINTS } from './tracepoint-formats.js';
export {
  encodePtRegs, encodePerfEventData, encodeRawTracepointArgs, ptRegsSize, X86_64_PT_REGS, ARM64_PT_REGS_SIZE, RegsError,
  type RegsArch, type RegsValues,
} from './pt-regs.js';
