#!/usr/bin/env node
// The kcrypto command; the implementation is the compiled TypeScript CLI.
import { main } from '../dist/esm/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
