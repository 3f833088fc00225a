/** docs/configuration.md lists every configuration key, so the docs cannot fall behind the schema. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { envVariables } from '../../src/platform/index.js';
import { repoRoot } from '../helpers/paths.js';

t.test('every key is documented with its environment name', async (t) => {
  const doc = readFileSync(path.join(repoRoot(), 'docs', 'configuration.md'), 'utf8');
  const vars = envVariables();
  t.ok(vars.length > 20, `${vars.length} keys in the schema`);
  for (const v of vars) {
    t.ok(doc.includes(`| \`${v.path}\` | \`${v.name}\` |`), `${v.path} (${v.name}) is in docs/configuration.md`);
  }
});
