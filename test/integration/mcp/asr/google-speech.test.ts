import t from 'tap';
import net from 'node:net';
import { AsrError, GoogleSpeechAsrProvider, createAsrProvider, type AsrSession, type AsrSessionOptions } from '../../../../src/mcp/asr/index.js';
import type { SpeechResult } from '../../../../src/mcp/vxml/platform.js';
import { GoogleSpeechServer } from '../../../helpers/google-speech-server.js';
import { citiesRuleSet } from '../../../unit/mcp/asr/rule-builders.js';
import { stubGrammar } from './asr-test-support.js';

// Any Google auth lookup would go to the metadata server or a credentials file: point both at
// traps, so a lookup fails the test instead of hanging or reaching out.
const metadataHits: string[] = [];
const trap = net.createServer((socket) => {
  metadataHits.push('connection');
  socket.destroy();
});
await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
const trapAddress = trap.address() as net.AddressInfo;
process.env.GCE_METADATA_HOST = `127.0.0.1:${trapAddress.port}`;
process.env.GCE_METADATA_IP = `127.0.0.1:${trapAddress.port}`;
process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/opencx-test-credentials.json';
t.teardown(() => new Promise<void>((resolve) => trap.close(() => resolve())));

const RATE = 8000;

function options(over: Partial<AsrSessionOptions> = {}): AsrSessionOptions {
  return {
    grammars: [stubGrammar(citiesRuleSet())],
    language: 'en-US',
    sampleRate: RATE,
    completetimeoutMs: 300,
    incompletetimeoutMs: 1000,
    maxspeechtimeoutMs: 10_000,
    ...over,
  };
}

/** 20 ms frames: 200 ms silence, 600 ms of a loud tone (speech enough for the endpointer), 600 ms silence */
function utteranceFrames(): Int16Array[] {
  const frames: Int16Array[] = [];
  let n = 0;
  for (let f = 0; f < 70; f++) {
    const frame = new Int16Array(160);
    if (f >= 10 && f < 40) for (let i = 0; i < 160; i++, n++) frame[i] = Math.round(6000 * Math.sin((2 * Math.PI * 300 * n) / RATE));
    frames.push(frame);
  }
  return frames;
}

function outcome(session: AsrSession): Promise<{ result?: SpeechResult; error?: AsrError; speechStarted: boolean }> {
  let speechStarted = false;
  return new Promise((resolve) => {
    session
      .on('speechStart', () => (speechStarted = true))
      .on('result', (result) => resolve({ result, speechStarted }))
      .on('error', (error) => resolve({ error, speechStarted }));
  });
}

/** frames go out in real time-ish (20 ms apart) until the session is done */
async function feed(session: AsrSession, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  for (const f of utteranceFrames()) {
    if (finished) return;
    session.write(f);
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('transcript, confidence and n-best come back; the config carries the grammar phrases', async (t) => {
  const server = await GoogleSpeechServer.start({
    alternatives: [
      { transcript: 'san francisco', confidence: 0.87 },
      { transcript: 'sun francisco', confidence: 0.31 },
    ],
  });
  t.teardown(() => server.close());
  const provider = createAsrProvider({ provider: 'google', google: { apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 3000 } });
  t.teardown(() => provider.close());
  const session = provider.startSession(options({ maxnbest: 2 }));
  const done = outcome(session);
  await feed(session, done);
  const o = await done;
  t.notOk(o.error, o.error?.message ?? 'no error');
  t.same(o.result, {
    hypotheses: [
      { text: 'san francisco', confidence: 0.87 },
      { text: 'sun francisco', confidence: 0.31 },
    ],
  });
  t.ok(o.speechStarted, 'speechStart before the result');
  const recorded = server.streams[0];
  t.ok(recorded && recorded.audioBytes >= 3200, `audio reached the server (${recorded?.audioBytes} bytes)`);
  t.match(recorded?.config, {
    config: { encoding: 'LINEAR16', sampleRateHertz: RATE, languageCode: 'en-US', maxAlternatives: 2 },
    singleUtterance: true,
  });
  t.notOk(recorded?.config?.interimResults, 'no interim results');
  const contexts = (recorded?.config?.config as { speechContexts?: Array<{ phrases: string[] }> } | undefined)?.speechContexts;
  t.same(contexts?.[0]?.phrases, ['chicago', 'san francisco', 'new york', 'london', 'tokyo', 'yes', 'no', 'one two three']);
  t.same(metadataHits, [], 'nothing asked the metadata server');
});

t.test('maxnbest 1 keeps the best hypothesis only', async (t) => {
  const server = await GoogleSpeechServer.start({ alternatives: [{ transcript: 'tokyo', confidence: 0.95 }, { transcript: 'kyoto', confidence: 0.2 }] });
  t.teardown(() => server.close());
  const provider = new GoogleSpeechAsrProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 3000 });
  t.teardown(() => provider.close());
  const session = provider.startSession(options());
  const done = outcome(session);
  await feed(session, done);
  t.same((await done).result, { hypotheses: [{ text: 'tokyo', confidence: 0.95 }] });
});

t.test('server UNAVAILABLE → AsrError', async (t) => {
  const server = await GoogleSpeechServer.start({ behaviour: 'unavailable' });
  t.teardown(() => server.close());
  const provider = new GoogleSpeechAsrProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 3000 });
  t.teardown(() => provider.close());
  const session = provider.startSession(options());
  const done = outcome(session);
  await feed(session, done);
  const o = await done;
  t.ok(o.error instanceof AsrError, 'an AsrError');
  t.match(o.error?.message, /UNAVAILABLE/);
});

t.test('server hanging → AsrError after the timeout', async (t) => {
  const server = await GoogleSpeechServer.start({ behaviour: 'hang' });
  t.teardown(() => server.close());
  const provider = new GoogleSpeechAsrProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 400 });
  t.teardown(() => provider.close());
  const session = provider.startSession(options());
  const done = outcome(session);
  await feed(session, done);
  session.end();
  const o = await done;
  t.ok(o.error instanceof AsrError, 'an AsrError');
  t.match(o.error?.message, /no result within 400 ms/);
  t.ok(server.streams[0]?.halfClosed, 'the client stopped sending audio first');
});

t.test('nobody listening → AsrError', async (t) => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const provider = new GoogleSpeechAsrProvider({ apiEndpoint: '127.0.0.1', port, insecure: true, timeoutMs: 2000 });
  t.teardown(() => provider.close());
  const session = provider.startSession(options());
  const done = outcome(session);
  await feed(session, done);
  session.end();
  const o = await done;
  t.ok(o.error instanceof AsrError, `an AsrError (${o.error?.message})`);
});

t.test('close() cancels open streams; a closed provider refuses sessions', async (t) => {
  const server = await GoogleSpeechServer.start({ behaviour: 'hang' });
  t.teardown(() => server.close());
  const provider = new GoogleSpeechAsrProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 5000 });
  const session = provider.startSession(options());
  let events = 0;
  session.on('result', () => events++).on('error', () => events++);
  session.write(new Int16Array(160));
  for (let i = 0; i < 50 && server.streams.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(server.streams.length, 1, 'the stream reached the server');
  await provider.close();
  await provider.close();
  for (let i = 0; i < 50 && !server.streams[0]?.cancelled; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(server.streams[0]?.cancelled, 'the server saw the cancel');
  t.equal(events, 0, 'a closed session stays quiet');
  const late = await outcome(provider.startSession(options()));
  t.ok(late.error instanceof AsrError);
});
