/**
 * BTF, the BPF Type Format (https://docs.kernel.org/bpf/btf.html): parse
 * .BTF blobs (objects', the kernel's /sys/kernel/btf/vmlinux, and split
 * module BTF on top of it) and .BTF.ext (function info, line info, CO-RE
 * relocations). The wire format stays in wire.ts; users see the `BtfType`
 * union and the `Btf` class, which decodes types on demand.
 */
export { BtfError } from './errors.js';
export { Btf } from './spec.js';
export * from './types.js';
export { parseBtfExt, CORE_RELO_KINDS, type BtfExt, type CoreReloKind, type CoreRelocation, type FuncInfo, type LineInfo } from './ext.js';
export { encodeBtf } from './wire.js';
export { formatRaw, formatRawType, formatRawJson, rawTypeJson } from './raw-format.js';
export { CPrinter, formatCType, type CPrinterOptions } from './c-printer.js';
export { dumpCHeader } from './c-header.js';
export { formatValue, stringifyBtfJson, type BtfJson, type ValueFormatOptions } from './value-json.js';
export { CoreError, essentialName, resolveCoreRelocation, type CoreRelocationInput, type CoreRelocationResult } from './core.js';
