import t from 'tap';
import { sayAs } from '../../../../src/mcp/ssml/index.js';

type Row = [text: string, interpretAs: string, format: string | undefined, expected: string];

const TABLE: Row[] = [
  // characters / spell-out
  ['AbC-9', 'characters', undefined, 'A B C dash nine'],
  ['jo@x.io', 'spell-out', undefined, 'J O at X dot I O'],
  // cardinal / number
  ['0', 'cardinal', undefined, 'zero'],
  ['7', 'number', undefined, 'seven'],
  ['15', 'cardinal', undefined, 'fifteen'],
  ['40', 'cardinal', undefined, 'forty'],
  ['101', 'cardinal', undefined, 'one hundred one'],
  ['1,234,567', 'cardinal', undefined, 'one million two hundred thirty-four thousand five hundred sixty-seven'],
  ['1000000000', 'cardinal', undefined, 'one billion'],
  ['-3.14', 'number', undefined, 'minus three point one four'],
  ['9007199254740993', 'cardinal', undefined, 'nine quadrillion seven trillion one hundred ninety-nine billion two hundred fifty-four million seven hundred forty thousand nine hundred ninety-three'],
  ['3', 'number', 'ordinal', 'third'],
  ['42', 'number', 'digits', 'four two'],
  ['12abc', 'number', undefined, '12abc'],
  // ordinal
  ['1', 'ordinal', undefined, 'first'],
  ['2nd', 'ordinal', undefined, 'second'],
  ['12', 'ordinal', undefined, 'twelfth'],
  ['21st', 'ordinal', undefined, 'twenty-first'],
  ['30', 'ordinal', undefined, 'thirtieth'],
  ['100', 'ordinal', undefined, 'one hundredth'],
  // digits
  ['1234', 'digits', undefined, 'one two three four'],
  ['0042', 'vxml:digits', undefined, 'zero zero four two'],
  // telephone
  ['+1 (555) 123-4567', 'telephone', undefined, 'plus one, five five five, one two three, four five six seven'],
  ['8005551212', 'vxml:phone', undefined, 'eight zero zero five five five one two one two'],
  ['1-800-FLOWERS', 'telephone', undefined, 'one, eight zero zero, F L O W E R S'],
  // date
  ['20261128', 'date', undefined, 'November twenty-eighth, twenty twenty-six'],
  ['????1128', 'vxml:date', undefined, 'November twenty-eighth'],
  ['2026??28', 'date', undefined, 'the twenty-eighth, twenty twenty-six'],
  ['2026-11-28', 'date', 'ymd', 'November twenty-eighth, twenty twenty-six'],
  ['11/28/2026', 'date', 'mdy', 'November twenty-eighth, twenty twenty-six'],
  ['28.11.2026', 'date', 'dmy', 'the twenty-eighth of November, twenty twenty-six'],
  ['11/28', 'date', 'md', 'November twenty-eighth'],
  ['28/11', 'date', 'dm', 'the twenty-eighth of November'],
  ['2026-11', 'date', 'ym', 'November twenty twenty-six'],
  ['11/2026', 'date', 'my', 'November twenty twenty-six'],
  ['2026', 'date', 'y', 'twenty twenty-six'],
  ['11', 'date', 'm', 'November'],
  ['28', 'date', 'd', 'the twenty-eighth'],
  ['Nov 28 2026', 'date', 'mdy', 'November twenty-eighth, twenty twenty-six'],
  ['1999-12-31', 'date', undefined, 'December thirty-first, nineteen ninety-nine'],
  ['2005-01-02', 'date', undefined, 'January second, two thousand five'],
  ['1900', 'date', 'y', 'nineteen hundred'],
  ['1905', 'date', 'y', 'nineteen oh five'],
  ['13/45/2026', 'date', 'mdy', '13/45/2026'],
  // time
  ['0330p', 'time', undefined, 'three thirty P M'],
  ['0330a', 'vxml:time', undefined, 'three thirty A M'],
  ['1530h', 'time', undefined, 'three thirty P M'],
  ['0900?', 'time', undefined, "nine o'clock"],
  ['3:05 pm', 'time', 'hms12', 'three oh five P M'],
  ['15:30', 'time', 'hms24', 'fifteen thirty'],
  ['15:00', 'time', 'hms24', 'fifteen hundred'],
  ['0330p', 'time', 'hms24', 'fifteen thirty'],
  ['00:30', 'time', 'hms12', 'twelve thirty A M'],
  ['10:15:20', 'time', 'hms24', 'ten fifteen and twenty seconds'],
  ['25:00', 'time', undefined, '25:00'],
  // currency
  ['USD12.50', 'currency', undefined, 'twelve dollars and fifty cents'],
  ['$12.50', 'currency', undefined, 'twelve dollars and fifty cents'],
  ['$1.01', 'currency', undefined, 'one dollar and one cent'],
  ['$0.50', 'currency', undefined, 'fifty cents'],
  ['$1,000', 'currency', undefined, 'one thousand dollars'],
  ['EUR3', 'currency', undefined, 'three euros'],
  ['€2.05', 'currency', undefined, 'two euros and five cents'],
  ['GBP1.02', 'vxml:currency', undefined, 'one pound and two pence'],
  ['£0.01', 'currency', undefined, 'one penny'],
  ['12.50 EUR', 'currency', undefined, 'twelve euros and fifty cents'],
  ['-$5', 'currency', undefined, 'minus five dollars'],
  ['7', 'currency', 'GBP', 'seven pounds'],
  ['JPY1500', 'currency', undefined, 'one thousand five hundred yen'],
  ['CHF5.25', 'currency', undefined, 'five point two five C H F'],
  // boolean
  ['true', 'boolean', undefined, 'yes'],
  ['false', 'vxml:boolean', undefined, 'no'],
  // unknown types and unfit text come back unchanged
  ['hello', 'frobnicate', undefined, 'hello'],
  ['maybe', 'boolean', undefined, 'maybe'],
];

t.test('say-as table', async (t) => {
  for (const [text, interpretAs, format, expected] of TABLE) {
    t.equal(sayAs(text, interpretAs, format), expected, `${interpretAs}${format === undefined ? '' : `/${format}`} ${text}`);
  }
});

t.test('say-as is case-insensitive on interpret-as and trims the text', async (t) => {
  t.equal(sayAs('  42 ', 'CARDINAL'), 'forty-two');
  t.equal(sayAs('42', 'cardinal', undefined, undefined, 'en-GB'), 'forty-two', 'English words whatever the language');
});

t.test('fast-check: sayAs never throws and always returns a string', async (t) => {
  const fc = (await import('fast-check')).default;
  const types = fc.constantFrom('characters', 'spell-out', 'cardinal', 'number', 'ordinal', 'digits', 'telephone', 'date', 'time', 'currency', 'boolean', 'vxml:date', 'other');
  const formats = fc.option(fc.constantFrom('mdy', 'dmy', 'ymd', 'md', 'y', 'hms12', 'hms24', 'ordinal', 'digits', 'USD', 'zzz'), { nil: undefined });
  const texts = fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[-+$€£]?[0-9?,.:/ ]{0,30}[apH?]?$/));
  fc.assert(fc.property(texts, types, formats, (text, type, format) => typeof sayAs(text, type, format) === 'string'), { numRuns: 3000 });
  t.pass('no throw');
});
