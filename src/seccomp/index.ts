/**
 * Seccomp policies: the syscall filters Linux attaches to a process with
 * seccomp(SECCOMP_SET_MODE_FILTER). A policy (from an OCI/Docker JSON profile
 * or the TypeScript builder) compiles to a classic BPF program over
 * `struct seccomp_data`; the same program can be run here on any
 * seccomp_data, and a policy can explain which rule decides a call.
 * See the kernel's Documentation/userspace-api/seccomp_filter.rst.
 */
export * from './actions.js';
export * from './arch.js';
export * from './data.js';
export * from './errors.js';
export * from './policy.js';
export { arg, PolicyBuilder } from './builder.js';
export { parseProfile, profileToPolicy, type ProfileOptions, type ProfileResult } from './profile.js';
export { compile, type CompileResult } from './compile.js';
export { checkSeccompFilter, runFilter, seccompWordImage } from './interpret.js';
export { decide, explain, type ConditionResult, type Decision, type RuleResult } from './explain.js';
