import t from 'tap';
import { FakePlatform, runSession, vxml } from './fakes.js';

t.test('record: the value is an audio reference; shadow variables duration, size, termchar, maxtime', async (t) => {
  const platform = new FakePlatform();
  const { result } = await runSession(
    {
      'main.vxml': vxml(`<form><record name="msg" beep="true" maxtime="10s" finalsilence="2s" dtmfterm="true"><prompt>speak</prompt>
        <filled><exit namelist="msg$"/></filled></record></form>`),
    },
    [],
    { platform },
  );
  t.same(result.namelist, { msg$: { duration: 2500, size: 800, termchar: '#', maxtime: false } });
  t.equal(platform.records[0]?.beep, true);
  t.equal(platform.records[0]?.maxtimeMs, 10_000);
  t.equal(platform.records[0]?.finalsilenceMs, 2000);
  t.same(platform.records[0]?.prompts.map((p) => p.text), ['speak']);
});

t.test('record with no audio is noinput', async (t) => {
  const platform = new FakePlatform();
  platform.recordResult = { audio: Buffer.alloc(0), type: 'audio/x-wav', durationMs: 0, maxtime: false, hangup: false };
  const { platform: p } = await runSession(
    { 'main.vxml': vxml(`<form><record name="msg"><noinput><prompt>nothing</prompt><exit/></noinput></record></form>`) },
    [],
    { platform },
  );
  t.same(p.prompts, ['nothing']);
});

t.test('bridge transfer: the outcome fills the item and name$.duration', async (t) => {
  const platform = new FakePlatform();
  const { result } = await runSession(
    {
      'main.vxml': vxml(`<form><transfer name="x" type="bridge" destexpr="'tel:+15551234'" connecttimeout="20s" aai="hello">
        <filled><exit namelist="x x$"/></filled></transfer></form>`),
    },
    [],
    { platform },
  );
  t.same(result.namelist, { x: 'far_end_disconnect', x$: { duration: 12 } });
  t.equal(platform.transfers[0]?.dest, 'tel:+15551234');
  t.equal(platform.transfers[0]?.connecttimeoutMs, 20_000);
  t.equal(platform.transfers[0]?.aai, 'hello');
});

t.test('blind transfer ends with connection.disconnect.transfer; unsupported transfers are error.unsupported.transfer.*', async (t) => {
  const platform = new FakePlatform();
  platform.transferResult = { outcome: 'transferred', durationMs: 0 };
  const blind = await runSession({ 'main.vxml': vxml(`<form><transfer name="x" dest="sip:bob@example.com"/></form>`) }, [], { platform });
  t.equal(blind.result.event, 'connection.disconnect.transfer');
  t.equal(blind.result.reason, 'transferred');
  const none = new FakePlatform();
  none.transferResult = { outcome: 'unknown', durationMs: 0, unsupported: 'no trunk' };
  const r = await runSession({ 'main.vxml': vxml(`<form><transfer name="x" type="consultation" dest="sip:bob@example.com"/></form>`) }, [], { platform: none });
  t.equal(r.result.event, 'error.unsupported.transfer.consultation');
});

t.test('<object> is error.unsupported.objecttype', async (t) => {
  const { result } = await runSession({ 'main.vxml': vxml(`<form><object name="o" classid="x"/></form>`) });
  t.equal(result.event, 'error.unsupported.objecttype');
});
