/**
 * `bpfkit tcpdump -r FILE [-w OUT] EXPR`, the fast path: records read in
 * chunks and filtered where they lie. Checked against a plain reference
 * (parse every packet, run the cBPF interpreter, write what it keeps):
 * records straddling chunk boundaries and longer than a chunk's head room,
 * every engine, truncated files and oversized records (errors naming the
 * packet), and bin/bpfkit.js starting the bundled command with its V8
 * code cache (as an ES module, and as CommonJS), giving the same output as
 * the command from source.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareCbpf } from '../../src/cbpf/index.js';
import tcpdumpCommand from '../../src/cli/commands/tcpdump.js';
import { runCommand, scratchDir, type CommandResult } from './command.js';
import { generatePackets, parseCapture, PcapWriter, writePcap, type PacketToWrite } from '../../src/pcap/index.js';
import { compileFilter } from '../../src/pcap/filter/index.js';
import { bundleTcpdump } from '../../scripts/bundle-commands.js';

const dir = scratchDir('bpfkit-tcpdump-read-');

const ours = (argv: string[]): Promise<CommandResult> => runCommand(tcpdumpCommand, argv);

/** Packets of every size class: small, around the 64 KiB head room, past a 256 KiB chunk. */
function varied(count: number, seed: number): PacketToWrite[] {
  const out: PacketToWrite[] = [];
  let i = 0;
  for (const p of generatePackets(seed, count)) {
    let data = p.data;
    if (i % 97 === 13) {
      // Same headers, padded: the filter still sees an Ethernet frame.
      const size = [65_000, 65_536 + 100, 140_000, 262_144][(i / 97) % 4 | 0]!;
      data = new Uint8Array(size);
      data.set(p.data.subarray(0, Math.min(p.data.length, size)));
    }
    out.push({ data, wirelen: Math.max(p.wirelen, data.length), timestamp: { seconds: 1_700_000_000 + i, fraction: i * 31, unitsPerSecond: 1e6 } });
    i++;
  }
  return out;
}

/** What -r/-w must give: the interpreter on each parsed packet, kept ones written as tcpdump writes them. */
function reference(file: string, expr: string): { summary: string; out: Buffer } {
  const bytes = new Uint8Array(readFileSync(file));
  const filter = compileFilter(expr, { linkType: 'EN10MB' });
  const run = prepareCbpf(filter, { compile: false });
  const w = new PcapWriter({ snaplen: 262144 });
  const parts = [w.header()];
  let total = 0;
  let matched = 0;
  for (const p of parseCapture(bytes)) {
    total++;
    if (run.run(p.data, 0, p.data.length, p.wirelen) === 0) continue;
    matched++;
    parts.push(w.packet({ data: p.data, wirelen: p.wirelen, timestamp: p.timestamp }));
  }
  return { summary: `${matched} of ${total} packets matched\n`, out: Buffer.concat(parts) };
}

const input = join(dir, 'varied.pcap');
writeFileSync(input, writePcap(varied(3000, 99), { snaplen: 262144 }));

test('records across chunk boundaries and longer than the head room: same count and -w bytes as the reference, on every engine', async () => {
  let compared = 0;
  for (const expr of ['ip', 'udp or arp', 'greater 60000', 'not tcp', 'tcp[tcpflags] & tcp-syn != 0']) {
    const want = reference(input, expr);
    for (const engine of ['cbpf', 'interp', 'jit']) {
      const out = join(dir, `out-${engine}.pcap`);
      const r = await ours(['--engine', engine, '-r', input, '-w', out, expr]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, want.summary, `${expr} on ${engine}`);
      assert.ok(readFileSync(out).equals(want.out), `${expr} on ${engine}: -w output differs`);
      compared++;
    }
  }
  assert.equal(compared, 15);
  assert.match(reference(input, 'greater 60000').summary, /^[1-9]\d* of 3000/);
});

test('a truncated capture: the packets before it are counted and written, then an error naming the packet and byte, exit 1', async () => {
  const whole = readFileSync(input);
  const packets = [...parseCapture(new Uint8Array(whole))];
  // Cut inside the data of packet 2001 (number 2001 counting from 1).
  let offset = 24;
  for (let i = 0; i < 2000; i++) offset += 16 + packets[i]!.data.length;
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, offset + 16 + 3));
  const out = join(dir, 'cut-out.pcap');
  const r = await ours(['-r', cut, '-w', out, 'ip or arp']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `packet 2001: truncated record at byte ${offset}\n`);
  const want = reference(input, 'ip or arp');
  const kept = [...parseCapture(new Uint8Array(readFileSync(out)))];
  assert.match(r.stdout, new RegExp(`^${kept.length} of 2000 packets matched\n$`));
  assert.ok(kept.length > 300);
  // The same packets as the whole file's first 2000 give.
  assert.ok(want.out.subarray(0, readFileSync(out).length).equals(readFileSync(out)));
  // Cut inside a record header too.
  writeFileSync(cut, whole.subarray(0, offset + 5));
  const h = await ours(['-r', cut, 'ip']);
  assert.equal(h.code, 1);
  assert.equal(h.stderr, `packet 2001: truncated record at byte ${offset}\n`);
});

test('a record longer than the snap length: an error naming the packet and offset, not a crash', async () => {
  const small = join(dir, 'snap.pcap');
  const pkts = varied(40, 5).filter((p) => p.data.length <= 1000);
  const bytes = writePcap(pkts, { snaplen: 1000 });
  // Raise record 7's caplen and wirelen past 1000 (the data is still there: the header lies).
  let offset = 24;
  for (let i = 0; i < 6; i++) offset += 16 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset + 8, true);
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset + 8, 1500, true);
  writeFileSync(small, bytes);
  const r = await ours(['-r', small, 'ip']).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  assert.match(r.stderr, new RegExp(`packet 7, offset ${offset + 8}: captured length 1500 is larger than the snap length 1000`));
});

test('bin/bpfkit.js runs the bundle (as an ES module, and as CommonJS): same output as the command from source, code cache taken', async () => {
  // A package-like tree inside the repository (so the package's type applies): bin/bpfkit.js and dist/cli/bundle.
  const root = join(process.cwd(), 'build', `test-tcpdump-bundle-${process.pid}`);
  const bundleDir = join(root, 'dist', 'cli', 'bundle');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(bundleDir, { recursive: true });
  after(() => rmSync(root, { recursive: true, force: true }));
  const loader = await bundleTcpdump(bundleDir);
  writeFileSync(join(root, 'bin', 'bpfkit.js'), readFileSync(join(process.cwd(), 'bin', 'bpfkit.js')));
  // The loader says whether V8 took the code cache.
  const probe = join(root, 'probe.mjs');
  writeFileSync(probe, `const m = await import(${JSON.stringify(`file://${loader}`)}); console.log(m.codeCacheRejected);`);
  assert.equal(spawnSync(process.execPath, [probe], { encoding: 'utf8' }).stdout.trim(), 'false');
  const cases = [
    ['-r', input, '-w', join(dir, 'b1.pcap'), 'udp or arp'],
    ['--engine', 'jit', '-r', input, '-w', join(dir, 'b2.pcap'), 'vlan and ip'],
    ['-d', 'ip and tcp port 80'],
    ['-r', input, 'ip and'],
  ];
  for (const commonjs of [false, true]) {
    if (commonjs) writeFileSync(join(root, 'bin', 'package.json'), '{ "type": "commonjs" }\n');
    for (const argv of cases) {
      const what = `${commonjs ? 'CommonJS' : 'ES module'}: ${argv.join(' ')}`;
      const b = spawnSync(process.execPath, [join(root, 'bin', 'bpfkit.js'), 'tcpdump', ...argv], { encoding: 'utf8', timeout: 60_000 });
      const outFile = argv.includes('-w') ? argv[argv.indexOf('-w') + 1]! : undefined;
      const theirs = outFile ? readFileSync(outFile) : undefined;
      const s = await ours(argv).catch((e: Error) => ({ code: 2, stdout: '', stderr: e.message }));
      assert.equal(b.stdout, s.stdout, what);
      if (outFile) assert.ok(readFileSync(outFile).equals(theirs!), `${what}: -w output differs`);
      if (argv.at(-1) === 'ip and') {
        assert.equal(b.status, 1, what);
        assert.match(b.stderr, /^bpfkit: .*syntax error/, what);
        assert.doesNotMatch(b.stderr, /\n\s+at /, 'no stack trace');
      } else {
        assert.equal(b.status, s.code, `${what}: ${b.stderr}`);
      }
    }
  }
});
