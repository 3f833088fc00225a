/**
 * SIPp (Debian's sip-tester) as a caller with real media: RTP from its bundled g711a.pcap and
 * RFC 2833/4733 digits from its DTMF pcaps, answered by a small SIP harness on the media engine.
 * The engine records the caller and reports the digits.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalMediaEngine, levelDbfs, parseWav, type MediaEvent } from '../../src/media/index.js';
import { LocalBlobStore } from '../../src/platform/index.js';
import { fixture } from '../helpers/paths.js';
import { SipMediaHarness } from '../helpers/sip-media-harness.js';
import { requireSipp, runSipp } from '../helpers/sipp.js';

const PCAP_DIR = '/usr/share/sip-tester';

t.test('SIPp plays g711a.pcap and DTMF pcaps into an engine endpoint: recorded and detected', async (t) => {
  requireSipp();
  for (const f of ['g711a.pcap', 'dtmf_2833_1.pcap', 'dtmf_2833_pound.pcap', 'dtmf_2833_9.pcap']) {
    if (!existsSync(path.join(PCAP_DIR, f))) throw new Error(`${PCAP_DIR}/${f} is missing: the Debian package sip-tester ships it`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-sipp-media-'));
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const engine = new LocalMediaEngine({
    bindAddress: '127.0.0.1',
    portMin: 30000 + Math.floor(Math.random() * 5000) * 2,
    portMax: 64000,
    spoolDir: path.join(dir, 'spool'),
    blobs,
  });
  const events: MediaEvent[] = [];
  engine.onEvent((e) => events.push(e));
  const harness = await SipMediaHarness.start(engine);
  t.teardown(async () => {
    harness.close();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });
  let recording: { recordingId: string; key: string } | undefined;
  harness.whenCall(async (call) => {
    recording = await engine.record({ target: { endpointId: call.endpointId } });
  });

  // SIPp does not substitute -key values inside exec attributes: write the paths in
  const scenario = path.join(dir, 'media-pcap-uac.xml');
  await writeFile(scenario, (await readFile(fixture(import.meta.url, 'sipp/media-pcap-uac.xml'), 'utf8')).replaceAll('[pcap_dir]', PCAP_DIR));
  const result = await runSipp({ target: `127.0.0.1:${harness.port}`, scenario, calls: 1, rate: 1, timeoutS: 40 });
  t.equal(result.successful, 1, `SIPp's call succeeded (${result.failed ?? '?'} failed)\n${result.successful === 1 ? '' : result.out}`);
  const call = harness.calls[0];
  t.ok(call !== undefined, 'the harness answered one call');
  if (call === undefined || recording === undefined) return;
  await call.ended;
  await engine.stopRecord(recording.recordingId);

  const digits = events.flatMap((e) => (e.type === 'dtmf' && e.endpointId === call.endpointId ? [e.digit] : []));
  t.same(digits, ['1', '#', '9'], 'the three RFC 4733 digits from the pcaps, each once');
  t.ok(events.every((e) => e.type !== 'dtmf' || e.source === 'rfc4733'), 'reported as RFC 4733 events');

  const wav = parseWav(await blobs.get(recording.key));
  t.ok(wav.ok, 'the recording is a valid WAV');
  if (!wav.ok) return;
  const seconds = wav.samples.length / wav.format.sampleRate;
  t.ok(seconds > 7 && seconds < 15, `it lasts the call: ${seconds.toFixed(1)} s`);
  // the pcap is 7 s of speech: most 1-second windows of its part hold real audio
  let loud = 0;
  for (let s = 0; s + 8000 <= Math.min(wav.samples.length, 7 * 8000); s += 8000) {
    if (levelDbfs(wav.samples, s, s + 8000) > -45) loud++;
  }
  t.ok(loud >= 5, `${loud} of the first 7 seconds hold audio above -45 dBFS`);
  const stats = events.filter((e) => e.type === 'record.done');
  t.equal(stats.length, 1, 'one record.done event');
});
