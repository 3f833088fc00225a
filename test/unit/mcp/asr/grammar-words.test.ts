import t from 'tap';
import { PronouncingDictionary, collectGrammarPhrases, collectPhrases } from '../../../../src/mcp/asr/index.js';
import type { Grammar } from '../../../../src/mcp/grammar/types.js';
import { alt, citiesRuleSet, ref, rep, ruleSet, seq, special, tag, tok } from './rule-builders.js';

t.test('phrases: every reachable token once, in order, tags and specials left out', async (t) => {
  const rules = ruleSet('r', {
    r: seq(rep(0, 1, ref('polite')), alt(tok('New  York'), tok('Chicago')), tag('out=1'), special('GARBAGE'), ref('r2')),
    polite: tok('please'),
    r2: alt(tok('Chicago'), seq(tok('thanks'), ref('r'))),
    unreachable: tok('never'),
  });
  t.same(collectPhrases(rules), ['please', 'New York', 'Chicago', 'thanks']);
  t.same(collectPhrases(rules, 2), ['please', 'New York'], 'limited');
});

t.test('phrases of several grammars: voice grammars with rules only', async (t) => {
  const grammar = (rules: Grammar['rules'], mode: 'voice' | 'dtmf' = 'voice'): Grammar => ({
    mode,
    id: 'g',
    weight: 1,
    ...(rules !== undefined ? { rules } : {}),
    match: () => Promise.resolve({ status: 'nomatch', canExtend: false, utterance: '', confidence: 0 }),
  });
  const dtmf = { ...ruleSet('d', { d: tok('1') }), mode: 'dtmf' as const };
  const phrases = collectGrammarPhrases([grammar(citiesRuleSet()), grammar(undefined), grammar(dtmf, 'dtmf'), grammar(ruleSet('y', { y: alt(tok('yes'), tok('maybe')) }))]);
  t.same(phrases, ['chicago', 'san francisco', 'new york', 'london', 'tokyo', 'yes', 'no', 'one two three', 'maybe']);
});

t.test('pronouncing dictionary: alternates, comments, case, subset', async (t) => {
  const dict = PronouncingDictionary.parse(
    ['chicago SH AH K AA G OW', 'chicago(2) CH AH K AA G OW', 'New N UW', 'york Y AO R K # a comment', '', 'broken', 'x(3)  EH K S'].join('\n'),
  );
  t.equal(dict.size, 4);
  t.ok(dict.has('Chicago'));
  t.ok(dict.has('new'));
  t.notOk(dict.has('broken'), 'a word with no phones is not an entry');
  t.equal(dict.subset(['new', 'chicago', 'nowhere', 'CHICAGO']), 'new N UW\nchicago SH AH K AA G OW\nchicago(2) CH AH K AA G OW\n');
  t.equal(dict.subset(['york', 'x']), 'york Y AO R K\nx EH K S\n');
});
