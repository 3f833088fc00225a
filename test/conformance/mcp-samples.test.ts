/**
 * The sample VoiceXML applications on a real call from a real softphone (baresip), through the
 * dial plan the first start installs (8000 → dtmf-menu, 8001 → speech-demo):
 *  - dtmf-menu: the caller hears the TTS prompts (energy in baresip's recording of what it
 *    received), presses the account number and the menu key as RFC 4733 DTMF, speaks a message
 *    after the beep; the submit reaches a test HTTP server with the fields and the WAV, and the
 *    recording lands in the blob store;
 *  - speech-demo: eSpeak NG says "Chicago" as the caller's microphone, the local recogniser
 *    (PocketSphinx) hears it against the application's grammar, and the Chicago branch runs.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeWav, generateTone } from '../../src/media/index.js';
import { EspeakTtsProvider } from '../../src/mcp/tts/index.js';
import { readWav } from '../helpers/baresip.js';
import { repoRoot } from '../helpers/paths.js';
import { startPbx } from '../helpers/pbx.js';
import { VXML_TYPE, startVxmlTestServer, vxml } from '../helpers/vxml-test-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** baresip's console holds a key's tone until the next key: press it, then release it (KEYCODE_REL, 0x04) */
async function press(phone: { type(input: string): Promise<void> }, key: string): Promise<void> {
  await phone.type(key);
  await sleep(150);
  await phone.type('\x04');
}

function rmsOf(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  const end = Math.min(to, samples.length);
  for (let i = from; i < end; i++) sum += (samples[i] as number) ** 2;
  return Math.sqrt(sum / Math.max(1, end - from));
}

/** every file under a folder, relative */
function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(path.join(dir, prefix))) return [];
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(dir, path.join(prefix, e.name)) : [path.join(prefix, e.name)]));
}

t.test('the sample applications on calls from baresip', async (t) => {
  const web = await startVxmlTestServer();
  t.teardown(() => web.close());
  const pbx = await startPbx(t, ['alice', 'bob']);
  if (pbx === undefined) return;

  await t.test('the DTMF sample: prompts heard, digits pressed, message recorded and submitted', async (t) => {
    web.routes.set('/submit', { type: VXML_TYPE, body: vxml('<form><block><prompt>Thank you, goodbye.</prompt><disconnect/></block></form>') });

    // the operator's copy of the sample, posting to the test server
    const app = path.join(pbx.work, 'dtmf-menu');
    await cp(path.join(repoRoot(), 'apps', 'samples', 'dtmf-menu'), app, { recursive: true });
    const root = path.join(app, 'root.vxml');
    const rootText = await readFile(root, 'utf8');
    t.ok(rootText.includes(`<var name="submitTo" expr="''"/>`), 'the sample has a submitTo variable');
    await writeFile(root, rootText.replace(`<var name="submitTo" expr="''"/>`, `<var name="submitTo" expr="'${web.base}/submit'"/>`));
    await pbx.cli('app', 'push', 'dtmf-menu', app);

    // the caller's microphone: 20 s of a 700 Hz tone (what the message recording must hold)
    const mic = path.join(pbx.work, 'mic.wav');
    await writeFile(mic, encodeWav(generateTone({ frequenciesHz: [700], levelDbfs: -12 }, 8000, 20_000), { sampleRate: 8000 }));
    const alice = await pbx.phone('alice', { console: true, audioSource: mic });
    await alice.type('/dial 8000');
    t.ok(await alice.waitFor(/Call established|call established/i, 15_000), 'the call to 8000 is answered');
    await sleep(2500);
    for (const key of '1234') {
      await press(alice, key);
      await sleep(200);
    }
    await sleep(4000);
    await press(alice, '1');
    // record prompt (~5.4 s), beep, then a message of a few seconds: with room for a slow prompt
    // when the box is busy (the tier runs several files at once), so that at least 1 s is recorded
    await sleep(10_000);
    await press(alice, '#');
    const submit = await web.waitFor('/submit', 30_000);
    t.equal(submit.method, 'POST');
    t.equal(submit.fields['account'], '1234', 'the account number pressed as DTMF');
    t.equal(submit.fields['choice'], 'message', 'the menu key');
    const message = submit.files['message'];
    t.ok(message !== undefined, 'the recorded message is a file part');
    if (message !== undefined) {
      t.match(message.type, /audio\/(x-)?wav/, 'as a WAV');
      const wav = readWav(message.bytes);
      t.ok(wav.samples.length / wav.rate >= 1, `${(wav.samples.length / wav.rate).toFixed(1)} s recorded`);
      t.ok(rmsOf(wav.samples, 0, wav.samples.length) > 300, 'it holds the caller audio');
    }
    await alice.waitFor(/closed|terminated|BYE/i, 15_000).catch(() => '');
    const blobsDir = path.join(pbx.server.dataDir, 'blobs');
    const recordings = walk(blobsDir).filter((f) => f.startsWith('vxml-recordings') && f.endsWith('.wav'));
    t.equal(recordings.length, 1, `the recording is in the blob store (${recordings.join(', ')})`);
    // what the caller heard: the TTS prompts (read before stop, which removes the phone's folder)
    const heard = alice.decodedRecordings();
    t.ok(heard.length > 0, 'baresip recorded what it received');
    const received = heard.length > 0 ? readWav(readFileSync(heard[0] as string)) : undefined;
    if (received !== undefined) {
      const seconds = Math.floor(received.samples.length / received.rate);
      const voiced = Array.from({ length: Math.min(seconds, 6) }, (_, s) => rmsOf(received.samples, s * received.rate, (s + 1) * received.rate)).filter((r) => r > 200).length;
      t.ok(voiced >= 3, `speech energy in ${voiced} of the first 6 seconds the caller heard`);
    }
    await alice.stop();
    await pbx.assertIdle(t);
    t.same(pbx.errors(), [], 'opencx logged no errors');
  });

  await t.test('the speech sample: the recogniser hears "Chicago" and the Chicago branch runs', async (t) => {
    web.routes.set('/city', { type: VXML_TYPE, body: vxml('<form><block><disconnect/></block></form>') });
    const app = path.join(pbx.work, 'speech-demo');
    await cp(path.join(repoRoot(), 'apps', 'samples', 'speech-demo'), app, { recursive: true });
    const main = path.join(app, 'main.vxml');
    const text = await readFile(main, 'utf8');
    await writeFile(main, text.replace(`<var name="submitTo" expr="''"/>`, `<var name="submitTo" expr="'${web.base}/city'"/>`));
    await pbx.cli('app', 'push', 'speech-demo', app);

    // the caller says "Chicago" after the question has been asked
    const tts = new EspeakTtsProvider();
    const word = (await tts.synthesize({ ssml: '<speak>Chicago</speak>', language: 'en-US', sampleRate: 8000 })).pcm;
    await tts.close();
    const mic = new Int16Array(8000 * 20);
    mic.set(word, 8000 * 8);
    const micFile = path.join(pbx.work, 'chicago.wav');
    await writeFile(micFile, encodeWav(mic, { sampleRate: 8000 }));
    const bob = await pbx.phone('bob', { console: true, audioSource: micFile });
    await bob.type('/dial 8001');
    t.ok(await bob.waitFor(/Call established|call established/i, 15_000), 'the call to 8001 is answered');
    const got = await web.waitFor('/city', 40_000);
    t.equal(got.fields['city'], 'chicago', 'recognised as chicago');
    t.equal(got.fields['branch'], 'chicago', 'and the chicago branch ran');
    await bob.stop();
    await pbx.assertIdle(t);
    t.same(pbx.errors(), [], 'opencx logged no errors');
  });
});
