/**
 * bin/bpfkit, the installed command: a shell script that starts
 * bin/bpfkit.js, found through npm's symbolic link, and drops
 * NODE_EXTRA_CA_CERTS (Node reads that file before any script runs) only
 * for commands that make no TLS connections and start no programs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scratchDir } from './command.js';

const bin = resolve('bin/bpfkit');
const dir = scratchDir('bpfkit-bin-');

function run(cmd: string, argv: string[], extraCa: string | undefined): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  if (extraCa === undefined) delete env.NODE_EXTRA_CA_CERTS;
  else env.NODE_EXTRA_CA_CERTS = extraCa;
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env, cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bin/bpfkit through a symbolic link runs the same command as node bin/bpfkit.js', () => {
  const link = join(dir, 'bpfkit');
  symlinkSync(bin, link);
  const viaLink = run(link, ['tcpdump', '-d', 'ip and udp'], undefined);
  const direct = run(process.execPath, [resolve('bin/bpfkit.js'), 'tcpdump', '-d', 'ip and udp'], undefined);
  assert.equal(viaLink.status, 0, viaLink.stderr);
  assert.equal(viaLink.stdout, direct.stdout);
  assert.match(viaLink.stdout, /^\(000\) ldh +\[12\]/);
});

test('NODE_EXTRA_CA_CERTS is dropped for tcpdump, kept for the other commands', () => {
  // Node warns on start-up when the file cannot be loaded: the warning shows whether it saw the variable.
  const missing = join(dir, 'no-such-bundle.pem');
  const tcpdump = run(bin, ['tcpdump', '-d', 'udp'], missing);
  assert.equal(tcpdump.status, 0, tcpdump.stderr);
  assert.doesNotMatch(tcpdump.stderr, /extra certs/i);
  const version = run(bin, ['--version'], missing);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^bpfkit /);
  assert.match(version.stderr, /extra certs/i);
});
