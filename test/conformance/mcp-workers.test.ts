/**
 * The MCP on several cores: with `sip.workers: 2` every SIP worker runs an MCP with a media engine
 * on its own slice of the port range. SIPp places RFC 5552 calls; each must land on the worker
 * that owns its Call-ID, be answered with that worker's media ports, get SIPp's RFC 4733 key there
 * (so the RTP reached the right engine) and end with that worker's BYE. Both workers must have
 * served calls, and every endpoint must be freed.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startOpencx } from '../helpers/opencx-process.js';
import { fixture } from '../helpers/paths.js';
import { requireSipp, runSipp } from '../helpers/sipp.js';
import { VXML_TYPE, startVxmlTestServer, vxml } from '../helpers/vxml-test-server.js';

const PCAP_DIR = '/usr/share/sip-tester';
const CALLS = 16;

t.test('RFC 5552 calls spread over the MCPs of two SIP workers', async (t) => {
  requireSipp();
  if (!existsSync(path.join(PCAP_DIR, 'dtmf_2833_1.pcap'))) throw new Error(`${PCAP_DIR}/dtmf_2833_1.pcap is missing: the Debian package sip-tester ships it`);
  const web = await startVxmlTestServer();
  t.teardown(() => web.close());
  const server = await startOpencx(['--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: {
      OPENCX_SIP__WORKERS: '2',
      OPENCX_SIP__TRANSPORTS: 'udp',
      OPENCX_MEDIA__BIND: '127.0.0.1',
      OPENCX_MEDIA__PORT_MIN: '31000',
      OPENCX_MEDIA__PORT_MAX: '31999',
      OPENCX_MCP__ASR_PROVIDER: 'none',
    },
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-mcp-workers-'));
  t.teardown(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  t.ok(server.output.some((l) => /the MCP runs in every SIP worker/.test(l)), 'the primary says the MCP runs in the workers');
  // the native UDP engine is part of the build the tests run (scripts/build-native.mjs)
  t.ok(server.output.some((l) => /SIP workers bind the UDP port each/.test(l)), 'each worker binds the SIP port itself (native engine, SO_REUSEPORT)');
  const slices = server.output.filter((l) => /"msg":"media engine of this SIP worker"/.test(l)).map((l) => /"ports":"(\d+)-(\d+)"/.exec(l)?.slice(1).map(Number));
  t.equal(slices.length, 2, 'each worker started its own media engine');
  const [a, b] = slices;
  t.ok(a !== undefined && b !== undefined && (a[1]! < b[0]! || b[1]! < a[0]!), `the workers' port ranges do not overlap (${JSON.stringify(slices)})`);

  const sip = `127.0.0.1:${server.ports.udp as number}`;
  web.routes.set(
    '/key.vxml',
    { type: VXML_TYPE, body: vxml(`<form><field name="key" type="digits?length=1"><prompt>Press 1.</prompt></field><block><submit next="${web.base}/key" method="post" namelist="key"/></block></form>`) },
  );
  web.routes.set('/key', { type: VXML_TYPE, body: vxml('<form><block><prompt>Thanks.</prompt><exit/></block></form>') });
  let text = await readFile(fixture(import.meta.url, 'sipp/mcp-entry-uac.xml'), 'utf8');
  const values = { entry_uri: `sip:dialog@${sip};voicexml=${web.base}/key.vxml`, pcap_dir: PCAP_DIR, dtmf_after_ms: '2500', bye_timeout_ms: '20000' };
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(`[${k}]`, v);
  const file = path.join(dir, 'key.xml');
  await writeFile(file, text);

  const run = await runSipp({ target: sip, scenario: file, calls: CALLS, rate: CALLS, limit: CALLS, timeoutS: 60 });
  t.equal(run.successful, CALLS, `every call ended with the MCP's BYE\n${run.successful === CALLS ? '' : run.out}`);
  const submits = web.requests.filter((r) => r.path === '/key');
  t.equal(submits.length, CALLS, 'every application submitted');
  t.ok(submits.every((r) => r.fields['key'] === '1'), "every session got SIPp's RFC 4733 key: the RTP reached the engine that answered");
  // each worker logs its sessions' end after the BYE went out: give the lines a moment to arrive
  const endedLines = () => server.output.filter((l) => /"msg":"MCP session ended"/.test(l));
  for (let i = 0; i < 100 && endedLines().length < CALLS; i++) await new Promise((r) => setTimeout(r, 100));
  const ended = endedLines();
  const byWorker = new Map<string, number>();
  for (const l of ended) {
    const w = /"worker":(\d+)/.exec(l)?.[1] ?? 'primary';
    byWorker.set(w, (byWorker.get(w) ?? 0) + 1);
  }
  t.equal(ended.length, CALLS, 'one session per call');
  t.same([...byWorker.keys()].sort(), ['0', '1'], `both workers ran sessions (${JSON.stringify(Object.fromEntries(byWorker))})`);

  let endpoints = '';
  for (let i = 0; i < 50; i++) {
    endpoints = /^opencx_media_endpoints (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${server.ports.http as number}/metrics`)).text())?.[1] ?? '';
    if (endpoints === '0') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(endpoints, '0', 'every endpoint of both engines was freed (the cluster /metrics sums them)');
  t.same(server.output.filter((l) => /"level":(50|60)/.test(l)), [], 'opencx logged no errors');
});
