import t from 'tap';
import { builtinGrammar, GrammarError, type Grammar } from '../../../../src/mcp/grammar/index.js';

type Verdict = [status: string, canExtend: boolean, value?: unknown];

async function verdict(grammar: Grammar, tokens: string[]): Promise<Verdict> {
  const m = await grammar.match(tokens);
  return m.status === 'complete' ? [m.status, m.canExtend, m.interpretation] : [m.status, m.canExtend];
}

const keys = (text: string): string[] => text.split('');
const spoken = (text: string): string[] => (text === '' ? [] : text.split(' '));

t.test('dtmf digits with minlength/maxlength: prefix, complete, canExtend', async (t) => {
  const g = builtinGrammar('builtin:dtmf/digits?minlength=3;maxlength=5', 'voice');
  t.equal(g.mode, 'dtmf', 'builtin:dtmf is DTMF whatever the caller says');
  t.equal(g.id, 'builtin:dtmf/digits?minlength=3;maxlength=5');
  t.same(await verdict(g, []), ['prefix', true]);
  t.same(await verdict(g, keys('12')), ['prefix', true]);
  t.same(await verdict(g, keys('123')), ['complete', true, '123']);
  t.same(await verdict(g, keys('1234')), ['complete', true, '1234']);
  t.same(await verdict(g, keys('12345')), ['complete', false, '12345'], 'at maxlength the collector need not wait');
  t.same(await verdict(g, keys('123456')), ['nomatch', false]);
  t.same(await verdict(g, keys('12#')), ['nomatch', false]);
  const exact = builtinGrammar('builtin:dtmf/digits?length=4', 'dtmf');
  t.same(await verdict(exact, keys('123')), ['prefix', true]);
  t.same(await verdict(exact, keys('1234')), ['complete', false, '1234']);
  const open = builtinGrammar('builtin:dtmf/digits', 'dtmf');
  t.same(await verdict(open, keys('98765432109876543210')), ['complete', true, '98765432109876543210']);
});

t.test('dtmf boolean, number, currency, phone, date, time', async (t) => {
  const yesNo = builtinGrammar('builtin:dtmf/boolean', 'dtmf');
  t.same(await verdict(yesNo, ['1']), ['complete', false, true]);
  t.same(await verdict(yesNo, ['2']), ['complete', false, false]);
  t.same(await verdict(yesNo, ['3']), ['nomatch', false]);
  const custom = builtinGrammar('builtin:dtmf/boolean?y=7;n=9', 'dtmf');
  t.same(await verdict(custom, ['7']), ['complete', false, true]);
  t.same(await verdict(custom, ['1']), ['nomatch', false]);
  const number = builtinGrammar('builtin:dtmf/number', 'dtmf');
  t.same(await verdict(number, keys('12*5')), ['complete', true, '12.5']);
  t.same(await verdict(number, keys('12*')), ['prefix', true]);
  t.same(await verdict(number, keys('1*2*3')), ['nomatch', false]);
  const currency = builtinGrammar('builtin:grammar/currency', 'dtmf');
  t.same(await verdict(currency, keys('10*25')), ['complete', false, '10.25']);
  t.same(await verdict(currency, keys('7')), ['complete', true, '7.00']);
  t.same(await verdict(currency, keys('7*255')), ['nomatch', false]);
  const phone = builtinGrammar('builtin:dtmf/phone', 'dtmf');
  t.same(await verdict(phone, keys('8005551212*42')), ['complete', true, '8005551212x42']);
  const date = builtinGrammar('builtin:dtmf/date', 'dtmf');
  t.same(await verdict(date, keys('2026112')), ['prefix', true]);
  t.same(await verdict(date, keys('20261128')), ['complete', false, '20261128']);
  t.same(await verdict(date, keys('20261328')), ['nomatch', false], 'month 13');
  t.same(await verdict(date, keys('202619')), ['nomatch', false], 'month 19 is impossible already');
  const time = builtinGrammar('builtin:dtmf/time', 'dtmf');
  t.same(await verdict(time, keys('1530')), ['complete', false, '1530h']);
  t.same(await verdict(time, keys('0930')), ['complete', false, '0930?']);
  t.same(await verdict(time, keys('2460')), ['nomatch', false]);
});

t.test('voice boolean', async (t) => {
  const g = builtinGrammar('builtin:voice/boolean', 'dtmf');
  t.equal(g.mode, 'voice');
  for (const yes of ['yes', 'Yeah.', 'yes please', "that's right", 'correct']) t.same(await verdict(g, spoken(yes)), ['complete', false, true], yes);
  for (const no of ['no', 'nope', 'negative']) t.same(await verdict(g, spoken(no)), ['complete', false, false], no);
  t.same(await verdict(g, spoken('purple')), ['nomatch', false]);
});

t.test('voice digits with length parameters', async (t) => {
  const g = builtinGrammar('builtin:voice/digits?minlength=2;maxlength=4', 'voice');
  t.same(await verdict(g, spoken('one')), ['prefix', true]);
  t.same(await verdict(g, spoken('one oh two')), ['complete', true, '102']);
  t.same(await verdict(g, spoken('double four five six')), ['complete', false, '4456']);
  t.same(await verdict(g, spoken('one two three four five')), ['nomatch', false]);
  t.same(await verdict(g, spoken('one banana')), ['nomatch', false]);
});

t.test('voice number', async (t) => {
  const g = builtinGrammar('builtin:grammar/number', 'voice');
  const cases: Array<[string, string]> = [
    ['one hundred twenty three point four', '123.4'],
    ['twenty three point five', '23.5'],
    ['minus five', '-5'],
    ['two thousand and seven', '2007'],
    ['a million', '1000000'],
    ['point five', '0.5'],
    ['zero', '0'],
    ['seventeen', '17'],
  ];
  for (const [input, value] of cases) t.same(await verdict(g, spoken(input)), ['complete', true, value], input);
  t.same(await verdict(g, spoken('one hundred and')), ['prefix', true]);
  t.same(await verdict(g, spoken('twenty banana')), ['nomatch', false]);
});

t.test('voice currency, phone, date, time', async (t) => {
  const currency = builtinGrammar('builtin:voice/currency', 'voice');
  t.same(await verdict(currency, spoken('ten dollars and twenty five cents')), ['complete', true, 'USD10.25']);
  t.same(await verdict(currency, spoken('three euros fifty')), ['complete', true, 'EUR3.50']);
  t.same(await verdict(currency, spoken('twelve point five')), ['complete', true, '12.50'], 'no currency said: mm.nn');
  const phone = builtinGrammar('builtin:voice/phone', 'voice');
  t.same(await verdict(phone, spoken('eight hundred five five five one two one two')), ['complete', true, '8005551212']);
  t.same(await verdict(phone, spoken('five five five one two one two extension three')), ['complete', true, '5551212x3']);
  const date = builtinGrammar('builtin:voice/date', 'voice');
  t.same(await verdict(date, spoken('november twenty eighth two thousand twenty six')), ['complete', false, '20261128']);
  t.same(await verdict(date, spoken('the fourth of july')), ['complete', true, '????0704']);
  t.same(await verdict(date, spoken('march third nineteen ninety nine')), ['complete', false, '19990303']);
  t.same(await verdict(date, spoken('november')), ['prefix', true]);
  const time = builtinGrammar('builtin:voice/time', 'voice');
  t.same(await verdict(time, spoken('three thirty pm')), ['complete', false, '0330p']);
  t.same(await verdict(time, ['3:30', 'a.m.']), ['complete', false, '0330a']);
  t.same(await verdict(time, spoken('seven oh five')), ['complete', true, '0705?']);
  t.same(await verdict(time, spoken('fifteen forty five')), ['complete', true, '1545h']);
  t.same(await verdict(time, spoken('quarter to nine in the evening')), ['complete', false, '0845p']);
  t.same(await verdict(time, spoken('noon')), ['complete', false, '1200p']);
  t.not((await verdict(time, spoken('thirteen thirty pm')))[0], 'complete', 'pm after a 24-hour hour');
  t.same(await verdict(time, spoken('thirty elephants')), ['nomatch', false]);
});

t.test('builtins give a rule tree for ASR in voice mode only', async (t) => {
  t.ok(builtinGrammar('builtin:voice/digits', 'voice').rules, 'vocabulary loop');
  t.equal(builtinGrammar('builtin:dtmf/digits', 'dtmf').rules, undefined);
});

t.test('bad builtin URIs and parameters give GrammarError', async (t) => {
  for (const uri of ['builtin:dtmf/colour', 'builtin:fax/digits', 'http://x/digits', 'builtin:dtmf/digits?minlength=x', 'builtin:dtmf/digits?minlength=5;maxlength=2', 'builtin:dtmf/digits?length=3;minlength=2', 'builtin:dtmf/boolean?y=11', 'builtin:voice/number?foo=1', 'builtin:dtmf/digits?oops']) {
    t.throws(() => builtinGrammar(uri, 'dtmf'), GrammarError, uri);
  }
});
