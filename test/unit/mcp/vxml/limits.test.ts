import t from 'tap';
import { runSession, vxml } from './fakes.js';

const limits = { scriptTimeMs: 200, scriptMemoryBytes: 16 * 1024 * 1024 };

t.test('an infinite loop, unbounded allocation and a non-XML document each end their session while another keeps running', async (t) => {
  const looping = runSession({ 'main.vxml': vxml(`<form><block><script>while (true) {}</script></block></form>`) }, [], { limits });
  const allocating = runSession({ 'main.vxml': vxml(`<form><block><script>var a=[];while(true)a.push(new Array(1e6))</script></block></form>`) }, [], { limits });
  const notXml = runSession({ 'main.vxml': '<vxml><form><block>unclosed</vxml>' });
  const healthy = runSession({ 'main.vxml': vxml(`<form><field name="n" type="digits?length=1"><prompt>digit?</prompt></field><block><prompt>got <value expr="n"/></prompt></block></form>`) }, [{ dtmf: '5' }]);
  const [a, b, c, d] = await Promise.all([looping, allocating, notXml, healthy]);
  t.equal(a.result.reason, 'error');
  t.equal(a.result.event, 'error.semantic');
  t.match(a.result.message, /script time limit exceeded/);
  t.equal(b.result.event, 'error.semantic');
  t.match(b.result.message, /script (memory|time) limit exceeded/);
  t.equal(c.result.reason, 'error');
  t.equal(c.result.event, 'error.badfetch');
  t.same(d.platform.prompts, ['digit?', 'got 5']);
  t.equal(d.result.reason, 'exit');
});

t.test('a handler may run after a limit, but a second limit in the session ends it', async (t) => {
  const { result, platform } = await runSession(
    {
      'main.vxml': vxml(`<catch event="error.semantic"><prompt><value expr="_message"/></prompt><script>while (true) {}</script></catch>
        <form><block><script>var a = []; while (true) a.push(new Array(1e6))</script></block></form>`),
    },
    [],
    { limits },
  );
  t.match(platform.prompts[0], /limit exceeded/);
  t.equal(result.reason, 'error');
  t.match(result.message, /limit exceeded/);
});

t.test('a document that is not XML, or not VoiceXML, is error.badfetch', async (t) => {
  const notXml = await runSession({ 'main.vxml': '<vxml><form><block>unclosed</vxml>' });
  t.equal(notXml.result.reason, 'error');
  t.equal(notXml.result.event, 'error.badfetch');
  const html = await runSession({ 'main.vxml': '<html><body>hello</body></html>' });
  t.equal(html.result.event, 'error.badfetch');
  const caught = await runSession({
    'main.vxml': vxml(`<form><catch event="error.badfetch"><prompt>bad next</prompt><exit/></catch><block><goto next="bad.vxml"/></block></form>`),
    'bad.vxml': 'this is not < xml',
  });
  t.same(caught.platform.prompts, ['bad next']);
});

t.test('a goto loop ends with error.semantic after too many transitions without input', async (t) => {
  const { result } = await runSession({ 'main.vxml': vxml(`<form id="a"><block><goto next="#a"/></block></form>`) }, [], { limits: { maxTransitions: 500 } });
  t.equal(result.event, 'error.semantic');
  t.match(result.message, /too many transitions/);
});
