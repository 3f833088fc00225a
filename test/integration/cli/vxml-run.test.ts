/** `opencx vxml run`: the sample application in the terminal, and what bad input gets. */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runOpencx } from '../../helpers/opencx-process.js';
import { repoRoot } from '../../helpers/paths.js';

t.test('the DTMF sample runs in the terminal with scripted inputs', async (t) => {
  const sample = path.join(repoRoot(), 'apps', 'samples', 'dtmf-menu', 'main.vxml');
  const r = await runOpencx(['vxml', 'run', sample, '--input', '1234', '--input', '2', '--input', '1', '--input', '#']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.same(lines.slice(0, 3), ['prompt: Welcome to the open C X demo.', 'prompt: Please enter your four digit account number.', 'input: 1234']);
  t.ok(lines.includes('prompt: Your account number is 1234.'), 'menu key 2 repeats the account number');
  t.ok(lines.some((l) => l.startsWith('record:')), 'the message is recorded');
  t.equal(lines.at(-1), 'end: exit');
  t.ok(lines.includes('prompt: Thank you. Your message has been recorded. Goodbye.'));
});

t.test('broken documents and bad usage', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-vxml-run-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const broken = path.join(dir, 'broken.vxml');
  await writeFile(broken, '<vxml version="2.1"><form><block><prompt>unclosed</block></form>');
  const r = await runOpencx(['vxml', 'run', broken]);
  t.equal(r.code, 1, 'a document that is not XML ends the session with an error');
  t.match(r.stdout, /end: error \(error\.badfetch/, `error.badfetch is reported: ${r.stdout}`);
  const missing = await runOpencx(['vxml', 'run', path.join(dir, 'nothing-here.vxml')]);
  t.equal(missing.code, 1);
  t.match(missing.stdout, /error\.badfetch/);
  const usage = await runOpencx(['vxml', 'run']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /needs a URL or a file/);
  const unknown = await runOpencx(['vxml', 'fly']);
  t.equal(unknown.code, 2);
});
