#!/usr/bin/env node
// Runs the opencx command line from a build folder other than dist/ (e.g. a private
// `tsc --outDir dist-x` build), so benchmarks can run a working copy without touching dist/:
//   OCX_DIST=/abs/dist-x node bench/lib/opencx-launch.mjs start ...
// SIP cluster workers are forked with the same script and environment, so they load the same build.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.OCX_DIST;
if (dist === undefined || dist === '') {
  process.stderr.write('opencx-launch: set OCX_DIST to the build folder (holding src/cli/main.js)\n');
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(path.resolve(dist, 'src', 'cli', 'main.js')).href);
process.exitCode = await runCli(process.argv.slice(2), process.env);
