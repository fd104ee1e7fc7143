/**
 * The running kernel's build configuration, for `.kconfig` externs
 * (`extern bool CONFIG_BPF_SYSCALL __kconfig;`), read the way libbpf reads
 * it: /proc/config.gz, else /boot/config-$(uname -r).
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

let cached: ReadonlyMap<string, string> | undefined;

/** CONFIG_* name -> its raw value (`y`, `m`, a number, or a quoted string); empty when no config is readable. */
export function kernelConfig(): ReadonlyMap<string, string> {
  if (cached) return cached;
  let text = '';
  if (existsSync('/proc/config.gz')) text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  else if (existsSync(`/boot/config-${release()}`)) text = readFileSync(`/boot/config-${release()}`, 'utf8');
  cached = parseKernelConfig(text);
  return cached;
}

/** Parse `CONFIG_X=value` lines; `# CONFIG_X is not set` lines mean n. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) out.set(set[1], set[2]);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) out.set(unset[1], 'n');
  }
  return out;
}

/**
 * Encode a config value for an extern of `size` bytes as libbpf does:
 * tristate y/m/n as 1/2/0, integers little-endian, strings NUL-terminated
 * into a char array. Returns undefined when the value does not fit the extern.
 */
export function encodeKconfigValue(raw: string, size: number): Uint8Array | undefined {
  const out = new Uint8Array(size);
  if (raw === 'y' || raw === 'm' || raw === 'n') {
    out[0] = raw === 'y' ? 1 : raw === 'm' ? 2 : 0;
    return out;
  }
  if (raw.startsWith('"')) {
    const bytes = new TextEncoder().encode(raw.slice(1, raw.endsWith('"') ? -1 : undefined));
    if (bytes.length >= size) return undefined;
    out.set(bytes);
    return out;
  }
  let value: bigint;
  try {
    value = BigInt(raw);
  } catch {
    return undefined;
  }
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return undefined;
  const bits = BigInt(size * 8);
  if (value >= 1n << bits || value < -(1n << (bits - 1n))) return undefined;
  const word = new Uint8Array(8);
  new DataView(word.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return word.slice(0, size);
}
