/**
 * The Google providers on real calls: opencx's MCP speaks through a local TextToSpeech gRPC
 * server and listens through a local Speech gRPC server (both @grpc/grpc-js, plain text on
 * loopback). A SIPp caller enters by RFC 5552; the application hears "chicago" from the speech
 * server and submits it. Then the TTS server fails: the session gets error.noresource quickly
 * and opencx logs it, and the next call is still served.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GoogleSpeechServer } from '../helpers/google-speech-server.js';
import { GoogleTtsServer } from '../helpers/google-tts-server.js';
import { startOpencx } from '../helpers/opencx-process.js';
import { fixture } from '../helpers/paths.js';
import { requireSipp, runSipp } from '../helpers/sipp.js';
import { VXML_TYPE, startVxmlTestServer, vxml } from '../helpers/vxml-test-server.js';

const PCAP_DIR = '/usr/share/sip-tester';

t.test('Google TTS and Speech through local gRPC servers, and a failing TTS', async (t) => {
  requireSipp();
  if (!existsSync(path.join(PCAP_DIR, 'dtmf_2833_1.pcap'))) throw new Error(`${PCAP_DIR}/dtmf_2833_1.pcap is missing: the Debian package sip-tester ships it`);
  const tts = await GoogleTtsServer.start();
  t.teardown(() => tts.close());
  const speech = await GoogleSpeechServer.start({ alternatives: [{ transcript: 'Chicago', confidence: 0.92 }] });
  t.teardown(() => speech.close());
  const web = await startVxmlTestServer();
  t.teardown(() => web.close());
  const server = await startOpencx(['--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: {
      OPENCX_MEDIA__BIND: '127.0.0.1',
      OPENCX_MCP__TTS_PROVIDER: 'google',
      OPENCX_MCP__GOOGLE_TTS_ENDPOINT: `127.0.0.1:${tts.port}`,
      OPENCX_MCP__ASR_PROVIDER: 'google',
      OPENCX_MCP__GOOGLE_SPEECH_ENDPOINT: `127.0.0.1:${speech.port}`,
    },
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-mcp-google-'));
  t.teardown(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const sip = `127.0.0.1:${server.ports.udp as number}`;
  const call = async (name: string, doc: string): Promise<{ successful: number | undefined; out: string }> => {
    web.routes.set(`/${name}.vxml`, { type: VXML_TYPE, body: doc });
    let text = await readFile(fixture(import.meta.url, 'sipp/mcp-entry-uac.xml'), 'utf8');
    const values = { entry_uri: `sip:dialog@${sip};voicexml=${web.base}/${name}.vxml`, pcap_dir: PCAP_DIR, dtmf_after_ms: '200', bye_timeout_ms: '20000' };
    for (const [k, v] of Object.entries(values)) text = text.replaceAll(`[${k}]`, v);
    const file = path.join(dir, `${name}.xml`);
    await writeFile(file, text);
    return runSipp({ target: sip, scenario: file, calls: 1, rate: 1, timeoutS: 40 });
  };
  const done = vxml('<form><block><exit/></block></form>');
  web.routes.set('/result', { type: VXML_TYPE, body: done });

  await t.test('the prompt is synthesised by the TTS server and the answer comes from the Speech server', async (t) => {
    const run = await call(
      'city',
      vxml(`
  <form>
    <field name="city">
      <grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="c" mode="voice"><rule id="c"><one-of><item>chicago</item><item>london</item></one-of></rule></grammar>
      <prompt>Which city, please?</prompt>
    </field>
    <block><submit next="${web.base}/result" method="post" namelist="city"/></block>
  </form>`),
    );
    t.equal(run.successful, 1, `the call ended with the MCP's BYE\n${run.successful === 1 ? '' : run.out}`);
    const got = await web.waitFor('/result', 1000).catch(() => undefined);
    t.equal(got?.fields['city'], 'chicago', "the Speech server's transcript, matched against the grammar");
    t.ok(
      tts.requests.some((r) => JSON.stringify(r).includes('Which city, please?')),
      'the TTS server was asked for the prompt, as SSML',
    );
    const stream = speech.streams[0];
    t.ok(stream !== undefined && stream.audioBytes > 0, `the Speech server received caller audio (${stream?.audioBytes ?? 0} bytes)`);
  });

  await t.test('a failing TTS server: error.noresource, a log line, no hang', async (t) => {
    tts.mode = 'unavailable';
    web.requests.length = 0;
    // the application server takes a moment, so SIPp has pressed its key before the BYE comes
    web.routes.set('/noresource', { type: VXML_TYPE, body: done, delayMs: 1500 });
    const started = Date.now();
    const run = await call(
      'broken',
      vxml(`
  <catch event="error.noresource">
    <var name="ev" expr="_event"/>
    <submit next="${web.base}/noresource" method="post" namelist="ev"/>
  </catch>
  <form><block><prompt>This prompt cannot be spoken today.</prompt></block>
    <field name="x" type="digits?length=1"><prompt>Press a key.</prompt></field>
  </form>`),
    );
    t.equal(run.successful, 1, `the call still ended properly with a BYE\n${run.successful === 1 ? '' : run.out}`);
    const got = await web.waitFor('/noresource', 1000).catch(() => undefined);
    t.equal(got?.fields['ev'], 'error.noresource', 'the document caught error.noresource');
    t.ok(Date.now() - started < 15_000, 'well before any timeout');
    t.ok(
      server.output.some((l) => /"level":(40|50)/.test(l) && /TTS|tts|speech|synthes/i.test(l)),
      'opencx logged the failure',
    );
    tts.mode = 'ok';
  });
});
