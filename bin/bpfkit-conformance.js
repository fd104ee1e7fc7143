#!/usr/bin/env node
// The bpf_conformance plugin (see src/cli/conformance.ts); needs `npm run
// build`. The suite's runner starts one process per test, so the plugin
// starts from its bundle with V8's code cache (dist/cli/bundle/conformance.*,
// made by scripts/bundle-commands.ts) when there is one, as CommonJS or as
// an ES module like bin/bpfkit.js, else from dist/cli/conformance.js.
function bundled() {
  if (typeof require === 'function') return Promise.resolve(require('./bpfkit.js').withoutEsm('conformance'));
  return import('../dist/cli/bundle/conformance.js').then(
    (m) => m.run,
    (e) => {
      if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
      return undefined;
    },
  );
}

bundled().then(async (run) => {
  const main = run ?? (await import('../dist/cli/conformance.js')).main;
  process.exitCode = await main(process.argv.slice(2));
});
