// Runs the bpfkit CLI from sources (tests spawn it: `seccomp run` needs a real process).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
