#!/usr/bin/env node
// Builds the native UDP addon (native/udp) with node-gyp from source. It never fails the
// install: without a compiler, Python, Node's headers or node-gyp it prints why and exits 0,
// and opencx runs on node:dgram (openUdpSocket's 'auto' engine says so in one log line).
//
//   node scripts/build-native.mjs        (npm run build:native; also run by `npm ci` through the package's install script, and by `npm test`)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = path.join(root, 'native', 'udp');
const addonFile = path.join(addonDir, 'build', 'Release', 'opencx_udp.node');

function skip(reason) {
  console.warn(`opencx: native UDP addon not built: ${reason}`);
  console.warn('opencx: UDP falls back to node:dgram (slower); install g++, make and python3, then run `npm run build:native`');
  process.exit(0);
}

if (process.platform !== 'linux') skip(`it needs Linux (recvmmsg/sendmmsg), this is ${process.platform}`);

// node-gyp: the one npm runs lifecycle scripts with, then a local copy, then the one bundled with npm
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally (e.g. npm ci --omit=dev): try npm's own copy
  }
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
if (gyp === undefined) skip('node-gyp not found (neither npm_config_node_gyp, node_modules/node-gyp nor the copy bundled with npm)');

for (const tool of ['make', 'cc', 'g++', 'python3']) {
  const probe = spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  if (probe.status !== 0) skip(`${tool} is not installed`);
}

// Node's own headers when the installation ships them (e.g. /usr/include/node): no download,
// so the build works offline. Otherwise node-gyp fetches them (or uses npm_config_nodedir).
const args = [gyp, 'rebuild', '--directory', addonDir];
const headersPrefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(headersPrefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${headersPrefix}`);
}

console.log(`opencx: building the native UDP addon (${path.relative(root, addonDir)})`);
const build = spawnSync(process.execPath, args, { cwd: addonDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 180_000 });
if (build.status !== 0) {
  const out = `${build.stdout ?? ''}${build.stderr ?? ''}`.split('\n').filter((l) => !l.startsWith('gyp info')).slice(-25).join('\n');
  console.warn(out);
  skip(build.error ? build.error.message : `node-gyp exited with ${build.status ?? build.signal}`);
}

// the addon must load in this Node, or it is as good as absent
const check = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addonFile)}); if (typeof a.open !== 'function') process.exit(3)`], { encoding: 'utf8' });
if (check.status !== 0) skip(`the built addon does not load: ${check.stderr.trim().split('\n')[0] ?? ''}`);
console.log(`opencx: native UDP addon built: ${path.relative(root, addonFile)}`);
