#!/usr/bin/env node
// The full test suite: Debian test tools, build, lint, layering check, then the unit,
// integration and conformance tiers. Ends with the plain line "N passed, N failed".
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { tierFiles } from './tier-files.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tierArg = process.argv.slice(2);
const tiers = tierArg.length > 0 ? tierArg : ['unit', 'integration', 'conformance'];

/**
 * Test files run at once per tier. tap's own default leaves one CPU free, which on a 2-core CI
 * machine means one file at a time; most integration and conformance files spend their time
 * waiting on sockets, timers and child processes (SIPp, baresip), so they overlap well.
 * `OPENCX_TEST_JOBS=N` sets every tier.
 */
const cores = (await import('node:os')).availableParallelism();
const JOBS = { unit: Math.max(2, cores), integration: Math.max(2, cores), conformance: Math.max(3, cores + 1) };
const jobsFor = (tier) => Number(process.env.OPENCX_TEST_JOBS ?? '') || JOBS[tier] || Math.max(2, cores);

let passed = 0;
let failed = 0;
let notRun = 0;
const lines = [];
const notOk = [];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', env: { ...process.env, ...(opts.env ?? {}) }, maxBuffer: 512 * 1024 * 1024 });
  return r;
}

/** run a command, echoing its stdout as it comes, and keep a copy */
function tee(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      stdout += d.toString();
    });
    child.on('close', (status, signal) => resolve({ status, signal, stdout }));
  });
}

function step(name, cmd, args) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = run(cmd, args);
  if (r.status === 0) {
    passed += 1;
    lines.push(`${name}: ok`);
    return true;
  }
  failed += 1;
  lines.push(`${name}: FAILED (exit ${r.status ?? r.signal})`);
  return false;
}

step('test tools', 'bash', ['scripts/install-test-deps.sh']);
// the native UDP addon: npm ci builds it, but on a fresh machine the compiler may only have come with the step above
step('native UDP addon', 'node', ['scripts/build-native.mjs']);
const built = step('build', 'npx', ['tsc', '-p', 'tsconfig.json']);
step('lint', 'npx', ['eslint', '.']);
step('layering', 'npx', ['depcruise', 'src', '--config', '.dependency-cruiser.cjs']);

if (!built) {
  console.log('\nbuild failed: the test tiers cannot run');
  failed += tiers.length;
} else {
  for (const tier of tiers) {
    console.log(`\n=== tier ${tier}`);
    const files = tierFiles(root, tier);
    if (files.length === 0) {
      failed += 1;
      lines.push(`tier ${tier}: FAILED (no test files under dist/test/${tier})`);
      continue;
    }
    const jobs = jobsFor(tier);
    console.log(`(${files.length} files, ${jobs} at once)`);
    const started = Date.now();
    const r = await tee('npx', ['tap', '--reporter=tap', `--jobs=${jobs}`, ...files]);
    const seconds = Math.round((Date.now() - started) / 1000);
    const out = r.stdout;
    // name every failing assertion in the summary, with the subtests around it, so a short log shows it
    const path = [];
    for (const line of out.split('\n')) {
      const m = /^(\s*)(not ok|ok) \d+ - (.*?)(?: # time=.*)?$/.exec(line);
      const sub = /^(\s*)# Subtest: (.*)$/.exec(line);
      if (sub) {
        const depth = sub[1].length / 4;
        path.length = depth;
        path[depth] = sub[2];
      } else if (m && m[2] === 'not ok') {
        const depth = m[1].length / 4;
        notOk.push(`  not ok (${tier}): ${[...path.slice(0, depth), m[3]].join(' > ')}`);
      }
    }
    // tap ends its output with a line such as "# { total: 12, pass: 11, fail: 1, skip: 0 }"
    const summaries = [...out.matchAll(/^# \{ (total: \d+[^}]*)\}\s*$/gm)];
    const last = summaries.at(-1)?.[1];
    if (last === undefined) {
      failed += 1;
      lines.push(`tier ${tier}: FAILED (no tap summary, exit ${r.status ?? r.signal})`);
      continue;
    }
    const field = (n) => Number(new RegExp(`${n}: (\\d+)`).exec(last)?.[1] ?? 0);
    const p = field('pass');
    const f = field('fail');
    const s = field('skip') + field('todo');
    passed += p;
    failed += f;
    notRun += s;
    // a non-zero exit with no failing assertion (a crashed file, a timeout) still counts as a failure
    if (f === 0 && r.status !== 0) {
      failed += 1;
      lines.push(`tier ${tier}: ${p} passed, exit ${r.status ?? r.signal}: FAILED`);
    } else {
      lines.push(`tier ${tier}: ${p} passed, ${f} failed${s ? `, ${s} not run` : ''} (${seconds} s)`);
    }
  }
}

console.log('\n=== summary');
for (const l of lines) console.log(l);
if (notOk.length > 0) {
  console.log('failing assertions:');
  for (const l of notOk.slice(0, 40)) console.log(l);
}
if (notRun > 0) console.log(`${notRun} not run (see the NOT RUN lines above)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
