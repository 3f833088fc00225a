/**
 * <transfer> on a real call: a SIPp caller enters a VoiceXML application by RFC 5552; the
 * application bridges it to bob, a registered baresip that answers; the new leg goes through
 * opencx's own calls layer (dial plan, users). With maxtime 3 s the bridge ends as
 * maxtime_disconnect, the application submits the outcome, and everything returns to idle.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixture } from '../helpers/paths.js';
import { startPbx } from '../helpers/pbx.js';
import { requireSipp, runSipp } from '../helpers/sipp.js';
import { VXML_TYPE, startVxmlTestServer, vxml } from '../helpers/vxml-test-server.js';

const PCAP_DIR = '/usr/share/sip-tester';

t.test('a bridge transfer from a VoiceXML application to a registered phone', async (t) => {
  requireSipp();
  if (!existsSync(path.join(PCAP_DIR, 'dtmf_2833_1.pcap'))) throw new Error(`${PCAP_DIR}/dtmf_2833_1.pcap is missing: the Debian package sip-tester ships it`);
  const web = await startVxmlTestServer();
  t.teardown(() => web.close());
  const pbx = await startPbx(t, ['bob']);
  if (pbx === undefined) return;
  const bob = await pbx.phone('bob', { answer: true });
  web.routes.set(
    '/xfer.vxml',
    {
      type: VXML_TYPE,
      body: vxml(`
  <form>
    <transfer name="t" dest="sip:bob@127.0.0.1" bridge="true" connecttimeout="15s" maxtime="3s">
      <prompt>Connecting you to Bob.</prompt>
    </transfer>
    <block>
      <var name="outcome" expr="t"/>
      <var name="duration" expr="t$.duration"/>
      <submit next="${web.base}/outcome" method="post" namelist="outcome duration"/>
    </block>
  </form>`),
    },
  );
  web.routes.set('/outcome', { type: VXML_TYPE, body: vxml('<form><block><exit/></block></form>') });
  let text = await readFile(fixture(import.meta.url, 'sipp/mcp-entry-uac.xml'), 'utf8');
  const values = { entry_uri: `sip:dialog@127.0.0.1:${pbx.udp};voicexml=${web.base}/xfer.vxml`, pcap_dir: PCAP_DIR, dtmf_after_ms: '500', bye_timeout_ms: '40000' };
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(`[${k}]`, v);
  const scenario = path.join(pbx.work, 'xfer.xml');
  await writeFile(scenario, text);
  const run = await runSipp({ target: `127.0.0.1:${pbx.udp}`, scenario, calls: 1, rate: 1, timeoutS: 60 });
  t.equal(run.successful, 1, `the caller's call ended with the MCP's BYE\n${run.successful === 1 ? '' : run.out}`);
  const got = await web.waitFor('/outcome', 1000).catch(() => undefined);
  t.equal(got?.fields['outcome'], 'maxtime_disconnect', 'the bridge ended at maxtime');
  t.ok(Number(got?.fields['duration']) >= 2, `the bridged call lasted ${got?.fields['duration'] ?? '?'} s`);
  t.ok(await bob.waitFor(/Call established/i, 1000).then(() => true, () => false), 'bob answered the transferred call');
  t.ok(await bob.waitFor(/terminated|closed/i, 5000).then(() => true, () => false), "bob's call was hung up at maxtime");
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
