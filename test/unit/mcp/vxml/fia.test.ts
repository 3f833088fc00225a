import t from 'tap';
import { runSession, vxml } from './fakes.js';

t.test('blocks run in order; goto nextitem, #dialog and another document; exit with a namelist', async (t) => {
  const { result, platform } = await runSession({
    'main.vxml': vxml(`
      <var name="trail" expr="''"/>
      <form id="a">
        <block><assign name="trail" expr="trail + 'a'"/><goto nextitem="c"/></block>
        <block name="b"><assign name="trail" expr="trail + 'SKIPPED'"/></block>
        <block name="c"><assign name="trail" expr="trail + 'c'"/><goto next="#d"/></block>
      </form>
      <form id="d"><block>Hello <value expr="trail"/>.<goto next="next.vxml"/></block></form>`),
    'next.vxml': vxml(`<form><var name="code" expr="7"/><block><if cond="code == 7"><exit namelist="code"/></if><exit expr="'wrong'"/></block></form>`),
  });
  t.same(platform.prompts, ['Hello ac.']);
  t.equal(result.reason, 'exit');
  t.equal(result.exitValue, undefined);
  t.same(result.namelist, { code: 7 });
});

t.test('if/elseif/else, var scopes and clear re-visit a block', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`
      <var name="n" expr="0"/>
      <form>
        <block name="loop">
          <assign name="n" expr="n + 1"/>
          <if cond="n == 1"><prompt>one</prompt><clear namelist="loop"/>
          <elseif cond="n == 2"/><prompt>two</prompt><clear namelist="loop"/>
          <else/><prompt>many</prompt>
          </if>
        </block>
      </form>`),
  });
  t.same(platform.prompts, ['one', 'two', 'many']);
});

t.test('the application root: variables survive leaf transitions and are reset for another application', async (t) => {
  const { platform } = await runSession({
    'root.vxml': vxml(`<var name="visits" expr="0"/><catch event="done"><prompt>root caught <value expr="application.visits"/></prompt><exit/></catch>`),
    'main.vxml': vxml(`<form><block><assign name="application.visits" expr="visits + 1"/><goto next="leaf2.vxml"/></block></form>`, 'application="root.vxml"'),
    'leaf2.vxml': vxml(`<form><block><assign name="visits" expr="visits + 1"/><throw event="done"/></block></form>`, 'application="root.vxml"'),
  });
  t.same(platform.prompts, ['root caught 2']);
});

t.test('a field fills from DTMF, runs <filled>, sets shadow variables and application.lastresult$', async (t) => {
  const { platform, result } = await runSession(
    {
      'main.vxml': vxml(`<form>
        <field name="pin" type="digits?length=3">
          <prompt>Your pin?</prompt>
          <filled><prompt>Got <value expr="pin"/> by <value expr="pin$.inputmode"/>, <value expr="application.lastresult$[0].utterance"/>.</prompt></filled>
        </field>
      </form>`),
    },
    [{ dtmf: '123' }],
  );
  t.same(platform.prompts, ['Your pin?', 'Got 123 by dtmf, 123.']);
  t.equal(result.reason, 'exit');
});

t.test('menu with dtmf auto-numbering and enumerate', async (t) => {
  const { platform } = await runSession(
    {
      'main.vxml': vxml(`<menu dtmf="true"><prompt>Choose: <enumerate><value expr="_dtmf"/> for <value expr="_prompt"/>,</enumerate></prompt>
        <choice next="#sales">sales</choice><choice next="#support">support</choice></menu>
        <form id="sales"><block>sales</block></form><form id="support"><block>support</block></form>`),
    },
    [{ dtmf: '2' }],
  );
  t.same(platform.prompts, ['Choose: 1 for sales, 2 for support,', 'support']);
});

t.test('mixed initiative: a form grammar fills several fields by slot', async (t) => {
  const { platform } = await runSession(
    {
      'main.vxml': vxml(`<form>
        <grammar mode="voice" root="r" tag-format="semantics/1.0"><rule id="r"><item>from</item><ruleref uri="#city"/><tag>out.from = rules.city;</tag><item>to</item><ruleref uri="#city"/><tag>out.to = rules.city;</tag></rule>
          <rule id="city"><one-of><item>paris</item><item>rome</item></one-of></rule></grammar>
        <initial name="start"><prompt>Where?</prompt></initial>
        <field name="from"><prompt>From?</prompt></field>
        <field name="to"><prompt>To?</prompt></field>
        <filled mode="all"><prompt><value expr="from + '-' + to"/></prompt></filled>
      </form>`),
    },
    [{ say: 'from paris to rome' }],
  );
  t.same(platform.prompts, ['Where?', 'paris-rome']);
});

t.test('an error in document initialisation is caught by the document; its handler may leave', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<catch event="error.semantic"><goto next="other.vxml"/></catch><var name="x" expr="nosuchvar.y"/><form><block>never</block></form>`),
    'other.vxml': vxml(`<form><block>other</block></form>`, 'xml:base="http://test.local/app/"'),
  });
  t.same(platform.prompts, ['other']);
});

t.test('field cond and expr: a field with a value is skipped; <clear> makes it collect', async (t) => {
  const { platform } = await runSession(
    {
      'main.vxml': vxml(`<form>
        <field name="f" expr="'preset'" type="digits"><prompt>never asked</prompt></field>
        <field name="g" cond="false" type="digits"><prompt>never asked either</prompt></field>
        <block name="b"><prompt><value expr="f"/></prompt><if cond="f == 'preset'"><clear namelist="f b"/></if></block>
      </form>`),
    },
    [{ dtmf: '7#' }],
  );
  t.same(platform.prompts, ['preset', 'never asked', '7']);
});

t.test('a document-scoped menu answers from another dialog', async (t) => {
  const { platform } = await runSession(
    {
      'main.vxml': vxml(`<menu id="main" scope="document"><choice dtmf="0" next="#operator">operator</choice></menu>
        <form id="ask"><field name="n" type="digits?length=2"><prompt>digits?</prompt></field></form>
        <form id="operator"><block>operator</block></form>`),
      'start.vxml': vxml(`<form><block><goto next="main.vxml#ask"/></block></form>`),
    },
    [{ dtmf: '0' }],
    { start: 'start.vxml' },
  );
  t.same(platform.prompts, ['digits?', 'operator']);
});
