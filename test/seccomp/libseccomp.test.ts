/**
 * Differential test against libseccomp: the same random policies compiled by
 * our compiler and by libseccomp (seccomp_export_bpf, through a small C tool)
 * must return the same value for every seccomp_data we try. Both filters run
 * on our interpreter, whose seccomp_data loads the kernel test checks.
 *
 * Known, intended difference: libseccomp treats x32 as a 32-bit ABI and
 * compares only the low word of arguments; we compare all 64 bits (the
 * kernel passes x32 calls full 64-bit registers). Policies with x32 therefore
 * use 32-bit constants and calls with zero high words.
 *
 * Policies keep one rule per syscall: with several conditional rules on one
 * syscall, libseccomp 2.5.4 emits jumps into shared comparison code that
 * assume the accumulator holds a different argument word than it does (for
 * `fdatasync: arg5 > 0x1439cc90e42e69be` OR `arg5 <= 0x17055a70`, it compares
 * the low word of arg5 against the high word of the first constant and allows
 * arg5 = 0x170d5a70). Our handling of several rules is checked against the
 * direct reading of the policy in compile.test.ts instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { decodeSockFilter, type SockFilter } from '../../src/cbpf/index.js';
import {
  type Action, actionToRet, ACT, ARCHES, type ArchName, checkSeccompFilter, compile, parseProfile, type Policy, runFilter,
  type SeccompData,
} from '../../src/seccomp/index.js';
import { scmpExportPath } from './native/build.js';
import { randomData, randomPolicy, Rng } from './random.js';

const exporter = scmpExportPath();

// Old, non-multiplexed calls (socketcall and ipc are rewritten by libseccomp on x86 and s390).
const NAMES = `read write close fstat lseek mmap mprotect munmap brk ioctl pread64 pwrite64 readv writev sched_yield mremap
  msync mincore madvise dup dup3 nanosleep getpid kill uname fcntl flock fsync fdatasync truncate ftruncate getcwd chdir
  fchdir fchmod fchown umask getrusage sysinfo times ptrace getuid syslog getgid setuid setgid geteuid getegid setpgid
  getppid setsid setreuid setregid getgroups setgroups setresuid getresuid getpgid capget capset personality statfs
  fstatfs getpriority setpriority mlock munlock prctl chroot sync acct mount umount2 reboot sethostname gettid readahead
  tkill futex sched_setaffinity exit_group epoll_ctl tgkill waitid openat mkdirat fchownat unlinkat renameat linkat
  ppoll unshare splice tee vmsplice utimensat eventfd2 epoll_create1 pipe2 prlimit64 setns getcpu kcmp seccomp
  getrandom memfd_create bpf execveat membarrier copy_file_range clone execve wait4 exit`.split(/\s+/).filter(Boolean);

const scmpName: Record<ArchName, string> = {
  x86_64: 'x86_64', x86: 'x86', x32: 'x32', aarch64: 'aarch64', arm: 'arm', riscv64: 'riscv64', ppc64le: 'ppc64le',
  ppc64: 'ppc64', s390x: 's390x', mips: 'mips', mipsel: 'mipsel', mips64: 'mips64', mipsel64: 'mipsel64',
};

const hex = (v: bigint | number) => v.toString(16);

function libseccompFilter(p: Policy, optimize?: number) {
  const lines = [
    `default ${hex(actionToRet(p.defaultAction))}`,
    `badarch ${hex(actionToRet(p.badArchAction ?? ACT.killProcess()))}`,
    ...p.arches.map((a) => `arch ${scmpName[a]}`),
    ...p.rules.map((r) => `rule ${hex(actionToRet(r.action))} ${r.syscall} ${r.args.length} ${r.args.map((c) => `${c.index} ${c.op} ${hex(c.value)} ${hex(c.valueTwo ?? 0n)}`).join(' ')}`),
  ];
  const r = spawnSync(exporter, optimize === undefined ? [] : [String(optimize)], { input: `${lines.join('\n')}\n` });
  if (r.status !== 0) assert.fail(`libseccomp exporter exit ${r.status}: ${r.stderr}\n${lines.join('\n')}`);
  const bytes = new Uint8Array(r.stdout);
  // seccomp_export_bpf writes the filter in the target's byte order.
  if (ARCHES[p.arches[0]].endian === 'big') {
    for (let o = 0; o < bytes.length; o += 8) {
      bytes.subarray(o, o + 2).reverse();
      bytes.subarray(o + 4, o + 8).reverse();
    }
  }
  return decodeSockFilter(bytes);
}

// libseccomp takes NOTIFY only with a listener and TRAP only without data: map them to what it takes.
function normalize(a: Action): Action {
  if (a.kind === 'user_notif') return ACT.log();
  if (a.kind === 'trap') return ACT.trap(0);
  return a;
}

/** The policy libseccomp can express: mapped actions, and no rule whose action is the default (it refuses those). */
function forLibseccomp(p: Policy): Policy {
  const defaultAction = normalize(p.defaultAction);
  const same = (a: Action) => actionToRet(a) === actionToRet(defaultAction);
  return {
    ...p,
    defaultAction,
    badArchAction: p.badArchAction && normalize(p.badArchAction),
    rules: p.rules.map((x) => ({ ...x, action: normalize(x.action) })).filter((x) => !same(x.action)),
  };
}

function differential(
  seed: number, policies: number, trials: number, arches: () => ArchName[], bits32: boolean, zeroHigh: (a: ArchName) => boolean,
  rulesPerSyscall: number,
) {
  const r = new Rng(seed);
  let compared = 0;
  let oursTotal = 0;
  let theirsTotal = 0;
  for (let i = 0; i < policies; i++) {
    const as = arches();
    const names = NAMES.filter((n) => Object.hasOwn(ARCHES[as[0]].syscalls, n));
    let p = forLibseccomp(randomPolicy(r, { arches: as, syscalls: names, maxRules: 25, bits32, oneActionPerSyscall: true, distinctArgs: true }));
    if (rulesPerSyscall === 1) p = { ...p, rules: p.rules.filter((x, j) => p.rules.findIndex((y) => y.syscall === x.syscall) === j) };
    if (p.rules.length === 0) continue;
    const ours = compile(p).filter;
    const theirs = libseccompFilter(p, i % 2 ? 2 : undefined); // half with libseccomp's binary tree
    checkSeccompFilter(ours);
    checkSeccompFilter(theirs);
    oursTotal += ours.length;
    theirsTotal += theirs.length;
    for (let t = 0; t < trials; t++) {
      const { data, arch } = randomData(r, p, { zeroHigh });
      const endian = arch ? ARCHES[arch].endian : 'little';
      const a = runFilter(ours, data, endian);
      const b = runFilter(theirs, data, endian);
      if (a !== b) {
        assert.fail(`ours 0x${hex(a)} libseccomp 0x${hex(b)} on ${arch}: nr ${data.nr} args ${data.args.map(hex).join(',')}\n` +
          `policy: ${JSON.stringify(p, (_, v) => (typeof v === 'bigint' ? `0x${hex(v)}` : v))}`);
      }
      compared++;
    }
  }
  return { compared, oursTotal, theirsTotal };
}

test('same verdicts as libseccomp: 64-bit architectures, full 64-bit constants (both byte orders)', (t) => {
  const r = new Rng(1);
  // libseccomp wants one byte order per filter.
  const pools: ArchName[][] = [['x86_64', 'aarch64', 'riscv64', 'ppc64le', 'mipsel64'], ['s390x', 'ppc64', 'mips64']];
  const res = differential(0xdecaf, 120, 250, () => {
    const pool = pools[r.int(pools.length)];
    const first = pool[r.int(pool.length)];
    const second = pool[r.int(pool.length)];
    return first === second ? [first] : [first, second];
  }, false, () => false, 1);
  assert.ok(res.compared > 20000);
  t.diagnostic(`64-bit: ${res.compared} inputs; instructions ours ${res.oursTotal} vs libseccomp ${res.theirsTotal}`);
});

test('same verdicts as libseccomp: x86_64 with x86 and x32, 32-bit ABIs', (t) => {
  const r = new Rng(2);
  const combos: ArchName[][] = [['x86_64', 'x86', 'x32'], ['x86_64', 'x32'], ['x86_64', 'x86'], ['x86'], ['arm'], ['aarch64', 'arm'], ['x86_64', 'x86', 'arm']];
  const res = differential(0xbeef, 120, 250, () => combos[r.int(combos.length)], true, (a) => a === 'x32', 1);
  assert.ok(res.compared > 20000);
  t.diagnostic(`32-bit ABIs: ${res.compared} inputs; instructions ours ${res.oursTotal} vs libseccomp ${res.theirsTotal}`);
});

/** Instructions executed for one call (the filters here use only ld [k], and, jeq/jgt/jge, ja, ret). */
function pathLength(f: readonly SockFilter[], d: SeccompData): number {
  let a = 0;
  let n = 0;
  const word = (k: number) => (k === 0 ? d.nr : k === 4 ? d.arch : Number((d.args[(k - 16) >> 3] >> (k & 4 ? 32n : 0n)) & 0xffffffffn));
  for (let pc = 0; ; pc++) {
    n++;
    const { code, k, jt, jf } = f[pc];
    if (code === 0x20) a = word(k);
    else if (code === 0x54) a = (a & k) >>> 0;
    else if (code === 0x05) pc += k;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x25) pc += a > k ? jt : jf;
    else if (code === 0x35) pc += a >= k ? jt : jf;
    else if (code === 0x06) return n;
    else assert.fail(`unexpected opcode 0x${hex(code)}`);
  }
}

test('on a container-default-sized profile our filter is shorter and faster than libseccomp\'s', (t) => {
  const text = readFileSync(new URL('./fixtures/default-like.json', import.meta.url), 'utf8');
  const { policy } = parseProfile(text, { arch: 'x86_64', kernel: '6.1' });
  // libseccomp takes only names it knows on the native arch; the rest are no-ops for both.
  const p = { ...policy, rules: policy.rules.filter((r) => Object.hasOwn(ARCHES.x86_64.syscalls, r.syscall)) };
  const ours = compile(p).filter;
  const report: string[] = [];
  for (const optimize of [1, 2]) {
    const theirs = libseccompFilter(p, optimize);
    let sumOurs = 0;
    let sumTheirs = 0;
    let maxOurs = 0;
    const nrs = Object.values(ARCHES.x86_64.syscalls);
    for (const nr of nrs) {
      const d = { nr, arch: ARCHES.x86_64.auditArch, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] };
      const a = pathLength(ours, d);
      sumOurs += a;
      maxOurs = Math.max(maxOurs, a);
      sumTheirs += pathLength(theirs, d);
    }
    assert.ok(ours.length < theirs.length, `size ${ours.length} vs ${theirs.length}`);
    assert.ok(sumOurs < sumTheirs, `path ${sumOurs} vs ${sumTheirs}`);
    report.push(`optimize=${optimize}: size ${ours.length} vs ${theirs.length}, mean path ${(sumOurs / nrs.length).toFixed(1)} vs ${(sumTheirs / nrs.length).toFixed(1)} (our max ${maxOurs})`);
  }
  t.diagnostic(`default-like x86_64 (+x86, x32), ours vs libseccomp: ${report.join('; ')}`);
});
