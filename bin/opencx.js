#!/usr/bin/env -S node --max-semi-space-size=64
// The opencx command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
// The node flag above is V8's young generation: a SIP server at 10,000+ requests/s allocates
// hundreds of MB/s of short-lived objects, and with 64 MB semi-spaces (Node 20: 16 MB) it
// scavenges a quarter as often, measured at 16,000 REGISTER/s as 648 -> 360 ms of scavenges per
// 120,000 registrations (docs/tooling-notes.md). `node bin/opencx.js` skips the shebang: give
// the flag there yourself (the Dockerfile and the benchmarks do). Cluster workers inherit it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('opencx: dist/ is missing; run `npm install` (or `npm run build`) in the opencx folder first\n');
  process.exit(1);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2), process.env);
