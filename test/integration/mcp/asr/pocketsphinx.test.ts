import t from 'tap';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingLogger } from '../../../../src/lib/index.js';
import { AsrError, PocketsphinxAsrProvider, type AsrSession, type AsrSessionOptions } from '../../../../src/mcp/asr/index.js';
import type { SpeechResult } from '../../../../src/mcp/vxml/platform.js';
import { CITIES, alt, citiesRuleSet, ruleSet, tok } from '../../../unit/mcp/asr/rule-builders.js';
import { childPids, framed, requireTool, sleep, stubGrammar, synthesize } from './asr-test-support.js';

const RATE = 8000;
const BINARY = 'pocketsphinx_batch';

requireTool(BINARY, 'pocketsphinx');

const workDir = mkdtempSync(join(tmpdir(), 'opencx-asr-it-'));
t.teardown(() => rmSync(workDir, { recursive: true, force: true }));

function options(over: Partial<AsrSessionOptions> = {}): AsrSessionOptions {
  return {
    grammars: [stubGrammar(citiesRuleSet())],
    language: 'en-US',
    sampleRate: RATE,
    completetimeoutMs: 500,
    incompletetimeoutMs: 1000,
    maxspeechtimeoutMs: 10_000,
    ...over,
  };
}

function outcome(session: AsrSession): Promise<{ result?: SpeechResult; error?: AsrError; speechStarted: boolean; at: number }> {
  let speechStarted = false;
  return new Promise((resolve) => {
    session
      .on('speechStart', () => (speechStarted = true))
      .on('result', (result) => resolve({ result, speechStarted, at: performance.now() }))
      .on('error', (error) => resolve({ error, speechStarted, at: performance.now() }));
  });
}

/** real-time-ish: the lead silence goes in while the decoder warms up, the rest at once */
async function recognise(provider: PocketsphinxAsrProvider, speech: Int16Array, over: Partial<AsrSessionOptions> = {}, warmMs = 400) {
  const session = provider.startSession(options(over));
  const done = outcome(session);
  const frames = framed(speech, RATE, 500, 1000);
  const lead = 500 / 20;
  frames.slice(0, lead).forEach((f) => session.write(f));
  await sleep(warmMs);
  frames.slice(lead).forEach((f) => session.write(f));
  const wroteAt = performance.now();
  const o = await done;
  session.close();
  return { ...o, latencyMs: o.at - wroteAt };
}

t.test('recognises synthesised city names at 8 kHz, constrained by the grammar', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  let hits = 0;
  const latencies: number[] = [];
  for (const city of CITIES) {
    const r = await recognise(provider, synthesize(city, RATE));
    t.notOk(r.error, `no error for "${city}"`);
    t.ok(r.speechStarted, `speechStart for "${city}"`);
    const heard = r.result?.hypotheses[0]?.text;
    t.equal(heard, city, `"${city}" recognised`);
    if (heard === city) hits++;
    latencies.push(r.latencyMs);
  }
  latencies.sort((a, b) => a - b);
  t.comment(`pocketsphinx hit rate ${hits}/${CITIES.length}; end-of-audio → result latency median ${latencies[latencies.length >> 1]?.toFixed(0)} ms, max ${latencies[latencies.length - 1]?.toFixed(0)} ms`);
});

t.test('recognises over a -45 dBFS noise floor (about 22 dB SNR)', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648 - 0.5) * 2 * Math.pow(10, -45 / 20) * 32768 * Math.sqrt(3);
  };
  for (const city of ['new york', 'london', 'yes']) {
    const session = provider.startSession(options());
    const done = outcome(session);
    for (const f of framed(synthesize(city, RATE), RATE, 800, 1000)) session.write(f.map((v) => Math.max(-32768, Math.min(32767, Math.round(v + noise())))));
    t.equal((await done).result?.hypotheses[0]?.text, city, `"${city}" in noise`);
  }
});

t.test('cold start: audio arriving before the decoder is ready is still recognised', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  await provider.ready();
  const r = await recognise(provider, synthesize('london', RATE), {}, 0);
  t.equal(r.result?.hypotheses[0]?.text, 'london');
  t.comment(`cold (process spawn + model load + decode) latency ${r.latencyMs.toFixed(0)} ms`);
});

t.test('16 kHz input goes straight to the model', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  const session = provider.startSession(options({ sampleRate: 16000 }));
  const done = outcome(session);
  for (const f of framed(synthesize('tokyo', 16000), 16000, 500, 1000)) session.write(f);
  session.end();
  t.equal((await done).result?.hypotheses[0]?.text, 'tokyo', 'end() while the cut utterance is decoded waits for it');
});

t.test('end() during speech recognises what was heard', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  await provider.ready();
  const session = provider.startSession(options({ completetimeoutMs: 2000 }));
  const done = outcome(session);
  for (const f of framed(synthesize('london', RATE), RATE, 500, 100)) session.write(f);
  session.end();
  const o = await done;
  t.ok(o.speechStarted);
  t.equal(o.result?.hypotheses[0]?.text, 'london');
});

t.test('words missing from the dictionary are dropped and logged, the rest still works', async (t) => {
  const records = recordingLogger();
  const provider = new PocketsphinxAsrProvider({ workDir, logger: records });
  t.teardown(() => provider.close());
  const rules = ruleSet('r', { r: alt(tok('chicago'), tok('zzyzxville'), tok('london'), tok('qwxplorp city')) });
  const r = await recognise(provider, synthesize('chicago', RATE), { grammars: [stubGrammar(rules)] });
  t.equal(r.result?.hypotheses[0]?.text, 'chicago');
  const warn = records.records.find((x) => x.level === 'warn' && /missing from the pronouncing dictionary/.test(x.msg));
  t.ok(warn, 'logged');
  t.same((warn?.fields.words as string[] | undefined)?.sort(), ['qwxplorp', 'zzyzxville']);

  const none = ruleSet('r', { r: alt(tok('zzyzxville'), tok('qwxplorp')) });
  const empty = await recognise(provider, synthesize('chicago', RATE), { grammars: [stubGrammar(none)] });
  t.same(empty.result, { hypotheses: [] }, 'a grammar with no known word recognises nothing, without error');
});

t.test('several grammars are recognised through one alternation', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  const yesno = stubGrammar(ruleSet('yn', { yn: alt(tok('yes'), tok('no')) }), 'inline:yn');
  const cities = stubGrammar(ruleSet('c', { c: alt(tok('chicago'), tok('london'), tok('tokyo')) }), 'inline:c');
  const r = await recognise(provider, synthesize('tokyo', RATE), { grammars: [yesno, cities] });
  t.equal(r.result?.hypotheses[0]?.text, 'tokyo');
});

t.test('modelDir may name the acoustic model itself', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir, modelDir: '/usr/share/pocketsphinx/model/en-us/en-us' });
  t.teardown(() => provider.close());
  const r = await recognise(provider, synthesize('yes', RATE));
  t.equal(r.result?.hypotheses[0]?.text, 'yes');
});

t.test('no grammar with a rule tree: free-form recognition with the language model', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  const r = await recognise(provider, synthesize('hello world', RATE), { grammars: [] }, 1000);
  t.notOk(r.error, 'no error');
  t.ok(r.result, `a result (${JSON.stringify(r.result)}; free-form accuracy on synthetic phone audio is poor)`);
});

t.test('silence: an empty result on end(), or at noSpeechTimeout', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  t.teardown(() => provider.close());
  const s1 = provider.startSession(options());
  const d1 = outcome(s1);
  for (let i = 0; i < 50; i++) s1.write(new Int16Array(160));
  s1.end();
  t.same((await d1).result, { hypotheses: [] });
  const s2 = provider.startSession(options({ noSpeechTimeoutMs: 600 }));
  const d2 = outcome(s2);
  for (let i = 0; i < 50; i++) s2.write(new Int16Array(160));
  const o2 = await d2;
  t.same(o2.result, { hypotheses: [] });
  t.notOk(o2.speechStarted);
});

function fakeBinary(name: string, script: string): string {
  const path = join(workDir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

t.test('a missing binary is an AsrError', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir, binary: join(workDir, 'no-such-pocketsphinx') });
  t.teardown(() => provider.close());
  const o = await outcome(provider.startSession(options()));
  t.ok(o.error instanceof AsrError);
  t.match(o.error?.message, /not found/);
});

t.test('a decoder that dies is an AsrError, never a hang', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir, binary: fakeBinary('dies', 'echo "FATAL: model broken" >&2; exit 3') });
  t.teardown(() => provider.close());
  const session = provider.startSession(options());
  const done = outcome(session);
  for (const f of framed(synthesize('yes', RATE), RATE, 300, 800)) session.write(f);
  const o = await done;
  t.ok(o.error instanceof AsrError);
  t.match(o.error?.message, /exited \(code 3.*model broken/);
});

t.test('a decoder that hangs is an AsrError after decodeTimeoutMs, and is killed', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir, binary: fakeBinary('hangs', 'exec sleep 60'), decodeTimeoutMs: 400 });
  t.teardown(() => provider.close());
  await provider.ready();
  const session = provider.startSession(options());
  const done = outcome(session);
  await sleep(100);
  const pids = childPids('sleep');
  t.equal(pids.length, 1, 'the fake decoder runs');
  for (const f of framed(synthesize('yes', RATE), RATE, 300, 800)) session.write(f);
  const o = await done;
  t.ok(o.error instanceof AsrError);
  t.match(o.error?.message, /no hypothesis within 400 ms/);
  await provider.close();
  t.same(childPids('sleep'), [], 'killed and reaped');
});

t.test('close() kills every decoder and removes the work files', async (t) => {
  const provider = new PocketsphinxAsrProvider({ workDir });
  await provider.ready();
  const sessions = [provider.startSession(options()), provider.startSession(options())];
  sessions.forEach((s) => s.write(new Int16Array(160)));
  await sleep(300);
  t.equal(childPids(BINARY).length, 2, 'one warm decoder per session');
  await provider.close();
  await provider.close();
  t.same(childPids(BINARY), [], 'no decoder left');
  t.same(readdirSync(workDir).filter((d) => d.startsWith('opencx-asr-')), [], 'no work directory left');
  const late = await outcome(provider.startSession(options()));
  t.ok(late.error instanceof AsrError, 'a closed provider refuses new sessions');
});

t.test('nothing left running', async (t) => {
  t.same(childPids(BINARY), []);
});
