/**
 * bpfkit: an eBPF toolchain and runtime in TypeScript.
 * Each capability is also available as a subpath export (`bpfkit/isa`, `bpfkit/asm`, ...).
 */
export * from './errors/index.js';
export * from './isa/index.js';
