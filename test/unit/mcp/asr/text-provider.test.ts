import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { AsrError, TextAsrProvider, createAsrProvider, type AsrSessionOptions } from '../../../../src/mcp/asr/index.js';
import type { SpeechResult } from '../../../../src/mcp/vxml/platform.js';

const OPTIONS: AsrSessionOptions = {
  grammars: [],
  language: 'en-US',
  sampleRate: 8000,
  completetimeoutMs: 500,
  incompletetimeoutMs: 1000,
  maxspeechtimeoutMs: 10_000,
};

function record(session: ReturnType<TextAsrProvider['startSession']>) {
  const seen: string[] = [];
  const results: SpeechResult[] = [];
  const errors: AsrError[] = [];
  session
    .on('speechStart', () => seen.push('speechStart'))
    .on('result', (r) => {
      seen.push('result');
      results.push(r);
    })
    .on('error', (e) => {
      seen.push('error');
      errors.push(e);
    });
  return { seen, results, errors };
}

t.test('say() emits speechStart then the result, once', async (t) => {
  const provider = new TextAsrProvider();
  const session = provider.startSession(OPTIONS);
  const r = record(session);
  session.write(new Int16Array(160));
  t.equal(provider.activeSession, session);
  session.say('chicago', 0.8);
  session.say('london');
  t.same(r.seen, ['speechStart', 'result']);
  t.same(r.results, [{ hypotheses: [{ text: 'chicago', confidence: 0.8 }] }]);
  t.equal(provider.activeSession, undefined, 'a finished session is released');
  session.close();
  session.close();
});

t.test('a script answers each new session in turn', async (t) => {
  const scheduler = new FakeScheduler();
  const provider = new TextAsrProvider({
    scheduler,
    script: ['yes', { text: 'no', confidence: 0.4 }, { hypotheses: [{ text: 'a', confidence: 0.9 }, { text: 'b', confidence: 0.5 }] }, { error: 'engine down' }],
  });
  const first = record(provider.startSession(OPTIONS));
  t.same(first.seen, [], 'nothing before the listeners could be attached');
  scheduler.runAll();
  t.same(first.results, [{ hypotheses: [{ text: 'yes', confidence: 1 }] }]);
  const second = record(provider.startSession(OPTIONS));
  scheduler.runAll();
  t.same(second.results, [{ hypotheses: [{ text: 'no', confidence: 0.4 }] }]);
  const third = record(provider.startSession({ ...OPTIONS, maxnbest: 2 }));
  scheduler.runAll();
  t.same(third.results[0]?.hypotheses.length, 2, 'n-best kept up to maxnbest');
  const fourth = record(provider.startSession(OPTIONS));
  scheduler.runAll();
  t.same(fourth.seen, ['error']);
  t.ok(fourth.errors[0] instanceof AsrError);
  const fifth = record(provider.startSession(OPTIONS));
  scheduler.runAll();
  t.same(fifth.seen, [], 'script used up: waits for say()');
  await provider.close();
  t.equal(scheduler.pending, 0);
});

t.test('end() with nothing said gives an empty result; closed sessions stay quiet', async (t) => {
  const provider = createAsrProvider({ provider: 'text' });
  t.equal(provider.name, 'text');
  const session = provider.startSession(OPTIONS) as ReturnType<TextAsrProvider['startSession']>;
  const r = record(session);
  session.end();
  t.same(r.results, [{ hypotheses: [] }]);
  t.same(r.seen, ['result'], 'no speechStart for silence');
  const other = provider.startSession(OPTIONS) as ReturnType<TextAsrProvider['startSession']>;
  const o = record(other);
  other.close();
  other.say('too late');
  t.same(o.seen, []);
  await provider.close();
});

t.test('a listener that throws does not break the session', async (t) => {
  const provider = new TextAsrProvider();
  const session = provider.startSession(OPTIONS);
  const results: SpeechResult[] = [];
  session.on('speechStart', () => {
    throw new Error('listener bug');
  });
  session.on('result', (r) => results.push(r));
  session.say('tokyo');
  t.equal(results.length, 1);
});

t.test('createAsrProvider validates', async (t) => {
  t.throws(() => createAsrProvider({ provider: 'nope' as 'text' }), { name: 'ConfigError', key: 'asr.provider' });
  t.throws(() => createAsrProvider({ provider: 'google', google: { timeoutMs: 0 } }), { name: 'ConfigError', key: 'asr.google.timeoutMs' });
  t.throws(() => createAsrProvider({ provider: 'google', google: { port: 70000 } }), { name: 'ConfigError', key: 'asr.google.port' });
  const ps = createAsrProvider({ provider: 'pocketsphinx', pocketsphinx: { binary: '/nonexistent' } });
  t.equal(ps.name, 'pocketsphinx');
  await ps.close();
});
