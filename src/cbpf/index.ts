/**
 * Classic BPF: the `struct sock_filter` programs behind tcpdump filters,
 * SO_ATTACH_FILTER, `iptables -m bpf`, `tc ... bpf bytecode` and seccomp.
 *
 * Decode and encode the 8-byte wire format; print and parse the listings of
 * `tcpdump -d`, `-dd` and `-ddd`; check a program as the kernel does
 * (bpf_check_classic); run it with libpcap's (or Linux's) semantics; and
 * convert it to eBPF with the kernel's rules (bpf_convert_filter).
 * See the kernel's Documentation/networking/filter.rst.
 */
export * from './insn.js';
export * from './errors.js';
export * from './ancillary.js';
export { decodeSockFilter, encodeSockFilter, validateFields, SOCK_FILTER_SIZE } from './codec.js';
export { dumpFilter, formatInsn, imageParts, bytecodeString, type DumpLevel } from './image.js';
export { parseListing, parseDump, parseDumpC, parseDumpDecimal, detectFormat, type ListingFormat } from './parse.js';
export { checkClassic, isValidClassic, ALLOWED_CODES } from './check.js';
export { runCbpf, type SkbMeta, type CbpfRunOptions } from './run.js';
export { cbpfToEbpf, CbpfConvertError, type ConvertOptions } from './to-ebpf.js';
export { SK_BUFF, SK_BUFF_CONTEXT_SIZE, skBuffContext } from './skbuff.js';
