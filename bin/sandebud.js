#!/usr/bin/env node
// The `sandebud` command. Runs the TypeScript sources directly through tsx (no build step).
import { register } from 'tsx/esm/api';

// A closed pipe (`sandebud config | head`) is not an error.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
register();
const { run } = await import('../src/cli/sandebud.ts');
process.exitCode = await run(process.argv.slice(2));
