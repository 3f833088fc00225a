// The W3C VoiceXML 2.0/2.1 implementation-report documents through the interpreter: at least
// 95 % of the manifest entries must pass. The folder comes from OPENCX_CONFORMANCE_DIR (or
// ../shared/conformance beside the repository); without it this test fails and says so.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformance } from '../../src/mcp/vxml/index.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const base = process.env.OPENCX_CONFORMANCE_DIR ?? resolve(repo, '..', 'shared', 'conformance');
const dir = join(base, 'vxml-ir');
const manifest = join(dir, 'MANIFEST.tsv');

t.test('W3C VoiceXML IR documents pass at 95 % or more', async (t) => {
  if (!existsSync(manifest)) {
    t.fail(`cannot run the VoiceXML conformance documents: ${manifest} does not exist (set OPENCX_CONFORMANCE_DIR to the folder holding vxml-ir/)`);
    return;
  }
  const summary = await runConformance({ dir, manifest });
  const total = summary.passed + summary.failed;
  for (const r of summary.results.filter((x) => !x.pass)) t.comment(`FAIL ${r.entry.document} (${r.entry.assertion}): ${r.reason}`);
  t.comment(`${summary.passed} passed, ${summary.failed} failed`);
  t.ok(total > 0, 'the manifest lists entries');
  t.ok(summary.passed / total >= 0.95, `pass rate ${((summary.passed / total) * 100).toFixed(1)} % (${summary.passed}/${total})`);
});
