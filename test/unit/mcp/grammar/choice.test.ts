import t from 'tap';
import { choiceGrammar, GrammarError } from '../../../../src/mcp/grammar/index.js';

const CHOICES = [
  { phrase: 'San Francisco California', dtmf: '1', value: 'sf' },
  { phrase: 'New York', dtmf: '2', value: 'ny' },
  { phrase: 'New Orleans', dtmf: '2 1', value: 'no' },
];

t.test('exact voice choices', async (t) => {
  const g = choiceGrammar(CHOICES, 'voice', 'exact');
  const m = await g.match(['New', 'York'], 0.8);
  t.same([m.status, m.interpretation, m.confidence], ['complete', 'ny', 0.8], 'an exact match keeps the recogniser confidence');
  t.equal((await g.match(['new'])).status, 'prefix');
  t.equal((await g.match(['san', 'francisco'])).status, 'prefix', 'exact needs the whole phrase');
  t.equal((await g.match(['boston'])).status, 'nomatch');
});

t.test('approximate voice choices accept ordered subsequences', async (t) => {
  const g = choiceGrammar(CHOICES, 'voice', 'approximate');
  const sf = await g.match(['san', 'francisco']);
  t.same([sf.status, sf.interpretation, sf.canExtend], ['complete', 'sf', true]);
  t.ok(sf.confidence < 1 && sf.confidence > 0, 'partial phrase lowers confidence');
  t.equal((await g.match(['california'])).interpretation, 'sf');
  t.equal((await g.match(['francisco', 'san'])).status, 'nomatch', 'order matters');
  const full = await g.match(['new', 'orleans']);
  t.same([full.interpretation, full.confidence], ['no', 1], 'the exact phrase wins');
});

t.test('dtmf choices', async (t) => {
  const g = choiceGrammar(CHOICES, 'dtmf', 'exact');
  const two = await g.match(['2']);
  t.same([two.status, two.interpretation, two.canExtend], ['complete', 'ny', true], '2 could still become 21');
  const twentyOne = await g.match(['2', '1']);
  t.same([twentyOne.interpretation, twentyOne.canExtend, twentyOne.utterance], ['no', false, '21']);
  t.equal((await g.match(['9'])).status, 'nomatch');
  t.throws(() => choiceGrammar([{ dtmf: 'x', value: 'v' }], 'dtmf', 'exact'), GrammarError);
});
