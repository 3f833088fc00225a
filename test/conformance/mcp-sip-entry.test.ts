/**
 * The MCP's SIP entry points from SIPp: RFC 5552 (`sip:dialog@host;voicexml=URL`) runs a
 * VoiceXML application whose session.connection.* holds the INVITE's values and which takes a
 * DTMF key from SIPp's pcap; RFC 4240 (`sip:annc@host;play=URL;repeat=2`) plays and hangs up.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeWav, generateTone } from '../../src/media/index.js';
import { startOpencx } from '../helpers/opencx-process.js';
import { fixture } from '../helpers/paths.js';
import { requireSipp, runSipp } from '../helpers/sipp.js';
import { VXML_TYPE, startVxmlTestServer, vxml } from '../helpers/vxml-test-server.js';

const PCAP_DIR = '/usr/share/sip-tester';

async function scenario(dir: string, name: string, values: Record<string, string>): Promise<string> {
  let text = await readFile(fixture(import.meta.url, 'sipp/mcp-entry-uac.xml'), 'utf8');
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(`[${k}]`, v);
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

t.test('RFC 5552 and RFC 4240 entries from SIPp', async (t) => {
  requireSipp();
  if (!existsSync(path.join(PCAP_DIR, 'dtmf_2833_1.pcap'))) throw new Error(`${PCAP_DIR}/dtmf_2833_1.pcap is missing: the Debian package sip-tester ships it`);
  const web = await startVxmlTestServer();
  t.teardown(() => web.close());
  const server = await startOpencx(['--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: { OPENCX_MEDIA__BIND: '127.0.0.1', OPENCX_MCP__ASR_PROVIDER: 'none' },
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-mcp-entry-'));
  t.teardown(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const sip = `127.0.0.1:${server.ports.udp as number}`;

  await t.test('dialog@ with voicexml=: session.connection.* from the INVITE, a DTMF key, the BYE', async (t) => {
    web.routes.set(
      '/conn.vxml',
      {
        type: VXML_TYPE,
        body: vxml(`
  <form>
    <var name="remote" expr="session.connection.remote.uri"/>
    <var name="local" expr="session.connection.local.uri"/>
    <var name="proto" expr="session.connection.protocol.name + '/' + session.connection.protocol.version"/>
    <var name="account" expr="session.connection.protocol.sip.headers['x-account']"/>
    <var name="ruri" expr="session.connection.protocol.sip.requesturi.voicexml"/>
    <var name="aai" expr="session.connection.aai"/>
    <var name="redirect" expr="session.connection.redirect.length > 0 ? session.connection.redirect[0].uri + ' ' + session.connection.redirect[0].reason : 'none'"/>
    <field name="key" type="digits?length=1"><prompt>Press 1.</prompt></field>
    <block><submit next="${web.base}/conn" method="post" namelist="remote local proto account ruri aai redirect key"/></block>
  </form>`),
      },
    );
    web.routes.set('/conn', { type: VXML_TYPE, body: vxml('<form><block><prompt>Thanks.</prompt><exit/></block></form>') });
    const entry = `sip:dialog@${sip};voicexml=${web.base}/conn.vxml`;
    const file = await scenario(dir, 'dialog.xml', { entry_uri: entry, pcap_dir: PCAP_DIR, dtmf_after_ms: '2500', bye_timeout_ms: '20000' });
    const run = await runSipp({ target: sip, scenario: file, calls: 1, rate: 1, timeoutS: 40 });
    t.equal(run.successful, 1, `SIPp's call ended with the MCP's BYE\n${run.successful === 1 ? '' : run.out}`);
    const got = await web.waitFor('/conn', 1000).catch(() => undefined);
    t.ok(got !== undefined, 'the application submitted');
    if (got === undefined) return;
    t.match(got.fields['remote'], /^sip:caller@127\.0\.0\.1/, 'session.connection.remote.uri is the From');
    t.equal(got.fields['local'], entry, 'session.connection.local.uri is the To URI');
    t.equal(got.fields['proto'], 'sip/2.0');
    t.equal(got.fields['account'], '4711', 'an INVITE header reaches protocol.sip.headers');
    t.equal(got.fields['ruri'], `${web.base}/conn.vxml`, 'protocol.sip.requesturi holds the voicexml parameter');
    t.equal(got.fields['aai'], 'opencx', 'User-to-User becomes session.connection.aai');
    t.equal(got.fields['redirect'], 'sip:+15550001111@carrier.example unconditional', 'Diversion becomes session.connection.redirect');
    t.equal(got.fields['key'], '1', "the RFC 4733 digit from SIPp's pcap");
  });

  await t.test('annc@ with play=, repeat=2 and delay=: played twice, then BYE', async (t) => {
    const tone = encodeWav(generateTone({ frequenciesHz: [440] }, 8000, 1000), { sampleRate: 8000, channels: 1 });
    web.routes.set('/tone.wav', { type: 'audio/x-wav', body: Buffer.from(tone) });
    const entry = `sip:annc@${sip};play=${web.base}/tone.wav;repeat=2;delay=500`;
    const file = await scenario(dir, 'annc.xml', { entry_uri: entry, pcap_dir: PCAP_DIR, dtmf_after_ms: '100', bye_timeout_ms: '15000' });
    const started = Date.now();
    const run = await runSipp({ target: sip, scenario: file, calls: 1, rate: 1, timeoutS: 30 });
    const elapsed = Date.now() - started;
    t.equal(run.successful, 1, `SIPp's call ended with the MCP's BYE\n${run.successful === 1 ? '' : run.out}`);
    // two plays of 1 s and a 0.5 s pause come before the BYE (a lower bound, not a speed check)
    t.ok(elapsed >= 2500, `the BYE came after both plays (${elapsed} ms)`);
    t.ok(web.requests.some((r) => r.path === '/tone.wav'), 'the announcement was fetched');
  });

  await t.test('hostile documents end their own sessions; a call beside them goes on', async (t) => {
    const hostile: Record<string, string> = {
      loop: vxml('<form><block><script>while (true) {}</script><prompt>never</prompt></block></form>'),
      alloc: vxml('<form><block><script>var a = []; while (true) a.push(new Array(100000).fill(1));</script></block></form>'),
      notxml: '<vxml version="2.1"><form><block><prompt>unclosed</block>',
    };
    for (const [name, body] of Object.entries(hostile)) web.routes.set(`/${name}.vxml`, { type: VXML_TYPE, body });
    web.routes.set(
      '/calm.vxml',
      { type: VXML_TYPE, body: vxml(`<form><field name="key" type="digits?length=1"><prompt>Press 1.</prompt></field><block><submit next="${web.base}/calm" method="post" namelist="key"/></block></form>`) },
    );
    web.routes.set('/calm', { type: VXML_TYPE, body: vxml('<form><block><exit/></block></form>') });
    const calm = await scenario(dir, 'calm.xml', { entry_uri: `sip:dialog@${sip};voicexml=${web.base}/calm.vxml`, pcap_dir: PCAP_DIR, dtmf_after_ms: '4000', bye_timeout_ms: '30000' });
    const calmRun = runSipp({ target: sip, scenario: calm, calls: 1, rate: 1, timeoutS: 60 });
    const hostileRuns = await Promise.all(
      Object.keys(hostile).map(async (name) => {
        // a session that dies at once sends its BYE before SIPp's key: a short pause, a generous BYE wait
        const file = await scenario(dir, `${name}.xml`, { entry_uri: `sip:dialog@${sip};voicexml=${web.base}/${name}.vxml`, pcap_dir: PCAP_DIR, dtmf_after_ms: '0', bye_timeout_ms: '30000' });
        return [name, await runSipp({ target: sip, scenario: file, calls: 1, rate: 1, timeoutS: 60 })] as const;
      }),
    );
    t.equal(hostileRuns.length, 3, 'three hostile calls were placed');
    const calmResult = await calmRun;
    t.equal(calmResult.successful, 1, `the calm call beside them completed\n${calmResult.successful === 1 ? '' : calmResult.out}`);
    const got = await web.waitFor('/calm', 1000).catch(() => undefined);
    t.equal(got?.fields['key'], '1', 'and its application got the key');
    // each hostile session ended with its own error event (logged by the interpreter) ...
    const ended = server.output.filter((l) => /"msg":"MCP session ended"/.test(l) && /"reason":"error"/.test(l));
    t.ok(ended.some((l) => /error\.semantic/.test(l) && /time limit/.test(l)), 'the endless loop: error.semantic, script time limit');
    t.ok(ended.some((l) => /error\.semantic/.test(l) && /memory limit/.test(l)), 'the unbounded allocation: error.semantic, script memory limit');
    t.ok(ended.some((l) => /error\.badfetch/.test(l)), 'the document that is not XML: error.badfetch');
    // ... and the MCP hung up every call: no media endpoint is left
    let endpoints = '';
    for (let i = 0; i < 50; i++) {
      endpoints = /^opencx_media_endpoints (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${server.ports.http as number}/metrics`)).text())?.[1] ?? '';
      if (endpoints === '0') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(endpoints, '0', 'every session was hung up and its endpoint freed');
  });

  await t.test('a bad entry URI is refused, and the server lives on', async (t) => {
    const entry = `sip:dialog@${sip};voicexml=ftp://nowhere/x.vxml`;
    const file = await scenario(dir, 'bad.xml', { entry_uri: entry, pcap_dir: PCAP_DIR, dtmf_after_ms: '100', bye_timeout_ms: '1000' });
    const run = await runSipp({ target: sip, scenario: file, calls: 1, rate: 1, timeoutS: 10 });
    t.equal(run.successful, 0, 'no call');
    t.match(run.out, /400|Unexpected/, 'SIPp got the 400 it did not expect');
    const health = await fetch(`http://127.0.0.1:${server.ports.http as number}/healthz`);
    t.equal(health.status, 200, 'opencx is still healthy');
  });
  t.same(server.output.filter((l) => /"level":(50|60)/.test(l)), [], 'opencx logged no errors');
});
