// The conformance runner end to end on a small folder of its own: HTTP on 127.0.0.1 port 0,
// verdict prompts, DTMF and speech answers, a failing entry with its reason.
import t from 'tap';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance } from '../../../../src/mcp/vxml/index.js';

const doc = (body: string) => `<?xml version="1.0"?><vxml xmlns="http://www.w3.org/2001/vxml" version="2.1">${body}</vxml>`;

t.test('runs each manifest entry and reports PASS/FAIL lines', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vxml-conf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'suite'));
  await writeFile(join(dir, 'suite', 'ok.vxml'), doc(`<form><block><goto next="next.txml"/></block></form>`));
  await writeFile(join(dir, 'suite', 'next.vxml'), doc(`<form><block><prompt>pass</prompt><exit/></block></form>`));
  await writeFile(
    join(dir, 'suite', 'dtmf.vxml'),
    doc(`<form><field name="f"><grammar mode="dtmf" root="r"><rule id="r"><item>1</item></rule></grammar><prompt>Press '1'.</prompt></field>
      <block><if cond="f == '1'"><prompt>pass</prompt><else/><prompt>fail</prompt></if></block></form>`),
  );
  await writeFile(
    join(dir, 'suite', 'speech.vxml'),
    doc(`<form><field name="city"><grammar root="r"><rule id="r"><one-of><item>chicago</item><item>tokyo</item></one-of></rule></grammar><prompt>Say 'Tokyo'.</prompt></field>
      <block><if cond="city == 'tokyo'"><prompt>pass</prompt><else/><prompt>fail</prompt></if></block></form>`),
  );
  await writeFile(join(dir, 'suite', 'bad.vxml'), doc(`<form><block><prompt>fail</prompt><log>failure reason: expected</log></block></form>`));
  await writeFile(join(dir, 'MANIFEST.tsv'), '# entry\tassertion\tinput\nsuite/ok.vxml\t1\tnone\nsuite/dtmf.vxml\t2\tdtmf\nsuite/speech.vxml\t3\tspeech\nsuite/bad.vxml\t4\tnone\nsuite/missing.vxml\t5\tnone\n');
  const lines: string[] = [];
  const summary = await runConformance({ dir, manifest: join(dir, 'MANIFEST.tsv'), out: (l) => lines.push(l), timeoutMs: 20_000 });
  t.equal(summary.passed, 3);
  t.equal(summary.failed, 2);
  t.same(lines.slice(0, 3), ['PASS suite/ok.vxml (1)', 'PASS suite/dtmf.vxml (2)', 'PASS suite/speech.vxml (3)']);
  t.match(lines[3], /^FAIL suite\/bad\.vxml \(4\): fail: failure reason: expected/);
  t.match(lines[4], /^FAIL suite\/missing\.vxml \(5\): no verdict; session ended: error error\.badfetch/);
  t.equal(lines[5], '3 passed, 2 failed');
});
