#!/usr/bin/env node
// The bpf_conformance plugin (see src/cli/conformance.ts); needs `npm run build`.
import { main } from '../dist/cli/conformance.js';

process.exitCode = await main(process.argv.slice(2));
