#!/usr/bin/env node
// `bpfkit trace` starts from one bundled file (start-up time is part of what
// it is measured on); every other command goes through the CLI dispatcher.
const argv = process.argv.slice(2);
let run;
if (argv[0] === 'trace') {
  try {
    ({ run } = await import('../dist/cli/bundle/trace.js'));
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
}
if (run) {
  process.exitCode = await run(argv.slice(1));
} else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(argv);
}
