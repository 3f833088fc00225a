// Command-line parsing shared by bench/sip-register/run.mjs and bench/sip-calls/run.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Parses the common options plus `extra` ({ '--flag': [key, parser] }) into an options object
 * starting from `defaults`. Prints `help` for -h/--help.
 */
export function parseArgs(argv, defaults, extra, help) {
  const opts = {
    only: null,
    duration: 5,
    kamailioChildren: Math.max(1, os.availableParallelism()),
    kamailioShm: 512,
    stopAfterFailures: 2,
    out: null,
    readyTimeout: 30,
    quietBelow: 25,
    quietWait: 30,
    nice: 0,
    opencxRoot: null,
    opencxWorkers: [1],
    keep: false,
    ...defaults,
  };
  const list = (v) => v.split(',').map((s) => Number(s.trim()));
  const common = {
    '--only': ['only', String],
    '--rates': ['rates', list],
    '--duration': ['duration', (v) => (v === 'auto' ? null : Number(v))],
    '--kamailio-children': ['kamailioChildren', Number],
    '--kamailio-shm': ['kamailioShm', Number],
    '--out': ['out', (v) => path.resolve(v)],
    '--ready-timeout': ['readyTimeout', Number],
    '--quiet-below': ['quietBelow', Number],
    '--quiet-wait': ['quietWait', Number],
    '--nice': ['nice', Number],
    '--opencx-root': ['opencxRoot', (v) => path.resolve(v)],
    '--opencx-workers': ['opencxWorkers', list],
    ...extra,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { console.log(help); process.exit(0); }
    if (a === '--no-stop') { opts.stopAfterFailures = Infinity; continue; }
    if (a === '--keep-tmp') { opts.keep = true; continue; }
    const spec = common[a];
    if (!spec) throw new Error(`unknown argument ${a} (see --help)`);
    // [key, parser, 0]: a flag without a value
    if (spec[2] === 0) { opts[spec[0]] = spec[1](); continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    opts[spec[0]] = spec[1](v);
  }
  if (opts.only !== null && opts.only !== 'kamailio' && opts.only !== 'opencx') throw new Error('--only must be kamailio or opencx');
  if (opts.rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error('bad --rates');
  if (opts.duration !== null && !(opts.duration > 0 && opts.duration <= 60)) throw new Error('--duration must be in (0, 60] seconds');
  return opts;
}

/** The help text: the header comment of a script (lines starting with //, after the shebang). */
export function headerHelp(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').slice(1);
  const out = [];
  for (const l of lines) { if (!l.startsWith('//')) break; out.push(l.replace(/^\/\/ ?/, '')); }
  return out.join('\n');
}
