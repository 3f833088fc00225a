import t from 'tap';
import { builtinGrammar, GrammarError, loadGrammar, toJsgf } from '../../../../src/mcp/grammar/index.js';

t.test('toJsgf: weights, optional, open repeats, rulerefs, tags dropped', async (t) => {
  const g = await loadGrammar({
    text: `#ABNF 1.0; tag-format <semantics/1.0>; root $order;
public $order = [please] $size<1-> pizza {out = rules.size} | /2/ cancel $GARBAGE;
$size = /10/ Small | /2/ "Extra Large" {out = 'XL'} | medium;`,
  });
  t.equal(
    toJsgf(g.rules!, 'order'),
    ['#JSGF V1.0;', 'grammar order;', 'public <order> = /1/ [please] <size>+ pizza | /2/ cancel;', '<size> = /10/ small | /2/ extra large | /1/ medium;', ''].join('\n'),
  );
});

t.test('toJsgf: fixed repeats are written out; NULL and VOID; names made safe', async (t) => {
  const g = await loadGrammar({
    text: `<grammar xmlns="http://www.w3.org/2001/06/grammar" root="main" version="1.0">
  <rule id="main"><item repeat="2-4"><ruleref uri="#digit"/></item><item repeat="0-"><one-of><item>oh</item><item>ok</item></one-of></item><ruleref special="NULL"/></rule>
  <rule id="digit"><one-of><item>one</item><item>two</item><item>never<ruleref special="VOID"/></item></one-of></rule>
  <rule id="unused">not reached</rule>
</grammar>`,
  });
  t.equal(
    toJsgf(g.rules!, 'my grammar'),
    ['#JSGF V1.0;', 'grammar my_grammar;', 'public <main> = <digit> <digit> [<digit> [<digit>]] (oh | ok)*;', '<digit> = one | two | never <VOID>;', ''].join('\n'),
  );
});

t.test('toJsgf: external rule keys become plain rule names', async (t) => {
  const g = await loadGrammar(
    { text: '#ABNF 1.0; root $main; $main = go to $<cities.gram#city>;', baseUri: 'http://h/main.gram' },
    { fetch: () => Promise.resolve({ text: '#ABNF 1.0; root $city; public $city = paris | rome;' }) },
  );
  t.equal(toJsgf(g.rules!, 'nav'), '#JSGF V1.0;\ngrammar nav;\npublic <main> = go to <city>;\n<city> = paris | rome;\n');
});

t.test('toJsgf refuses DTMF grammars; builtins give a vocabulary loop', async (t) => {
  const dtmf = await loadGrammar({ text: '#ABNF 1.0; mode dtmf; root $r; $r = 1 | 2;' });
  t.throws(() => toJsgf(dtmf.rules!, 'keys'), GrammarError);
  const jsgf = toJsgf(builtinGrammar('builtin:voice/boolean', 'voice').rules!, 'yesno');
  t.match(jsgf, /^#JSGF V1\.0;\ngrammar yesno;\npublic <builtin> = \(yes \| yeah .* \| it\)\+;\n$/);
});
