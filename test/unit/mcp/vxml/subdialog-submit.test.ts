import t from 'tap';
import { runSession, vxml } from './fakes.js';

t.test('subdialog: params into its vars, namelist return into the field as an object, then <filled>', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<var name="who" expr="'ann'"/><form>
      <subdialog name="r" src="sub.vxml" namelist="who"><param name="n" expr="20 + 1"/>
        <filled><prompt><value expr="r.greeting"/> <value expr="r.twice"/></prompt></filled></subdialog>
      <block><prompt>caller scope kept: <value expr="who"/></prompt></block>
    </form>`),
    'sub.vxml': vxml(`<var name="who" expr="'overwritten?'"/><form>
      <var name="n"/><var name="who"/>
      <block><var name="greeting" expr="'hi ' + who"/><var name="twice" expr="n * 2"/><return namelist="greeting twice"/></block>
    </form>`),
  });
  t.same(platform.prompts, ['hi ann 42', 'caller scope kept: ann']);
});

t.test('subdialog returning an event throws it in the caller', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<form><catch event="sub.failed"><prompt>caught <value expr="_message"/></prompt><exit/></catch>
      <subdialog name="r" src="#inner"/></form>
      <form id="inner"><block><return event="sub.failed" message="why"/></block></form>`),
  });
  t.same(platform.prompts, ['caught why']);
});

t.test('submit GET encodes the namelist in the query; the response is the next document', async (t) => {
  const { platform, fetcher } = await runSession({
    'main.vxml': vxml(`<form><var name="a" expr="'x y'"/><var name="b" expr="2"/>
      <block><submit next="handler.vxml" namelist="a b"/></block></form>`),
    'handler.vxml': vxml(`<form><block>thanks</block></form>`),
  });
  t.same(platform.prompts, ['thanks']);
  t.equal(fetcher.requests[1]?.url, 'http://test.local/app/handler.vxml?a=x+y&b=2');
});

t.test('submit POST multipart sends a recording as a file part', async (t) => {
  const { fetcher } = await runSession({
    'main.vxml': vxml(`<form><record name="msg"/><block><submit next="save.vxml" method="post" enctype="multipart/form-data" namelist="msg"/></block></form>`),
    'save.vxml': vxml(`<form><block>saved</block></form>`),
  });
  const req = fetcher.requests[1];
  t.equal(req?.method, 'POST');
  t.equal(req?.body?.kind, 'multipart');
  const part = req?.body?.kind === 'multipart' ? req.body.parts[0] : undefined;
  t.ok(part !== undefined && 'data' in part && part.data.byteLength === 800, 'the recording bytes');
  t.equal(part !== undefined && 'contentType' in part ? part.contentType : '', 'audio/x-wav');
});

t.test('submit POST urlencoded', async (t) => {
  const { fetcher } = await runSession({
    'main.vxml': vxml(`<form><var name="a" expr="'1'"/><block><submit next="save.vxml" method="post" namelist="a"/></block></form>`),
    'save.vxml': vxml(`<form><block>saved</block></form>`),
  });
  t.same(fetcher.requests[1]?.body, { kind: 'urlencoded', fields: [['a', '1']] });
});

t.test('a missing document is error.badfetch.http.404 in the dialog that asked', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<form><catch event="error.badfetch.http.404"><prompt>missing</prompt><exit/></catch><block><goto next="nowhere.vxml"/></block></form>`),
  });
  t.same(platform.prompts, ['missing']);
});

t.test('<data> exposes a read-only DOM; <foreach> iterates arrays', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<form><block>
      <data name="d" src="quote.xml"/>
      <var name="items" expr="['a', 'b']"/>
      <foreach item="i" array="items"><prompt><value expr="i"/></prompt></foreach>
      <prompt><value expr="d.documentElement.getAttribute('sym') + ' ' + d.getElementsByTagName('price').item(0).firstChild.nodeValue"/></prompt>
    </block></form>`),
    'quote.xml': '<quote sym="ABC"><price>42</price></quote>',
  });
  t.same(platform.prompts, ['a', 'b', 'ABC 42']);
});

t.test('goto to a missing dialog and <return> outside a subdialog are caught where they happen', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<form>
      <catch event="error.badfetch"><prompt>badfetch</prompt></catch>
      <catch event="error.semantic"><prompt>semantic</prompt><exit/></catch>
      <block><goto next="#nowhere"/></block>
      <block><return/></block>
    </form>`),
  });
  t.same(platform.prompts, ['badfetch', 'semantic']);
});

t.test('submit without namelist sends the named input items; objects go as name.prop', async (t) => {
  const { fetcher } = await runSession(
    {
      'main.vxml': vxml(`<form><field name="n" type="digits?length=1"><prompt>n?</prompt></field>
        <block name="b"><var name="notsent" expr="1"/><submit next="a.vxml"/></block></form>
        <form id="o"><block><var name="o" expr="({x: 1, y: {z: 'w'}})"/><submit next="b.vxml" namelist="o"/></block></form>`),
      'a.vxml': vxml(`<form><block><goto next="main.vxml#o"/></block></form>`),
      'b.vxml': vxml(`<form><block><exit/></block></form>`),
    },
    [{ dtmf: '4' }, 'hangup'],
  );
  const urls = fetcher.requests.map((r) => r.url);
  t.equal(urls[1], 'http://test.local/app/a.vxml?n=4');
  t.equal(urls[3], 'http://test.local/app/b.vxml?o.x=1&o.y.z=w');
  t.equal(urls.length, 4);
});

t.test('a leaf whose application root cannot be fetched is error.badfetch in the referring dialog', async (t) => {
  const { platform } = await runSession({
    'main.vxml': vxml(`<form><catch event="error.badfetch"><prompt>no root</prompt><exit/></catch><block><goto next="leaf.vxml"/></block></form>`),
    'leaf.vxml': vxml(`<form><block>leaf</block></form>`, 'application="missing-root.vxml"'),
  });
  t.same(platform.prompts, ['no root']);
});
