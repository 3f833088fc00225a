import t from 'tap';
import { ConfigError } from '../../../../src/lib/index.js';
import { compileDialPlan, compileDialPlanOrThrow, evaluate, formatDialPlanErrors, parseDialPlan, type DialPlanError } from '../../../../src/calls/dialplan/index.js';

const good = { name: 'good', match: { number: '_X.' }, target: { type: 'user', user: 'alice@example.com' } };

function errorsOf(input: unknown): DialPlanError[] {
  const r = compileDialPlan(input);
  return r.ok ? [] : r.errors;
}

/** a plan of one good rule and one bad one built from `bad` */
function withBad(bad: Record<string, unknown>): unknown {
  return { rules: [good, { name: 'bad', match: { number: '_X.' }, target: { type: 'user', user: 'bob' }, ...bad }] };
}

t.test('every misconfiguration is refused with an error naming the rule', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['bad Asterisk pattern', { match: { number: '_1[2' } }, 'rules[1].match.number', /not closed/],
    ['letters in a literal', { match: { number: 'abc' } }, 'rules[1].match.number', /literal pattern/],
    ['bad regex', { match: { number: '/^(1/' } }, 'rules[1].match.number', /invalid regex/],
    ['bad caller pattern', { match: { number: '_X.', caller: '_Q' } }, 'rules[1].match.caller', /unexpected 'Q'/],
    ['unknown source', { match: { number: '_X.', source: 'pstn' } }, 'rules[1].match.source', /internal.*trunk.*any/],
    ['trunk with internal source', { match: { number: '_X.', source: 'internal', trunk: 'carrier' } }, 'rules[1].match.trunk', /cannot be combined/],
    ['unknown target type', { target: { type: 'fax', to: 'x' } }, 'rules[1].target.type', /unknown target type "fax"; expected one of user, ring-group/],
    ['missing target', { target: undefined }, 'rules[1].target', /required/],
    ['reject status 399', { target: { type: 'reject', status: 399 } }, 'rules[1].target.status', /400–699/],
    ['reject status 700', { target: { type: 'reject', status: 700 } }, 'rules[1].target.status', /400–699/],
    ['reject status not an integer', { target: { type: 'reject', status: 486.5 } }, 'rules[1].target.status', /integer/],
    ['empty ring group', { target: { type: 'ring-group', strategy: 'simultaneous', members: [] } }, 'rules[1].target.members', /at least one member/],
    ['bad ring strategy', { target: { type: 'ring-group', strategy: 'random', members: ['a'] } }, 'rules[1].target.strategy', /simultaneous/],
    ['duplicate ring member', { target: { type: 'ring-group', strategy: 'sequential', members: ['a', 'a'] } }, 'rules[1].target.members', /twice/],
    ['vxml not http', { target: { type: 'vxml', url: 'ftp://example.com/app.vxml' } }, 'rules[1].target.url', /http\(s\) URL/],
    ['number target not dialable', { target: { type: 'number', number: 'sales' } }, 'rules[1].target.number', /not a dialable number/],
    ['unknown placeholder', { target: { type: 'user', user: '${exten}@example.com' } }, 'rules[1].target.user', /unknown placeholder '\$\{exten\}'/],
    ['time 25:00', { when: [{ from: '25:00', to: '26:00' }] }, 'rules[1].when[0]', /'from' "25:00" is not a time of day/],
    ['time 9:00', { when: [{ from: '9:00' }] }, 'rules[1].when[0]', /not a time of day/],
    ['from equals to', { when: [{ from: '09:00', to: '09:00' }] }, 'rules[1].when[0]', /empty/],
    ['unknown time zone', { when: [{ from: '09:00', timezone: 'Mars/Olympus' }] }, 'rules[1].when[0]', /unknown time zone 'Mars\/Olympus'/],
    ['bad day', { when: [{ days: ['mon-fry'] }] }, 'rules[1].when[0]', /not a day/],
    ['bad date', { when: [{ dates: ['2026-02-30'] }] }, 'rules[1].when[0]', /not a date/],
    ['bad yearly date', { when: [{ dates: ['02-30'] }] }, 'rules[1].when[0]', /not a date/],
    ['mixed yearly and dated range', { when: [{ dates: ['2026-12-24/01-01'] }] }, 'rules[1].when[0]', /not a date/],
    ['date range backwards', { when: [{ dates: ['2026-12-26/2026-12-24'] }] }, 'rules[1].when[0]', /ends before/],
    ['empty time condition', { when: [{ negate: true }] }, 'rules[1].when[0]', /needs days/],
    ['rewrite strips everything', { match: { number: '911' }, rewrite: { stripPrefix: 3 } }, 'rules[1].rewrite', /leaves nothing/],
    ['rewrite strips a fixed-length pattern away', { match: { number: '_9XX' }, rewrite: { stripPrefix: 3 } }, 'rules[1].rewrite', /'900' becomes ''/],
    ['literal strip of the whole number', { match: { number: '*97' }, rewrite: { stripPrefix: '*97' } }, 'rules[1].rewrite', /leaves nothing/],
    ['replace with nothing', { match: { number: '_1XX' }, rewrite: { replace: { pattern: '^.*$', with: '' } } }, 'rules[1].rewrite', /leaves nothing/],
    ['caller rewrite to nothing', { match: { number: '_X.', caller: '_1XX' }, rewrite: { callerId: { stripPrefix: 3 } } }, 'rules[1].rewrite.callerId', /leaves nothing of the caller/],
    ['empty rewrite', { rewrite: {} }, 'rules[1].rewrite', /no operation/],
    ['bad replace regex', { rewrite: { replace: { pattern: '([', with: '' } } }, 'rules[1].rewrite.replace.pattern', /invalid regex/],
    ['replace group out of range', { rewrite: { replace: { pattern: '^9(\\d+)$', with: '$2' } } }, 'rules[1].rewrite.replace.with', /\$2.*has 1/],
    ['strip count zero', { rewrite: { stripPrefix: 0 } }, 'rules[1].rewrite.stripPrefix', /./],
    ['misspelt key', { contineOnFailure: true }, 'rules[1]', /Unrecognized key.*contineOnFailure/],
    ['negative priority', { priority: -1 }, 'rules[1].priority', /greater than or equal/],
  ];
  for (const [what, bad, path, message] of cases) {
    const errors = errorsOf(withBad(bad));
    t.equal(errors.length, 1, `${what}: one error`);
    t.equal(errors[0]?.rule, 'bad', `${what}: names the rule`);
    t.equal(errors[0]?.path, path, `${what}: path`);
    t.match(errors[0]?.message, message, `${what}: message`);
  }
});

t.test('rules without a usable name are named by position; duplicates name both', async (t) => {
  const errors = errorsOf({ rules: [good, { match: { number: '1' }, target: { type: 'user', user: 'x' } }, { ...good }, { name: '  ', match: { number: '1' }, target: { type: 'voicemail', mailbox: 'm' } }] });
  t.same(errors, [
    { rule: 'rules[1]', path: 'rules[1].name', message: 'is required' },
    { rule: 'good', path: 'rules[2].name', message: 'duplicate rule name (also rules[0])' },
    { rule: 'rules[3]', path: 'rules[3].name', message: 'must not be empty' },
  ]);
});

t.test('errors of several rules are all reported at once', async (t) => {
  const errors = errorsOf({
    rules: [
      { name: 'a', match: { number: '_[' }, target: { type: 'reject', status: 200 } },
      good,
      { name: 'c', match: { number: '_X.' }, when: [{ from: '24:30' }], target: { type: 'vxml', url: 'notaurl' } },
    ],
  });
  t.same(errors.map((e) => [e.rule, e.path]), [
    ['a', 'rules[0].target.status'],
    ['c', 'rules[2].when[0]'],
    ['c', 'rules[2].target.url'],
  ]);
  t.match(formatDialPlanErrors(errors), /^rule "a" at rules\[0\]\.target\.status: reject status must be 400–699\nrule "c" at rules\[2\]\.when\[0\]: /);
});

t.test('plan-level problems are named (plan)', async (t) => {
  t.same(errorsOf(undefined).map((e) => e.rule), ['(plan)']);
  t.same(errorsOf({ rules: 'all' }).map((e) => [e.rule, e.path]), [['(plan)', 'rules']]);
  t.same(errorsOf({ rules: [], timezone: 'Nowhere/Land' }), [{ rule: '(plan)', path: 'timezone', message: "unknown time zone 'Nowhere/Land'" }]);
  t.same(errorsOf({ rules: [], extra: 1 }).map((e) => e.path), ['']);
  t.ok(compileDialPlan({ rules: [] }).ok, 'an empty plan is valid');
});

t.test('compileDialPlanOrThrow throws a ConfigError listing the rules', async (t) => {
  let thrown: unknown;
  try {
    compileDialPlanOrThrow(withBad({ target: { type: 'reject', status: 99 } }));
  } catch (err) {
    thrown = err;
  }
  t.ok(thrown instanceof ConfigError, 'a ConfigError');
  t.match((thrown as Error).message, /rule "bad" at rules\[1\]\.target\.status/);
  t.equal((thrown as ConfigError).key, 'rules[1].target.status');
  t.equal(compileDialPlanOrThrow({ tenant: 'acme', rules: [good] }).tenant, 'acme');
});

const YAML_PLAN = `
tenant: acme
timezone: Europe/London
rules:
  - name: emergency
    match: { number: "999" }
    target: { type: trunk, trunk: emergency, fallbackTrunks: [backup] }
  - name: extensions
    match: { number: "_2XXX", source: internal }
    target: { type: user, user: "\${number}@acme.example" }
  - name: out-of-hours
    priority: 10
    match: { number: "_+44.", source: trunk, trunk: carrier }
    when:
      - { days: [mon-fri], from: "18:00", to: "08:00" }
      - { days: [sat, sun] }
    target: { type: voicemail, mailbox: reception }
  - name: uk-national
    match: { number: "_0[1-9]." }
    rewrite: { stripPrefix: 1, prepend: "+44", callerId: { replace: { pattern: "^0", with: "+44" } } }
    target: { type: trunk, trunk: carrier }
`;

t.test('YAML input', async (t) => {
  const r = parseDialPlan(YAML_PLAN);
  if (!r.ok) throw new Error(formatDialPlanErrors(r.errors));
  t.equal(r.plan.tenant, 'acme');
  t.same(r.plan.rules.map((x) => x.name), ['out-of-hours', 'emergency', 'extensions', 'uk-national']);
  const ext = evaluate(r.plan, { number: '2001', caller: '2002', source: 'internal', at: 0 });
  t.same(ext.matched?.target, { type: 'user', user: '2001@acme.example' });
  const out = evaluate(r.plan, { number: '02079460018', caller: '01632960001', source: 'internal', at: 0 });
  t.same([out.matched?.number, out.matched?.caller], ['+442079460018', '+441632960001']);
  // Saturday 2026-06-06 in London: out of hours
  const inbound = evaluate(r.plan, { number: '+442079460000', caller: '+15551234567', source: 'trunk', trunk: 'carrier', at: Date.parse('2026-06-06T12:00:00Z') });
  t.same(inbound.matched?.target, { type: 'voicemail', mailbox: 'reception' });
});

t.test('YAML and JSON syntax errors, and JSON input', async (t) => {
  const yaml = parseDialPlan('rules: [ {name: a');
  t.equal(yaml.ok, false);
  if (!yaml.ok) t.match(yaml.errors[0], { rule: '(plan)', path: '', message: /^not valid YAML/ });
  const json = parseDialPlan('{"rules": [}', 'json');
  if (!json.ok) t.match(json.errors[0], { rule: '(plan)', message: /^not valid JSON/ });
  else t.fail('bad JSON accepted');
  const ok = parseDialPlan(JSON.stringify({ rules: [good] }), 'json');
  t.ok(ok.ok);
  const badRule = parseDialPlan('rules:\n  - name: noisy\n    match: { number: "_X." }\n    target: { type: reject, status: 800 }\n');
  t.same(badRule.ok ? [] : badRule.errors.map((e) => e.rule), ['noisy']);
});
