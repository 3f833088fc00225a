import t from 'tap';
import { compareSpecificity, compilePattern, type CompiledPattern } from '../../../../src/calls/dialplan/index.js';

function pattern(source: string): CompiledPattern {
  const r = compilePattern(source);
  if (!r.ok) throw new Error(r.message);
  return r.pattern;
}

t.test('patterns match the numbers they should, and only those', async (t) => {
  const cases: Array<[string, string[], string[]]> = [
    ['911', ['911'], ['9110', '91', '+911']],
    ['+4930123456', ['+4930123456'], ['4930123456']],
    ['*97', ['*97'], ['97', '*970']],
    ['_X.', ['12', '12345', '00'], ['', '1', 'a1']],
    ['_X!', ['1', '12'], ['']],
    ['_1!', ['1', '1234'], ['2']],
    ['_NXXNXXXXXX', ['2125551234', '9999999999'], ['1125551234', '2120551234', '212555123']],
    ['_1NXXNXXXXXX', ['12125551234'], ['2125551234']],
    ['_[1-5]XX', ['100', '599', '345'], ['600', '000', '1000']],
    ['_[136-8]Z', ['11', '69', '81'], ['21', '90', '10']],
    ['_[*#]X', ['*1', '#9'], ['11']],
    ['_9.', ['90', '9011441234'], ['9', '8123']],
    ['_+49.', ['+4930123456'], ['004930123456']],
    ['_nxx', ['200'], ['100']],
    ['/^1(\\d{3})$/', ['1000', '1999'], ['100', '10000', '2000']],
    ['/^\\+44/', ['+442071234567'], ['442071234567']],
  ];
  for (const [source, yes, no] of cases) {
    const p = pattern(source);
    for (const n of yes) t.ok(p.regex.test(n), `${source} matches '${n}'`);
    for (const n of no) t.notOk(p.regex.test(n), `${source} does not match '${n}'`);
  }
});

t.test('bad patterns are refused with a reason', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['_', /empty/],
    ['12a4', /literal pattern/],
    ['_1[23', /not closed/],
    ['_1[]', /empty set/],
    ['_[9-1]', /bad range/],
    ['_1Q', /unexpected 'Q'/],
    ['/(unclosed/', /invalid regex/],
    ['/abc/i', /no flags/],
    ['/.*/', /matches the empty number/],
    ['_' + 'X'.repeat(300), /longer than/],
  ];
  for (const [source, reason] of cases) {
    const r = compilePattern(source);
    t.equal(r.ok, false, `'${source.slice(0, 20)}' refused`);
    if (!r.ok) t.match(r.message, reason);
  }
});

t.test('specificity: exact > longer fixed prefix > fixed length > fewer wildcards; regex last', async (t) => {
  const ordered = ['4930123', '_4930X.', '_49XX', '_49XXX', '_49.', '_4[0-9]XX', '_X.', '/^49/'];
  const shuffled = [...ordered].reverse();
  const sorted = shuffled.sort((a, b) => compareSpecificity(pattern(a).specificity, pattern(b).specificity));
  t.same(sorted, ordered);
  t.equal(compareSpecificity(pattern('_1XX').specificity, pattern('_1NN').specificity), 0, 'equal specificity is a tie');
});
