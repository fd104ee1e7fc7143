/**
 * Tests that need the real kernel's bpf(2).
 *
 * `kernelTest` skips, saying why, where bpf(2) is unusable (no koffi, not
 * root, not Linux), except under BPFKIT_REQUIRE_KERNEL=1 (CI sets it),
 * where the same reason fails the test, so a skip cannot hide a regression.
 * A test can also need a feature: it skips when the feature is missing on a
 * kernel older than `since`, and fails when the kernel is at least that new.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { bpfUnusableReason, openFds } from '../../src/kernel/index.js';

export const requireKernel = process.env.BPFKIT_REQUIRE_KERNEL === '1';

export interface KernelNeed {
  /** What is needed, for the messages: "BPF_PROG_TYPE_XDP test run". */
  readonly feature: string;
  /** True when the feature works here. */
  readonly probe: () => boolean | Promise<boolean>;
  /** Kernel version that added it ("6.6"): missing on a newer kernel is a failure. */
  readonly since?: string;
}

export interface KernelTestOptions {
  readonly need?: KernelNeed;
  readonly timeout?: number;
}

type Fn = (t: TestContext) => void | Promise<void>;

/** Whether the running kernel is at least `version` ("6.6"). */
export function kernelAtLeast(version: string, running = release()): boolean {
  const parse = (v: string) => (/^(\d+)\.(\d+)/.exec(v) ?? ['', '0', '0']).slice(1, 3).map(Number);
  const [a, b] = parse(running);
  const [x, y] = parse(version);
  return a > x || (a === x && b >= y);
}

/** Why kernel tests cannot run here, or undefined. */
export function kernelSkipReason(): string | undefined {
  return bpfUnusableReason();
}

export function kernelTest(name: string, fn: Fn): void;
export function kernelTest(name: string, opts: KernelTestOptions, fn: Fn): void;
export function kernelTest(name: string, a: KernelTestOptions | Fn, b?: Fn): void {
  const opts = typeof a === 'function' ? {} : a;
  const fn = typeof a === 'function' ? a : b!;
  test(name, opts.timeout === undefined ? {} : { timeout: opts.timeout }, async (t) => {
    const why = bpfUnusableReason();
    if (why) {
      if (requireKernel) assert.fail(`bpf(2) unusable (BPFKIT_REQUIRE_KERNEL=1): ${why}`);
      t.skip(why);
      return;
    }
    const need = opts.need;
    if (need && !(await need.probe())) {
      if (need.since && kernelAtLeast(need.since)) {
        assert.fail(`${need.feature} is missing, but kernel ${release()} is >= ${need.since}`);
      }
      t.skip(`${need.feature} not supported by kernel ${release()}`);
      return;
    }
    await fn(t);
  });
}

/**
 * Fail the file's run if any kernel fd opened through src/kernel is still
 * open when its tests end, naming where each one was opened.
 */
export function checkFdLeaks(): void {
  after(() => {
    const left = openFds();
    if (left.length > 0) {
      const detail = left.map((f) => `fd ${f.fd} (${f.what}) opened\n${f.openedAt}`).join('\n');
      assert.fail(`${left.length} kernel fd(s) leaked:\n${detail}`);
    }
  });
}
