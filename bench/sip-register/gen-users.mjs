#!/usr/bin/env node
// Writes the user list for the REGISTER benchmark in three forms, all for the same users
// u1..uN with password pw<n>-<salt>:
//   users.csv           SIPp injection file: SEQUENTIAL, then user;domain;[authentication username=u password=p]
//   opencx-users.csv    for `node bin/opencx.js user import FILE --data-dir DIR`: user@domain;password
//   kamailio-db/        db_text directory with table `bench_users` (htable layout: key_name = user,
//                       key_value = password) and `version`, loaded by kamailio-register.cfg into
//                       an in-memory htable at start-up
//
//   node bench/sip-register/gen-users.mjs [--count 100000] [--domain 127.0.0.1] [--out DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const userName = (n) => `u${n}`;
export const password = (n) => `pw${n}-${((n * 2654435761) >>> 0).toString(36)}`;

/** Writes the three files into dir; returns their paths. */
export function generateUsers(dir, count = 100000, domain = '127.0.0.1') {
  fs.mkdirSync(path.join(dir, 'kamailio-db'), { recursive: true });
  const sipp = ['SEQUENTIAL'];
  const opencx = [];
  const kam = ['id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int)'];
  for (let n = 1; n <= count; n++) {
    const u = userName(n);
    const p = password(n);
    sipp.push(`${u};${domain};[authentication username=${u} password=${p}]`);
    opencx.push(`${u}@${domain};${p}`);
    kam.push(`${n}:${u}:0:0:${p}:0`);
  }
  const files = {
    sippCsv: path.join(dir, 'users.csv'),
    opencxCsv: path.join(dir, 'opencx-users.csv'),
    kamailioDb: path.join(dir, 'kamailio-db'),
  };
  fs.writeFileSync(files.sippCsv, `${sipp.join('\n')}\n`);
  fs.writeFileSync(files.opencxCsv, `${opencx.join('\n')}\n`);
  fs.writeFileSync(path.join(files.kamailioDb, 'bench_users'), `${kam.join('\n')}\n`);
  fs.writeFileSync(path.join(files.kamailioDb, 'version'), 'table_name(string) table_version(int)\nbench_users:2\n');
  return files;
}

/**
 * A SIPp injection file with the given [from, count] ranges of the generated users (0-based line
 * numbers), so that every step registers users nobody has registered before. Returns the count.
 */
export function sliceCsv(fullCsv, outFile, parts) {
  const lines = fs.readFileSync(fullCsv, 'utf8').split('\n').slice(1).filter((l) => l);
  const out = [];
  for (const [from, count] of parts) out.push(...lines.slice(from, from + count));
  fs.writeFileSync(outFile, `SEQUENTIAL\n${out.join('\n')}\n`);
  return out.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
  const out = path.resolve(get('--out', '.'));
  const files = generateUsers(out, Number(get('--count', '100000')), get('--domain', '127.0.0.1'));
  console.log(JSON.stringify(files, null, 2));
}
