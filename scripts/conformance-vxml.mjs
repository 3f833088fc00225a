#!/usr/bin/env node
// Runs the W3C VoiceXML implementation-report documents through the interpreter.
// usage: node scripts/conformance-vxml.mjs --dir DIR --manifest FILE [--min-pass-rate R] [--filter ID] [--timeout-ms N]
// The compiled code comes from $OPENCX_DIST (default dist).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    manifest: { type: 'string' },
    'min-pass-rate': { type: 'string' },
    filter: { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
});
const dist = resolve(process.env.OPENCX_DIST ?? 'dist');
if (values.dir === undefined) {
  console.error('--dir DIR is required');
  process.exit(2);
}
const dir = resolve(values.dir);
const manifest = resolve(values.manifest ?? `${dir}/MANIFEST.tsv`);
const { runConformance } = await import(pathToFileURL(`${dist}/src/mcp/vxml/runner/conformance.js`).href);
const summary = await runConformance({
  dir,
  manifest,
  ...(values.filter !== undefined ? { filter: values.filter } : {}),
  ...(values['timeout-ms'] !== undefined ? { timeoutMs: Number(values['timeout-ms']) } : {}),
  out: (line) => console.log(line),
});
const total = summary.passed + summary.failed;
if (values['min-pass-rate'] !== undefined) {
  let rate = Number(String(values['min-pass-rate']).replace('%', ''));
  if (rate > 1) rate /= 100;
  const got = total === 0 ? 0 : summary.passed / total;
  if (!(got >= rate)) {
    console.error(`pass rate ${(got * 100).toFixed(1)} % is below ${(rate * 100).toFixed(1)} %`);
    process.exit(1);
  }
}
