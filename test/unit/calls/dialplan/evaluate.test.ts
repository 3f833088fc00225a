import t from 'tap';
import { MAX_PLAN_REENTRIES, compileDialPlan, evaluate, resumeAfterFailure, type DialPlan, type DialRequest } from '../../../../src/calls/dialplan/index.js';

function plan(rules: unknown[], extra: Record<string, unknown> = {}): DialPlan {
  const r = compileDialPlan({ ...extra, rules });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

const user = (name: string): { type: 'user'; user: string } => ({ type: 'user', user: `${name}@example.com` });

const hasLine = (trace: readonly string[], re: RegExp): boolean => trace.some((l) => re.test(l));

function request(number: string, extra: Partial<DialRequest> = {}): DialRequest {
  return { number, caller: '+4930111', source: 'internal', at: Date.parse('2026-06-01T12:00:00Z'), ...extra };
}

t.test('pattern precedence when several rules match', async (t) => {
  const p = plan([
    { name: 'catch-all', match: { number: '_X.' }, target: user('any') },
    { name: 'regex', match: { number: '/^49/' }, target: user('regex') },
    { name: 'short-prefix', match: { number: '_49.' }, target: user('short') },
    { name: 'fixed-length', match: { number: '_49XXXXX' }, target: user('fixed') },
    { name: 'long-prefix', match: { number: '_4930.' }, target: user('long') },
    { name: 'exact', match: { number: '4930123' }, target: user('exact') },
    { name: 'twin-a', match: { number: '_5XX' }, target: user('a') },
    { name: 'twin-b', match: { number: '_5NN' }, target: user('b') },
  ]);
  const cases: Array<[string, string]> = [
    ['4930123', 'exact'], // exact literal beats everything
    ['4930124', 'long-prefix'], // longest fixed prefix
    ['4940123', 'fixed-length'], // same prefix: fixed length beats '.'
    ['49401234', 'short-prefix'], // 8 digits: only the variable ones match
    ['123', 'catch-all'], // Asterisk pattern before a regex
    ['555', 'twin-a'], // equal specificity: list order
  ];
  for (const [number, rule] of cases) t.equal(evaluate(p, request(number)).matched?.rule, rule, number);
});

t.test('explicit priority beats specificity; lower first; unprioritised rules last', async (t) => {
  const p = plan([
    { name: 'exact', match: { number: '100' }, target: user('exact') },
    { name: 'p20', priority: 20, match: { number: '_1XX' }, target: user('p20') },
    { name: 'p10', priority: 10, match: { number: '_X.' }, target: user('p10'), when: [{ days: ['mon'] }] },
    { name: 'p20-exact', priority: 20, match: { number: '100' }, target: user('p20x') },
  ]);
  t.same(p.rules.map((r) => r.name), ['p10', 'p20-exact', 'p20', 'exact']);
  t.equal(evaluate(p, request('100')).matched?.rule, 'p10', 'Monday: priority 10');
  t.equal(evaluate(p, request('100', { at: Date.parse('2026-06-02T12:00:00Z') })).matched?.rule, 'p20-exact', 'Tuesday: same priority, more specific');
  t.equal(evaluate(p, request('101', { at: Date.parse('2026-06-02T12:00:00Z') })).matched?.rule, 'p20');
});

t.test('rules constraining caller, source or trunk come before equal ones that do not', async (t) => {
  const p = plan([
    { name: 'anyone', match: { number: '_8XX' }, target: user('anyone') },
    { name: 'vip', match: { number: '_8XX', caller: '_+4930.' }, target: user('vip') },
    { name: 'from-carrier', match: { number: '_8XX', trunk: 'carrier' }, target: user('carrier') },
    { name: 'from-trunks', match: { number: '_8XX', source: 'trunk' }, target: user('trunks') },
  ]);
  t.equal(evaluate(p, request('800')).matched?.rule, 'vip');
  t.equal(evaluate(p, request('800', { caller: '+4989111' })).matched?.rule, 'anyone');
  t.equal(evaluate(p, request('800', { caller: '+4989111', source: 'trunk', trunk: 'carrier' })).matched?.rule, 'from-carrier');
  t.equal(evaluate(p, request('800', { caller: '+4989111', source: 'trunk', trunk: 'other' })).matched?.rule, 'from-trunks');
  t.equal(evaluate(p, request('800', { caller: '', source: 'trunk' })).matched?.rule, 'from-trunks', 'anonymous caller matches no caller pattern');
});

t.test('rewriting the number and the caller', async (t) => {
  const p = plan([
    { name: 'strip-count', match: { number: '_9.' }, rewrite: { stripPrefix: 1 }, target: { type: 'trunk', trunk: 'pstn' } },
    { name: 'strip-literal', match: { number: '_*31*.' }, rewrite: { stripPrefix: '*31*', callerId: { replace: { pattern: '^.*$', with: 'anonymous' } } }, target: { type: 'trunk', trunk: 'pstn' } },
    { name: 'national', match: { number: '_0Z.' }, rewrite: { stripPrefix: 1, prepend: '+49', callerId: { stripPrefix: '+49', prepend: '0' } }, target: { type: 'trunk', trunk: 'pstn' } },
    { name: 'replace', match: { number: '/^00(\\d+)$/' }, rewrite: { replace: { pattern: '^00(\\d+)$', with: '+$1' } }, target: { type: 'trunk', trunk: 'pstn' } },
    { name: 'all-three', match: { number: '_8X.' }, rewrite: { stripPrefix: 1, replace: { pattern: '^(\\d)(\\d+)$', with: '$2$1' }, prepend: '+' }, target: { type: 'trunk', trunk: 'pstn' } },
    { name: 'regex-strip', match: { number: '/^7\\d*$/' }, rewrite: { stripPrefix: 1 }, target: { type: 'trunk', trunk: 'pstn' } },
  ]);
  const cases: Array<[string, string, string, string]> = [
    ['strip-count', '90301234567', '0301234567', '+4930111'],
    ['strip-literal', '*31*0301234567', '0301234567', 'anonymous'],
    ['national', '0301234567', '+49301234567', '030111'],
    ['replace', '0044207946', '+44207946', '+4930111'],
    ['all-three', '8123', '+231', '+4930111'],
  ];
  for (const [rule, dialled, number, caller] of cases) {
    const m = evaluate(p, request(dialled)).matched;
    t.same([m?.rule, m?.number, m?.caller], [rule, number, caller], rule);
  }
  const r = evaluate(p, request('7'));
  t.equal(r.matched, undefined, 'a rewrite that empties the number skips the rule at call time');
  t.ok(hasLine(r.trace, /rule "regex-strip": rewrite leaves nothing of '7'; rule skipped/));
  t.match(evaluate(p, request('90301234567')).trace.at(-1), /rewritten to number '0301234567', caller '\+4930111'/);
});

t.test('every target type, with placeholders filled', async (t) => {
  const p = plan([
    { name: 'user', match: { number: '_1XXX' }, target: { type: 'user', user: '${number}@example.com' } },
    { name: 'ring-sim', match: { number: '200' }, target: { type: 'ring-group', strategy: 'simultaneous', members: ['alice@example.com', 'bob@example.com'], ringSeconds: 20 } },
    { name: 'ring-seq', match: { number: '201' }, target: { type: 'ring-group', strategy: 'sequential', members: ['alice@example.com', 'ext-${caller}'] } },
    { name: 'trunk', match: { number: '_+.' }, target: { type: 'trunk', trunk: 'carrier-a', fallbackTrunks: ['carrier-b', 'carrier-c'] } },
    { name: 'vxml', match: { number: '300' }, target: { type: 'vxml', url: 'https://ivr.example.com/start.vxml?dnis=${number}&ani=${caller}' } },
    { name: 'voicemail', match: { number: '_*98X.' }, rewrite: { stripPrefix: 3 }, target: { type: 'voicemail', mailbox: '${number}' } },
    { name: 'reject', match: { number: '666' }, target: { type: 'reject', status: 403, reason: 'Barred' } },
    { name: 'reject-plain', match: { number: '667' }, target: { type: 'reject', status: 603 } },
    { name: 'alias', match: { number: '0' }, target: { type: 'number', number: '200' } },
  ]);
  const cases: Array<[string, string, unknown]> = [
    ['1234', 'user', { type: 'user', user: '1234@example.com' }],
    ['200', 'ring-sim', { type: 'ring-group', strategy: 'simultaneous', members: ['alice@example.com', 'bob@example.com'], ringSeconds: 20 }],
    ['201', 'ring-seq', { type: 'ring-group', strategy: 'sequential', members: ['alice@example.com', 'ext-+4930111'] }],
    ['+4930999', 'trunk', { type: 'trunk', trunk: 'carrier-a', fallbackTrunks: ['carrier-b', 'carrier-c'] }],
    ['300', 'vxml', { type: 'vxml', url: 'https://ivr.example.com/start.vxml?dnis=300&ani=%2B4930111' }],
    ['*981234', 'voicemail', { type: 'voicemail', mailbox: '1234' }],
    ['666', 'reject', { type: 'reject', status: 403, reason: 'Barred' }],
    ['667', 'reject-plain', { type: 'reject', status: 603 }],
    ['0', 'ring-sim', { type: 'ring-group', strategy: 'simultaneous', members: ['alice@example.com', 'bob@example.com'], ringSeconds: 20 }],
  ];
  for (const [number, rule, target] of cases) {
    const m = evaluate(p, request(number)).matched;
    t.equal(m?.rule, rule, `${number} → ${rule}`);
    t.same(m?.target, target, `${rule} target`);
  }
  const alias = evaluate(p, request('0'));
  t.same(alias.matched?.via, ['alias']);
  t.ok(hasLine(alias.trace, /rule "alias": matched number '0'/));
  t.ok(hasLine(alias.trace, /rule "alias": re-entering the plan with number '200'/));
  t.match(alias.trace.at(-1), /rule "ring-sim": matched number '200'/);
  t.equal(p.rules.find((r) => r.name === 'user')?.target.type, 'user', 'the compiled plan keeps the template');
  t.same(p.rules.find((r) => r.name === 'user')?.target, { type: 'user', user: '${number}@example.com' });
});

t.test('number targets: chains, rewrites between hops, and the loop guard', async (t) => {
  const chain = (length: number): DialPlan =>
    plan(Array.from({ length }, (_, i) => ({ name: `hop${i}`, match: { number: `${100 + i}` }, target: { type: 'number', number: `${101 + i}` } })).concat([
      { name: 'end', match: { number: '_1XX' }, target: { type: 'voicemail', mailbox: 'end' } } as never,
    ]));
  const ok = evaluate(chain(MAX_PLAN_REENTRIES), request('100'));
  t.equal(ok.matched?.rule, 'end', `${MAX_PLAN_REENTRIES} re-entries are allowed`);
  t.equal(ok.matched?.via.length, MAX_PLAN_REENTRIES);
  t.equal(ok.error, undefined);
  const tooLong = evaluate(chain(MAX_PLAN_REENTRIES + 1), request('100'));
  t.equal(tooLong.matched, undefined);
  t.equal(tooLong.error?.code, 'loop');
  t.match(tooLong.error?.message, /more than 5 re-entries: 100 → 101 → 102 → 103 → 104 → 105 → 106/);

  const cycle = plan([
    { name: 'a', match: { number: '100' }, target: { type: 'number', number: '200' } },
    { name: 'b', match: { number: '200' }, target: { type: 'number', number: '100' } },
  ]);
  const r = evaluate(cycle, request('100'));
  t.same(r.error, { code: 'loop', message: 'number loop: 100 → 200 → 100 (rules a, b)' });
  const self = evaluate(plan([{ name: 'self', match: { number: '_X.' }, target: { type: 'number', number: '${number}' } }]), request('55'));
  t.match(self.error, { code: 'loop', message: /number loop: 55 → 55/ });

  const rewritten = plan([
    { name: 'short', match: { number: '_5XX' }, rewrite: { prepend: '+4930123', callerId: { prepend: 'ext-' } }, target: { type: 'number', number: '${number}' } },
    { name: 'did', match: { number: '_+4930123XXX' }, target: { type: 'user', user: '${caller}' } },
  ]);
  const m = evaluate(rewritten, request('512', { caller: '42' })).matched;
  t.same([m?.rule, m?.number, m?.target, m?.via, m?.entered], ['did', '+4930123512', { type: 'user', user: 'ext-42' }, ['short'], { number: '+4930123512', caller: 'ext-42' }]);
});

t.test('source and trunk matching', async (t) => {
  const p = plan([
    { name: 'did-a', match: { number: '_+4930123.', trunk: 'carrier-a' }, target: user('a') },
    { name: 'internal-only', match: { number: '_+4930123.', source: 'internal' }, target: user('internal') },
  ]);
  t.equal(evaluate(p, request('+49301231', { source: 'trunk', trunk: 'carrier-a' })).matched?.rule, 'did-a');
  t.equal(evaluate(p, request('+49301231')).matched?.rule, 'internal-only');
  const none = evaluate(p, request('+49301231', { source: 'trunk', trunk: 'carrier-b' }));
  t.equal(none.matched, undefined);
  t.same(none.trace, [
    `rule "did-a": inbound trunk "carrier-b" is not 'carrier-a'`,
    `rule "internal-only": source 'trunk' is not 'internal'`,
    `no rule matches number '+49301231'`,
  ]);
});

t.test('continueOnFailure: resume after a failed target', async (t) => {
  const p = plan([
    { name: 'desk', match: { number: '100' }, target: user('desk'), continueOnFailure: true },
    { name: 'mobile', match: { number: '_1XX' }, target: { type: 'trunk', trunk: 'gsm' }, continueOnFailure: true },
    { name: 'mailbox', match: { number: '_1.' }, target: { type: 'voicemail', mailbox: '100' } },
    { name: 'last', match: { number: '_X.' }, target: { type: 'reject', status: 480 } },
  ]);
  const req = request('100');
  const first = evaluate(p, req);
  t.equal(first.matched?.rule, 'desk');
  t.equal(first.matched?.continueOnFailure, true);
  const second = evaluate(p, resumeAfterFailure(req, first.matched!));
  t.equal(second.matched?.rule, 'mobile');
  t.equal(second.trace[0], 'resuming after rule "desk"');
  const third = evaluate(p, resumeAfterFailure(req, second.matched!));
  t.equal(third.matched?.rule, 'mailbox');
  t.equal(third.matched?.continueOnFailure, false);
  const fourth = evaluate(p, resumeAfterFailure(req, third.matched!));
  t.equal(fourth.matched, undefined, 'a rule without continueOnFailure ends the search');
  t.ok(hasLine(fourth.trace, /rule "mailbox" does not continue on failure/));
  const unknown = evaluate(p, { ...req, after: 'nope' });
  t.equal(unknown.error?.code, 'unknown-rule');
});

t.test('evaluation is pure: the same request gives the same result, the plan is untouched', async (t) => {
  const p = plan([{ name: 'u', match: { number: '_X.' }, target: { type: 'ring-group', strategy: 'sequential', members: ['${number}'] } }]);
  const before = JSON.stringify(p.rules.map((r) => r.target));
  const a = evaluate(p, request('42'));
  const b = evaluate(p, request('42'));
  t.same(a, b);
  t.equal(JSON.stringify(p.rules.map((r) => r.target)), before);
});
