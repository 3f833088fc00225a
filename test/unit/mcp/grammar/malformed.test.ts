import fc from 'fast-check';
import t from 'tap';
import { GrammarError, loadGrammar } from '../../../../src/mcp/grammar/index.js';

/**
 * Bad input never crashes: 1,000 random mutations and truncations of grammar texts in both
 * forms must load to a grammar (which then matches without throwing) or reject with GrammarError.
 */

const SEEDS = [
  `<?xml version="1.0"?>
<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="main" mode="voice" tag-format="semantics/1.0-literals">
  <rule id="main" scope="public"><ruleref uri="#city"/><item repeat="0-1">please</item><item repeat="1-3" repeat-prob="0.5">now</item></rule>
  <rule id="city"><one-of><item weight="2">boston<tag>BOS</tag></item><item>new york</item><item><token>san francisco</token></item><item><ruleref special="GARBAGE"/> paris</item></one-of></rule>
</grammar>`,
  `#ABNF 1.0 UTF-8;
language en-US; mode voice; root $main; tag-format <semantics/1.0-literals>;
// comment
public $main = $city [please] now<1-3 /0.5/>;
$city = /2/ boston {BOS} | new york | "san francisco" | $GARBAGE paris | $NULL | never $VOID;`,
  `<grammar mode="dtmf" root="pin" xmlns="http://www.w3.org/2001/06/grammar"><rule id="pin"><item repeat="4"><one-of><item>1</item><item>2</item><item>*</item></one-of></item><item repeat="0-1">#</item></rule></grammar>`,
  `#ABNF 1.0; mode dtmf; root $pin; $pin = (1 | 2 | 3)<2-4> [#] | * 9 $pin;`,
];

const SPECIALS = ['<', '>', '/', '"', "'", '$', '#', '{', '}', '(', ')', '[', ']', '|', ';', '=', '-', '!', '&', '\n', ' ', 'x', '0', '\u0000', '\uFFFF'];

type Edit =
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'duplicate'; at: number; length: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...SPECIALS), fc.string({ maxLength: 4 })) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
);

function apply(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1);
    switch (e.op) {
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'delete':
        out = out.slice(0, at) + out.slice(at + e.length);
        break;
      case 'insert':
        out = out.slice(0, at) + e.text + out.slice(at);
        break;
      case 'duplicate':
        out = out.slice(0, at + e.length) + out.slice(at, at + e.length) + out.slice(at + e.length);
        break;
    }
  }
  return out;
}

t.test('1,000 mutated grammars: a grammar or a GrammarError, never another exception', async (t) => {
  let loaded = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 4 }), async (seed, edits) => {
      const text = apply(SEEDS[seed]!, edits);
      try {
        const grammar = await loadGrammar({ text, baseUri: 'http://fuzz.test/g.grxml' }, { fetch: () => Promise.reject(new Error('404 Not Found')) });
        loaded++;
        for (const input of [[], ['boston', 'now'], ['1', '2', '1', '2'], ['san', 'francisco', 'please', 'now']]) {
          const match = await grammar.match(input);
          if (!['complete', 'prefix', 'nomatch'].includes(match.status)) throw new Error(`bad status ${match.status}`);
        }
      } catch (err) {
        if (!(err instanceof GrammarError)) throw err;
        refused++;
      }
    }),
    { numRuns: 1000, seed: 20261128 },
  );
  t.ok(loaded > 0 && refused > 0, `both outcomes seen (${loaded} loaded, ${refused} refused)`);
});

t.test('non-string and empty input', async (t) => {
  await t.rejects(loadGrammar({ text: '' }), GrammarError);
  await t.rejects(loadGrammar({ text: undefined as unknown as string }), GrammarError);
  await t.rejects(loadGrammar({ text: '<' }), GrammarError);
  await t.rejects(loadGrammar({ text: '#ABNF 1.0; root $x; $x = ' + '('.repeat(20000) + 'a' + ')'.repeat(20000) + ';' }), GrammarError, 'nesting deep enough to exhaust the stack');
});
