/**
 * Classic BPF: the `struct sock_filter` programs behind tcpdump filters,
 * SO_ATTACH_FILTER, `iptables -m bpf`, `tc ... bpf bytecode` and seccomp.
 *
 * Decode and encode the 8-byte wire format; print and parse the listings of
 * `tcpdump -d`, `-dd` and `-ddd`; check a program as the kernel does
 * (bpf_check_classic); run it with libpcap's (or Linux's) semantics,
 * interpreted or compiled to a JavaScript function, on packets anywhere in a
 * buffer; and convert it to eBPF with the kernel's rules
 * (bpf_convert_filter) to load into the kernel, or to eBPF with direct,
 * bounds-checked packet loads (cbpfToEbpfDirect) to run on the VM's engines
 * (EbpfFilter), alone or inside a walk over a capture's records
 * (EbpfRecordWalk).
 * See the kernel's Documentation/networking/filter.rst.
 */
export * from './insn.js';
export * from './errors.js';
export * from './ancillary.js';
export { decodeSockFilter, encodeSockFilter, validateFields, SOCK_FILTER_SIZE, type SockFilterCodecOptions } from './codec.js';
export { dumpFilter, formatInsn, imageParts, bytecodeString, type DumpLevel } from './image.js';
export { parseListing, parseDump, parseDumpC, parseDumpDecimal, detectFormat, type ListingFormat } from './parse.js';
export { checkClassic, isValidClassic, ALLOWED_CODES } from './check.js';
export { runCbpf, prepareCbpf, PreparedCbpf, CBPF_LOOP_BUDGET, type SkbMeta, type CbpfRunOptions, type CbpfPrepareOptions, type PrepareCbpfOptions } from './run.js';
export { compileCbpfToJs, cbpfToJsStatements, type CompiledCbpf, type CbpfJsStatements } from './compile-js.js';
export { cbpfToEbpf, CbpfConvertError, type ConvertOptions } from './to-ebpf.js';
export { cbpfToEbpfDirect, cbpfToEbpfBody, type DirectConvertOptions } from './to-ebpf-direct.js';
export { EbpfFilter, type EbpfFilterOptions } from './ebpf-filter.js';
export { compileWasmRecordWalk, wasmRecordWalkModule, WasmRecordWalk, type WasmRecordWalkOptions, type WasmWalkResult, type WasmCompactResult } from './wasm-record-walk.js';
export { EbpfRecordWalk, recordWalkProgram, MAX_ROOM, type RecordWalkOptions, type RecordWalkResult } from './ebpf-record-walk.js';
export { SK_BUFF, SK_BUFF_CONTEXT_SIZE, skBuffContext } from './skbuff.js';
