import t from 'tap';
import { runSession, vxml } from './fakes.js';

const nomatchForm = (catches: string, docCatches = '') =>
  vxml(`${docCatches}<form>
    <field name="f" type="digits?length=2">
      <prompt count="1">first</prompt><prompt count="2">second</prompt><prompt count="3">third</prompt>
      ${catches}
    </field>
    <block><prompt>value <value expr="f"/></prompt></block>
  </form>`);

t.test('catch count selection: the highest count not above the event counter', async (t) => {
  const { platform } = await runSession(
    {
      'main.vxml': nomatchForm(`<nomatch>nm1 <reprompt/></nomatch><nomatch count="3">nm3 <reprompt/></nomatch>`),
    },
    [{ dtmf: '1*' }, { dtmf: '1*' }, { dtmf: '1*' }, { dtmf: '42' }],
  );
  t.same(platform.prompts, ['first', 'nm1', 'second', 'nm1', 'third', 'nm3', 'third', 'value 42']);
});

t.test('without <reprompt> the next collection plays no prompt; default nomatch/noinput handlers reprompt', async (t) => {
  const { platform } = await runSession(
    { 'main.vxml': nomatchForm(`<noinput>quiet</noinput>`) },
    ['silence', 'silence', { dtmf: '1*' }, { dtmf: '55' }],
  );
  t.same(platform.prompts, ['first', 'quiet', 'quiet', 'third', 'value 55']);
});

t.test('bubbling: form item, form, document, application root; prefix matching on whole tokens', async (t) => {
  const files = {
    'root.vxml': vxml(`<catch event="error.badfetch"><prompt>root <value expr="_event"/></prompt><exit/></catch>`),
    'main.vxml': vxml(
      `<catch event="err"><prompt>wrong: token prefix</prompt></catch>
       <form>
         <catch event="error.semantic"><prompt>form <value expr="_message"/></prompt></catch>
         <block><throw event="error.semantic" message="m1"/></block>
         <block><throw eventexpr="'error.badfetch.http.404'"/></block>
       </form>`,
      'application="root.vxml"',
    ),
  };
  const { platform, result } = await runSession(files);
  t.same(platform.prompts, ['form m1', 'root error.badfetch.http.404']);
  t.equal(result.reason, 'exit');
});

t.test('an event thrown in a handler is handled; cond filters catches; uncaught errors end the session', async (t) => {
  const { platform, result } = await runSession({
    'main.vxml': vxml(`
      <catch event="a"><prompt>a</prompt><throw event="b"/></catch>
      <catch event="b" cond="false"><prompt>never</prompt></catch>
      <catch event="b"><prompt>b</prompt><throw event="error.custom" message="boom"/></catch>
      <form><block><throw event="a"/></block></form>`),
  });
  t.same(platform.prompts, ['a', 'b']);
  t.equal(result.reason, 'error');
  t.equal(result.event, 'error.custom');
  t.equal(result.message, 'boom');
});

t.test('the hangup event runs its handler, then the session ends without more input', async (t) => {
  const { platform, result } = await runSession(
    {
      'main.vxml': vxml(`<form>
        <catch event="connection.disconnect.hangup"><log>bye</log></catch>
        <field name="f" type="digits"><prompt>number?</prompt></field>
      </form>`),
    },
    ['hangup'],
  );
  t.same(platform.logs, ['bye']);
  t.equal(result.reason, 'hangup');
});

t.test('error.semantic for an assignment to an undeclared variable, with _message', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<catch event="error.semantic"><prompt>semantic</prompt><exit/></catch><form><block><assign name="undeclared" expr="1"/></block></form>`),
  });
  t.same(platform.prompts, ['semantic']);
});

t.test('<link>: a document link throws its event; a form link goes to its target', async (t) => {
  const { platform } = await runSession(
    {
      'main.vxml': vxml(`
        <link event="operator" dtmf="0"/>
        <catch event="operator"><prompt>operator</prompt></catch>
        <form><link next="#other" dtmf="9"/>
          <field name="f" type="digits?length=2"><prompt>digits?</prompt></field></form>
        <form id="other"><block>other</block></form>`),
    },
    [{ dtmf: '0' }, { dtmf: '9' }],
  );
  t.same(platform.prompts, ['digits?', 'operator', 'other']);
});

t.test('universals: "help" throws help; the default help handler reprompts', async (t) => {
  const { platform } = await runSession(
    {
      'main.vxml': vxml(`<property name="universals" value="all"/>
        <form><field name="f" type="boolean"><prompt>yes or no?</prompt></field><block><prompt>answer <value expr="f"/></prompt></block></form>`),
    },
    [{ say: 'help' }, { say: 'yes' }],
  );
  t.same(platform.prompts, ['yes or no?', 'yes or no?', 'answer true']);
});
