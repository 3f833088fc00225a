#!/usr/bin/env node
// Runs one test tier with tap: `node scripts/run-tier.mjs unit|integration|conformance [tap args]`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { tierFiles } from './tier-files.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [tier, ...rest] = process.argv.slice(2);
const files = tierFiles(root, tier ?? '');
if (files.length === 0) {
  console.error(`no test files for tier "${tier}" under dist/test/${tier} (run npm run build first)`);
  process.exit(1);
}
const r = spawnSync('npx', ['tap', ...rest, ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
