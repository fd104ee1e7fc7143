#!/usr/bin/env node
// `bpfkit trace`, `tcpdump`, `jit` and `run` start from one bundled file
// each (scripts/bundle-commands.ts; start-up time is part of what they are
// measured on); every other command goes through the CLI dispatcher.
//
// This file runs as an ES module (the package's type) or, given a
// bin/package.json saying {"type": "commonjs"}, as CommonJS: then Node
// starts without its ES module loader and the commands bundled with a code
// cache compile their bundle here (same wrapper and code cache as
// dist/cli/bundle/NAME.js), about 5 ms of CPU less. Hence no static
// import, no import.meta and no top-level await.
const BUNDLED = {
  trace: '../dist/cli/bundle/trace.js',
  tcpdump: '../dist/cli/bundle/tcpdump.js',
  jit: '../dist/cli/bundle/jit.js',
  run: '../dist/cli/bundle/run.js',
};
/** Bundled as NAME.cjs with NAME.cjs.cache (V8's code cache) beside the loader. */
const CACHED = new Set(['tcpdump', 'jit', 'run']);

/** CommonJS only: dist/cli/bundle/NAME.cjs compiled with its code cache, as NAME.js does it; its `run`, or undefined without the bundle. */
function withoutEsm(name) {
  const { readFileSync } = require('node:fs');
  const { Script } = require('node:vm');
  const { createRequire } = require('node:module');
  const file = require('node:path').join(__dirname, `../dist/cli/bundle/${name}.cjs`);
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData;
  try {
    cachedData = readFileSync(file + '.cache');
  } catch {
    // no cache: compile as usual
  }
  const script = new Script('(function (exports, require, module) {' + source + '\n})', { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module);
  return module.exports.run;
}

async function bundled(name) {
  if (!Object.hasOwn(BUNDLED, name)) return undefined;
  if (CACHED.has(name) && typeof require === 'function') return withoutEsm(name);
  try {
    return (await import(BUNDLED[name])).run;
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return undefined;
  }
}

async function start(argv) {
  const run = await bundled(argv[0] ?? '');
  if (run) return run(argv.slice(1));
  const { main } = await import('../dist/cli/main.js');
  return main(argv);
}

// As CommonJS, bin/bpfkit-conformance.js takes withoutEsm from here.
if (typeof module === 'object' && typeof require === 'function') module.exports = { withoutEsm };

if (typeof require !== 'function' || require.main === module) {
  start(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
