/**
 * The verifier: the Linux kernel's eBPF safety checks (kernel/bpf/verifier.c,
 * Linux 6.18, privileged loader) in portable TypeScript, with the kernel's
 * verdicts, messages and log format. Structure checks (cfg.ts) run first; then
 * abstract interpretation walks every path with typed register states
 * (reg-state.ts) and scalar ranges (tnum.ts, bounds.ts), checking arithmetic,
 * memory, jumps and calls (check-*.ts), pruning equivalent states (prune.ts).
 * On request it hands engines what the proof guarantees per instruction
 * (facts.ts), so a verified program can run with fewer runtime checks.
 * See https://docs.kernel.org/bpf/verifier.html.
 */
export { verify, verifyOrThrow, COMPLEXITY_LIMIT_INSNS } from './verify.js';
export { VerifierError, VerifierInputError } from './errors.js';
export type {
  MapInfo, MapType, ProgType, VerifierIssue, VerifyOptions, VerifyResult, VerifyStats,
} from './types.js';
export { HELPERS, type HelperProto, type ArgType, type RetType } from './helpers.js';
export { ctxAccess } from './ctx-access.js';
export { REGION, regionsOf, type RegionKind, type VerifiedFacts } from './facts.js';
