/**
 * A throwaway network namespace joined to the test's namespace by a veth
 * pair: host side 10.X.Y.1/24, namespace side 10.X.Y.2/24. `dispose()`
 * deletes both (deleting the namespace removes the pair); it runs even
 * when the test fails.
 */
import { execFileSync } from 'node:child_process';

export interface NetNs extends Disposable {
  readonly name: string;
  readonly hostIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
  exec(cmd: string[], opts?: { timeout?: number }): string;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: 'pipe' });
};

export function createNetNs(tag: string): NetNs {
  const id = (process.pid % 200) + 20;
  const sub = Math.floor(Math.random() * 250) + 1;
  const name = `bpfkit-${tag}-${process.pid}`;
  const hostIf = `bk${tag.slice(0, 4)}${process.pid % 100000}`.slice(0, 15);
  const peer = `${hostIf.slice(0, 13)}p`;
  const hostIp = `10.${id}.${sub}.1`;
  const nsIp = `10.${id}.${sub}.2`;
  const dispose = (): void => {
    try { ip('link', 'del', hostIf); } catch { /* gone with the namespace */ }
    try { ip('netns', 'del', name); } catch { /* never created */ }
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', name);
    ip('addr', 'add', `${hostIp}/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/24`, 'dev', peer);
    ip('netns', 'exec', name, 'ip', 'link', 'set', peer, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (e) {
    dispose();
    throw e;
  }
  return {
    name, hostIf, hostIp, nsIp,
    exec: (cmd, opts = {}) => execFileSync('ip', ['netns', 'exec', name, ...cmd], { encoding: 'utf8', timeout: opts.timeout ?? 20000 }),
    [Symbol.dispose]: dispose,
  };
}

/** A Python one-liner that sends `count` ICMP echo requests to `dst` (no ping binary needed) and waits for replies. */
export function pingScript(dst: string, count: number): string[] {
  const py = `
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
got = 0
for i in range(${count}):
    h = struct.pack('!BBHHH', 8, 0, 0, 0x4242, i) + b'bpfkit'
    h = h[:2] + struct.pack('!H', csum(h)) + h[4:]
    s.sendto(h, ('${dst}', 0))
    while True:
        try:
            d, a = s.recvfrom(1500)
        except socket.timeout:
            break
        if a[0] == '${dst}' and d[20] == 0:
            got += 1
            break
print(got)
`;
  return ['/usr/bin/python3', '-c', py];
}
