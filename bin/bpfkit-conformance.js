#!/usr/bin/env node
// The bpf_conformance plugin (see src/cli/conformance.ts); needs `npm run build`.
import('../dist/cli/conformance.js').then(async ({ main }) => {
  process.exitCode = await main(process.argv.slice(2));
});
