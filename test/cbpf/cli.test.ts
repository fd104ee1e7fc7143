import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { decode } from '../../src/isa/index.js';
import { generatePackets, LINKTYPE, linkTypeName, writePcap } from '../../src/pcap/index.js';
import { tcpdumpListing } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'bpfkit-cbpf-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), readStdin: async () => new Uint8Array(0) });
  return { code, out, err };
}

test('dump prints what tcpdump prints, from any input format', async () => {
  const expr = 'tcp port 443 or udp port 53';
  for (const [level, flag] of [[1, '-d'], [2, '-dd'], [3, '-ddd']] as const) {
    const file = join(dir, `p${level}.txt`);
    writeFileSync(file, tcpdumpListing(expr, level));
    for (const [outLevel, outFlag] of [[1, '-d'], [2, '-dd'], [3, '-ddd']] as const) {
      const r = await cli('cbpf', 'dump', file, outFlag);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, tcpdumpListing(expr, outLevel), `${flag} -> ${outFlag}`);
    }
  }
  const raw = join(dir, 'p.bin');
  assert.equal((await cli('cbpf', 'dump', join(dir, 'p3.txt'), '--raw', '-o', raw)).code, 0);
  assert.equal(readFileSync(raw).length % 8, 0);
  assert.equal((await cli('cbpf', 'dump', raw, '-ddd')).out, tcpdumpListing(expr, 3));
});

test('check, to-ebpf and their errors', async () => {
  const good = join(dir, 'good.txt');
  writeFileSync(good, '4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0');
  assert.match((await cli('cbpf', 'check', good)).out, /ok, 4 instructions/);
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, '2,6 0 0 1,7 0 0 0');
  const r = await cli('cbpf', 'check', bad);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'bpfkit: instruction 1: the last instruction is not a return\n');
  const out = join(dir, 'out.bin');
  assert.equal((await cli('cbpf', 'to-ebpf', good, '-o', out)).code, 0);
  const insns = decode(new Uint8Array(readFileSync(out)));
  assert.equal(insns.at(-1)?.kind, 'exit');
  const parseErr = join(dir, 'perr.txt');
  writeFileSync(parseErr, '(000) ldh [12]\n(001) bogus\n');
  assert.equal((await cli('cbpf', 'dump', parseErr)).err, "bpfkit: 2:7: unknown instruction 'bogus'\n");
  assert.equal((await cli('cbpf', 'frob', good)).code, 2);
  for (const sub of ['dump', 'check', 'to-ebpf', 'run']) assert.match((await cli('cbpf', sub, '--help')).out, /^Usage: bpfkit cbpf /);
});

test('run counts the packets tcpdump -r counts with the same filter', async () => {
  const exprs = ['ip and udp', 'tcp[tcpflags] & tcp-syn != 0', 'ip6', 'arp or rarp', 'ip[6:2] & 0x1fff != 0', 'len > 200', 'icmp'];
  for (const lt of [LINKTYPE.EN10MB, LINKTYPE.LINUX_SLL, LINKTYPE.RAW]) {
    const pcap = join(dir, `c${lt}.pcap`);
    writeFileSync(pcap, writePcap(generatePackets(11, 1500, lt), { linkType: lt }));
    for (const expr of exprs) {
      const listing = join(dir, 'f.ddd');
      let text: string;
      try {
        text = tcpdumpListing(expr, 3, linkTypeName(lt));
      } catch {
        continue; // not expressible on this link type (arp on raw IP)
      }
      writeFileSync(listing, text);
      const r = await cli('cbpf', 'run', listing, '--pcap', pcap);
      assert.equal(r.code, 0, r.err);
      const theirs = execFileSync('tcpdump', ['-r', pcap, '-nn', '-q', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 })
        .split('\n').filter((l) => /^[0-9]/.test(l)).length;
      assert.match(r.out, new RegExp(`^${theirs} of 1500 packets matched`), `${linkTypeName(lt)} '${expr}'`);
    }
  }
});

test('--big-endian reads and writes raw programs in a big-endian host\'s order', async () => {
  const text = join(dir, 'be-src.txt');
  writeFileSync(text, tcpdumpListing('ip and udp', 1));
  const raw = join(dir, 'be.bin');
  const r = await cli('cbpf', 'dump', text, '--raw', '-o', raw, '--big-endian');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual([...readFileSync(raw).subarray(0, 8)], [0x00, 0x28, 0, 0, 0, 0, 0, 12]); // ldh [12]
  const back = await cli('cbpf', 'dump', raw, '--big-endian');
  assert.equal(back.out, tcpdumpListing('ip and udp', 1));
  const wrong = await cli('cbpf', 'dump', raw);
  assert.notEqual(wrong.out, back.out);
});
