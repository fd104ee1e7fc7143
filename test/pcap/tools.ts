/** Reading captures with the real tcpdump, for differential tests. */
import { execFileSync } from 'node:child_process';

export interface TcpdumpPacket {
  /** `seconds.fraction` as -tt prints it. */
  readonly ts: string;
  readonly data: Uint8Array;
}

/** `tcpdump -r FILE -tt -xx -nn -q` parsed into timestamps and captured bytes. */
export function tcpdumpRead(file: string, nano = false): TcpdumpPacket[] {
  const args = ['-r', file, '-tt', '-xx', '-nn', '-q', ...(nano ? ['--time-stamp-precision', 'nano'] : [])];
  const out = execFileSync('tcpdump', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  const packets: { ts: string; hex: string[] }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\t0x([0-9a-f]+):\s+(.*)$/.exec(line);
    if (m) {
      // Some decoders print payload hex of their own; the -xx dump comes last and starts again at 0x0000.
      const cur = packets[packets.length - 1];
      if (parseInt(m[1], 16) === 0) cur.hex = [];
      cur.hex.push(...m[2].trim().split(/\s+/));
    } else if (/^[0-9]/.test(line)) {
      packets.push({ ts: line.split(' ')[0], hex: [] });
    }
  }
  return packets.map((p) => {
    const hex = p.hex.join('');
    const data = new Uint8Array(hex.length / 2);
    for (let i = 0; i < data.length; i++) data[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return { ts: p.ts, data };
  });
}

/** Why live capture on lo cannot run here, or undefined when it can. */
export function captureUnavailable(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'capturing on lo needs root';
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is not installed';
  }
  return undefined;
}
