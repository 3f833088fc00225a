import t from 'tap';
import fc from 'fast-check';
import { runSession, vxml } from './fakes.js';

const fragments = [
  '<form>', '</form>', '<block>', '</block>', '<field name="f">', '</field>', '<goto next="#x"/>', '<goto/>', '<var name="v" expr="1/"/>',
  '<assign name="q" expr="1"/>', '<if cond="(">', '</if>', '<else/>', '<prompt>hi</prompt>', '<throw event="e"/>', '<catch>', '</catch>',
  '<exit/>', '<script>while(</script>', '<subdialog src="nowhere.vxml"/>', '<grammar/>', '<menu>', '</menu>', '<choice/>', '<reprompt/>',
  '<clear namelist="zz"/>', '<value expr="a.b.c"/>', '<foreach array="1" item="i"/>', '<data src="x.xml" name="d"/>', '&amp;', '<![CDATA[x]]>',
];

t.test('malformed documents never crash the interpreter: the run resolves with a result', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...fragments), { maxLength: 12 }), async (parts) => {
      const { result } = await runSession({ 'main.vxml': vxml(parts.join('')) }, ['silence', 'silence', 'hangup']);
      return ['exit', 'disconnect', 'hangup', 'error', 'transferred'].includes(result.reason);
    }),
    { numRuns: 40 },
  );
  t.pass('every run resolved');
});
