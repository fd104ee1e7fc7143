/**
 * The eBPF instruction set: RFC 9669 plus Linux's additions (cpu v4, callx,
 * kfunc and local calls, every 64-bit immediate kind, may_goto,
 * load-acquire/store-release).
 *
 * `Insn` is the typed model every layer shares; `decode` and `encode` convert
 * to and from the 8-byte little-endian wire format.
 * See https://www.rfc-editor.org/rfc/rfc9669 and the kernel's
 * Documentation/bpf/standardization/instruction-set.rst.
 */
export * from './insn.js';
export * from './opcodes.js';
export * from './errors.js';
export { decode, decodeAt, type DecodeOptions } from './decode.js';
export { encode, encodeInsn } from './encode.js';
export { readRaw, writeRaw, type RawInsn } from './fields.js';
export * as build from './build.js';
