import t from 'tap';
import { grammarsToJsgf, ruleSetToJsgf, tokenWords } from '../../../../src/mcp/asr/index.js';
import { alt, citiesRuleSet, ref, rep, ruleSet, seq, special, tag, tok } from './rule-builders.js';

const HEADER = '#JSGF V1.0;\ngrammar grammar;\n';

t.test('cities: tags dropped, multi-word tokens become word lists', async (t) => {
  const r = ruleSetToJsgf(citiesRuleSet());
  t.equal(r.text, HEADER + 'public <city> = chicago | san francisco | new york | london | tokyo | yes | no | one two three;\n');
  t.ok(r.usable);
  t.same(r.words.sort(), ['chicago', 'francisco', 'london', 'new', 'no', 'one', 'san', 'three', 'tokyo', 'two', 'yes', 'york']);
  t.same(r.droppedWords, []);
});

t.test('rule references, weights, optional and nested alternatives', async (t) => {
  const rules = ruleSet('order', {
    order: seq(rep(0, 1, ref('polite')), tok('I want'), alt([tok('a'), 2], [tok('two'), 0.5]), ref('drink'), tag('out.x=1;')),
    polite: alt(tok('please'), seq(tok('could'), tok('you'))),
    drink: alt(tok('coffee'), seq(tok('green'), alt(tok('tea'), tok('juice')))),
    unused: tok('never'),
  });
  const r = ruleSetToJsgf(rules, { grammarName: 'orders' });
  t.equal(
    r.text,
    '#JSGF V1.0;\ngrammar orders;\n' +
      'public <order> = [<polite>] i want (/2/ a | /0.5/ two) <drink>;\n' +
      '<polite> = please | could you;\n' +
      '<drink> = coffee | green (tea | juice);\n',
  );
});

t.test('repeats', async (t) => {
  const body = (min: number, max: number, e = tok('go')) => {
    const text = ruleSetToJsgf(ruleSet('r', { r: rep(min, max, e) })).text;
    return text.slice(HEADER.length).replace(/^public <r> = /, '').replace(/;\n$/, '');
  };
  t.equal(body(0, Infinity), 'go*');
  t.equal(body(1, Infinity), 'go+');
  t.equal(body(2, Infinity), 'go go+');
  t.equal(body(0, 1), '[go]');
  t.equal(body(0, 3), '[go [go [go]]]');
  t.equal(body(2, 3), 'go go [go]');
  t.equal(body(1, 1), 'go');
  t.equal(body(0, 100), 'go*', 'a long optional tail is written as unbounded');
  t.equal(body(1, Infinity, tok('very good')), '(very good)+');
  t.equal(body(0, Infinity, alt(tok('a'), tok('b'))), '(a | b)*');
  t.equal(body(0, 0), '<NULL>');
});

t.test('NULL, VOID and GARBAGE: VOID never reaches pocketsphinx', async (t) => {
  const rules = ruleSet('r', {
    r: alt(seq(tok('a'), special('NULL')), seq(tok('b'), special('VOID')), seq(special('GARBAGE'), tok('c'))),
  });
  const r = ruleSetToJsgf(rules);
  t.equal(r.text, HEADER + 'public <r> = a | c;\n');
  t.match(r.notes, [/GARBAGE/]);
});

t.test('words missing from the dictionary are dropped, with what depends on them', async (t) => {
  const known = new Set(['call', 'home', 'work', 'please']);
  const rules = ruleSet('r', {
    r: seq(tok('call'), ref('place'), rep(0, 1, tok('pretty please'))),
    place: alt(tok('home'), tok('work'), tok('Xyzzy Street'), ref('nowhere')),
    nowhere: tok('plugh'),
  });
  const r = ruleSetToJsgf(rules, { isKnownWord: (w) => known.has(w) });
  t.equal(r.text, HEADER + 'public <r> = call <place>;\n<place> = home | work;\n');
  t.same(r.droppedWords.sort(), ['pretty', 'street', 'xyzzy']);
  t.ok(r.usable);
  const none = ruleSetToJsgf(ruleSet('r', { r: alt(tok('plugh'), tok('xyzzy')) }), { isKnownWord: (w) => known.has(w) });
  t.notOk(none.usable, 'nothing left to match');
  t.equal(none.text, HEADER + 'public <root> = <NULL>;\n', 'still valid JSGF');
});

t.test('right recursion and external rule keys', async (t) => {
  const rules = ruleSet('digits', {
    digits: seq(ref('http://example.com/d.grxml#digit'), rep(0, 1, ref('digits'))),
    'http://example.com/d.grxml#digit': alt(tok('one'), tok('two')),
  });
  t.equal(ruleSetToJsgf(rules).text, HEADER + 'public <digits> = <ext_digit> [<digits>];\n<ext_digit> = one | two;\n');
});

t.test('several grammars: one public root alternating their roots', async (t) => {
  const yesno = ruleSet('yn', { yn: alt(tok('yes'), tok('no')) });
  const city = ruleSet('city', { city: alt(tok('paris'), tok('rome')) });
  const r = grammarsToJsgf([{ rules: yesno, weight: 2 }, { rules: city }], { grammarName: 'active' });
  t.equal(r.text, '#JSGF V1.0;\ngrammar active;\npublic <root> = /2/ <g0_yn> | /1/ <g1_city>;\n<g0_yn> = yes | no;\n<g1_city> = paris | rome;\n');
  const same = grammarsToJsgf([{ rules: yesno }, { rules: yesno }]);
  t.equal(same.text, HEADER + 'public <root> = <g0_yn> | <g1_yn>;\n<g0_yn> = yes | no;\n<g1_yn> = yes | no;\n', 'equal weights are not written');
  t.notOk(grammarsToJsgf([]).usable);
});

t.test('rule names are sanitised and kept distinct', async (t) => {
  const rules = ruleSet('a-b', { 'a-b': seq(ref('a.b'), ref('NULL_x')), 'a.b': tok('x'), NULL_x: tok('y') });
  t.equal(ruleSetToJsgf(rules).text, HEADER + 'public <a_b> = <a_b_2> <NULL_x>;\n<a_b_2> = x;\n<NULL_x> = y;\n');
});

t.test('tokenWords normalises case and punctuation', async (t) => {
  t.same(tokenWords('  New  York! '), ['new', 'york']);
  t.same(tokenWords("O'Hare St."), ["o'hare", 'st']);
  t.same(tokenWords('?!'), []);
});
