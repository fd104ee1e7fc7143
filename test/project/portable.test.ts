/**
 * The portable core (everything outside src/cli and src/kernel) must run in a
 * browser: no `node:` modules, no npm packages, only relative imports.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '../../src');
const NATIVE = new Set(['cli', 'kernel']);

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

test('the portable core imports only relative modules', () => {
  const offenders: string[] = [];
  let files = 0;
  for (const path of sources(SRC)) {
    const rel = relative(SRC, path);
    if (NATIVE.has(rel.split('/')[0])) continue;
    files++;
    const text = readFileSync(path, 'utf8');
    const code = text.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    const specifiers = [
      ...code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]/gm),
      ...code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
      ...code.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ];
    for (const m of specifiers) {
      if (!m[1].startsWith('.')) offenders.push(`${rel}: ${m[1]}`);
    }
    if (/\bprocess\.(?:env|argv|exit|stdout|stderr|stdin|platform|cwd|on|pid)\b|\bBuffer\.(?:from|alloc|concat)\b/.test(code)) {
      offenders.push(`${rel}: uses Node's process or Buffer`);
    }
  }
  assert.ok(files > 50, `only ${files} portable source files found`);
  assert.deepEqual(offenders, []);
});
