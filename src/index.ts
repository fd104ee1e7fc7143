/**
 * bpfkit: an eBPF toolchain and runtime in TypeScript.
 *
 * The root export holds the error base classes and the instruction set; each
 * capability is a namespace here and a subpath export of its own
 * (`bpfkit/asm`, `bpfkit/vm`, `bpfkit/elf`, ...). `bpfkit/kernel` (Linux only)
 * is deliberately not re-exported, so importing `bpfkit` stays portable.
 */
export * from './errors/index.js';
export * from './isa/index.js';
export * as asm from './asm/index.js';
export * as vm from './vm/index.js';
export * as elf from './elf/index.js';
export * as btf from './btf/index.js';
export * as cbpf from './cbpf/index.js';
export * as pcap from './pcap/index.js';
export * as seccomp from './seccomp/index.js';
