import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/clock.js';
import { VoiceXmlSession } from '../../../../src/mcp/vxml/index.js';
import type { SessionResult } from '../../../../src/mcp/vxml/index.js';
import { BASE, FakePlatform, MemoryFetcher, settle, until, vxml } from './fakes.js';

/** a session driven by hand: the test presses keys and moves fake time */
/** lets held playback finish until the session ends */
async function drain(platform: FakePlatform, running: Promise<SessionResult>): Promise<SessionResult> {
  let done = false;
  void running.finally(() => {
    done = true;
  });
  await until(() => {
    platform.finishPlayback();
    return done;
  });
  return running;
}

async function manual(doc: string, hold = false) {
  const platform = new FakePlatform();
  platform.holdPlayback = hold;
  const scheduler = new FakeScheduler();
  const session = new VoiceXmlSession({ platform, fetcher: new MemoryFetcher({ 'main.vxml': doc }), scheduler });
  let done = false;
  const running = session.run(`${BASE}main.vxml`).finally(() => {
    done = true;
  });
  await until(() => done || platform.prompts.length > 0);
  return { platform, scheduler, running, session };
}

const digitsDoc = (props = '') =>
  vxml(`<form>${props}
    <field name="n" type="digits?minlength=1;maxlength=4"><prompt>number?</prompt>
      <noinput><prompt>noinput</prompt><exit/></noinput>
      <filled><prompt>got <value expr="n"/></prompt><exit/></filled></field></form>`);

t.test('interdigittimeout ends a variable-length DTMF entry with what was typed', async (t) => {
  const { platform, scheduler, running } = await manual(digitsDoc('<property name="interdigittimeout" value="2s"/>'));
  t.same(platform.prompts, ['number?']);
  platform.listener.dtmf?.('1');
  platform.listener.dtmf?.('2');
  await settle();
  scheduler.advance(1900);
  await settle();
  t.same(platform.prompts, ['number?'], 'still waiting before the interdigit timeout');
  scheduler.advance(200);
  await settle();
  await running;
  t.same(platform.prompts, ['number?', 'got 12']);
});

t.test('the termchar ends the entry at once and is not part of it', async (t) => {
  const { platform, running } = await manual(digitsDoc());
  for (const k of '73#') platform.listener.dtmf?.(k);
  await settle();
  await running;
  t.same(platform.prompts, ['number?', 'got 73']);
});

t.test('a complete entry that cannot grow ends without waiting', async (t) => {
  const { platform, running } = await manual(digitsDoc());
  for (const k of '1234') platform.listener.dtmf?.(k);
  await settle();
  await running;
  t.same(platform.prompts, ['number?', 'got 1234']);
});

t.test('noinput fires after the timeout property (or the prompt timeout attribute)', async (t) => {
  const { platform, scheduler, running } = await manual(
    vxml(`<form><property name="timeout" value="3s"/><field name="n" type="digits"><prompt timeout="8s">number?</prompt>
      <noinput><prompt>noinput</prompt><exit/></noinput></field></form>`),
  );
  scheduler.advance(7000);
  await settle();
  t.same(platform.prompts, ['number?'], 'the prompt timeout (8 s) replaces the property (3 s)');
  scheduler.advance(1100);
  await settle();
  await running;
  t.same(platform.prompts, ['number?', 'noinput']);
});

t.test('speech: hypotheses below confidencelevel are a nomatch', async (t) => {
  const { platform, running } = await manual(
    vxml(`<form><property name="confidencelevel" value="0.95"/><field name="yes" type="boolean"><prompt>ok?</prompt>
      <nomatch><prompt>nomatch</prompt><exit/></nomatch></field></form>`),
  );
  platform.listener.speech?.({ hypotheses: [{ text: 'yes', confidence: 0.9 }] });
  await settle();
  await running;
  t.same(platform.prompts, ['ok?', 'nomatch']);
});

t.test('session.connection and the SSML of prompts', async (t) => {
  const { platform, running } = await manual(
    vxml(`<form><block><prompt>From <value expr="session.connection.remote.uri"/> <break time="1s"/><audio src="beep.wav">beep</audio></prompt></block></form>`),
  );
  await running;
  t.same(platform.prompts, ['From sip:alice@example.com beep']);
  t.match(platform.ssml[0], /<speak [^>]*>From sip:alice@example\.com <break time="1s"\/><audio src="http:\/\/test\.local\/app\/beep\.wav">beep<\/audio><\/speak>/);
});

t.test('close() while waiting for input ends the run; close is idempotent', async (t) => {
  const { platform, running, session } = await manual(digitsDoc());
  t.same(platform.prompts, ['number?']);
  session.close();
  session.close();
  const result = await running;
  t.equal(result.reason, 'hangup');
});

t.test('maxnbest: application.lastresult$ holds the matching hypotheses, the field the best', async (t) => {
  const { platform, running } = await manual(
    vxml(`<form><property name="maxnbest" value="3"/><field name="yes" type="boolean"><prompt>ok?</prompt>
      <filled><prompt><value expr="yes"/> <value expr="application.lastresult$.length"/> <value expr="application.lastresult$[1].utterance"/> <value expr="application.lastresult$.utterance"/></prompt></filled></field></form>`),
  );
  platform.listener.speech?.({ hypotheses: [{ text: 'no', confidence: 0.8 }, { text: 'mumble', confidence: 0.7 }, { text: 'yes', confidence: 0.6 }] });
  await settle();
  await running;
  t.same(platform.prompts, ['ok?', 'false 2 yes no']);
});

t.test('speech that starts but never ends is maxspeechtimeout', async (t) => {
  const { platform, scheduler, running } = await manual(
    vxml(`<form><property name="maxspeechtimeout" value="10s"/><field name="yes" type="boolean"><prompt>ok?</prompt>
      <catch event="maxspeechtimeout"><prompt>too long</prompt><exit/></catch></field></form>`),
  );
  platform.listener.speechStart?.();
  scheduler.advance(9000);
  await settle();
  t.same(platform.prompts, ['ok?'], 'the noinput timeout (5 s) no longer applies');
  scheduler.advance(1500);
  await settle();
  await running;
  t.same(platform.prompts, ['ok?', 'too long']);
});

t.test('barge-in: DTMF stops an interruptible prompt; input during a bargein="false" prompt is dropped', async (t) => {
  const open = await manual(digitsDoc(), true);
  open.platform.listener.dtmf?.('1');
  open.platform.listener.dtmf?.('#');
  await settle();
  await drain(open.platform, open.running);
  t.equal(open.platform.stops, 1, 'the prompt was stopped');
  t.same(open.platform.prompts, ['number?', 'got 1']);

  const closed = await manual(
    vxml(`<form><field name="n" type="digits?length=1"><prompt bargein="false">listen first</prompt>
      <filled><prompt>got <value expr="n"/></prompt><exit/></filled></field></form>`),
    true,
  );
  closed.platform.listener.dtmf?.('1');
  await settle();
  closed.platform.finishPlayback();
  await settle();
  closed.platform.listener.dtmf?.('2');
  await settle();
  await drain(closed.platform, closed.running);
  t.equal(closed.platform.stops, 0);
  t.same(closed.platform.prompts, ['listen first', 'got 2'], 'the key pressed during the prompt is not input');
});

t.test('hotword barge-in: speech that matches nothing neither stops the prompt nor is a nomatch', async (t) => {
  const { platform, running } = await manual(
    vxml(`<form><field name="yes" type="boolean"><prompt bargeintype="hotword">long announcement</prompt>
      <nomatch><prompt>nomatch</prompt><exit/></nomatch>
      <filled><prompt>got <value expr="yes"/></prompt><exit/></filled></field></form>`),
    true,
  );
  platform.listener.speechStart?.();
  platform.listener.speech?.({ hypotheses: [{ text: 'hello there', confidence: 0.9 }] });
  await settle();
  t.equal(platform.stops, 0);
  platform.listener.speechStart?.();
  platform.listener.speech?.({ hypotheses: [{ text: 'yes', confidence: 0.9 }] });
  await settle();
  await drain(platform, running);
  t.same(platform.prompts, ['long announcement', 'got true']);
});
