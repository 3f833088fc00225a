import t from 'tap';
import { compileDialPlan, evaluate, localTime, type DialPlan } from '../../../../src/calls/dialplan/index.js';

const at = (iso: string): number => Date.parse(iso);

function planWhen(when: unknown[], timezone = 'UTC'): DialPlan {
  const r = compileDialPlan({
    timezone,
    rules: [
      { name: 'timed', match: { number: '_X.' }, when, target: { type: 'user', user: 'day@example.com' } },
      { name: 'fallback', match: { number: '_X.' }, target: { type: 'voicemail', mailbox: 'main' } },
    ],
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

function ruleAt(plan: DialPlan, iso: string): string | undefined {
  return evaluate(plan, { number: '100', caller: '200', source: 'internal', at: at(iso) }).matched?.rule;
}

t.test('localTime follows the zone rules, DST included', async (t) => {
  t.same(localTime(at('2026-03-29T00:59:00Z'), 'Europe/Berlin'), { date: '2026-03-29', weekday: 0, minutes: 1 * 60 + 59 });
  t.same(localTime(at('2026-03-29T01:00:00Z'), 'Europe/Berlin'), { date: '2026-03-29', weekday: 0, minutes: 3 * 60 });
  t.same(localTime(at('2026-11-01T05:59:00Z'), 'America/New_York'), { date: '2026-11-01', weekday: 0, minutes: 1 * 60 + 59 });
  t.same(localTime(at('2026-11-01T06:00:00Z'), 'America/New_York'), { date: '2026-11-01', weekday: 0, minutes: 1 * 60 });
  t.same(localTime(at('2026-12-31T23:30:00Z'), 'Asia/Tokyo'), { date: '2027-01-01', weekday: 5, minutes: 8 * 60 + 30 });
  t.same(localTime(at('2026-07-01T00:00:00Z'), 'UTC'), { date: '2026-07-01', weekday: 3, minutes: 0 });
});

t.test('business hours in Europe/Berlin across the spring DST change', async (t) => {
  const plan = planWhen([{ days: ['mon-fri'], from: '09:00', to: '17:00', timezone: 'Europe/Berlin' }]);
  const cases: Array<[string, string]> = [
    ['2026-03-27T07:59:00Z', 'fallback'], // Fri 08:59 CET
    ['2026-03-27T08:00:00Z', 'timed'], // Fri 09:00 CET
    ['2026-03-27T15:59:00Z', 'timed'], // Fri 16:59 CET
    ['2026-03-27T16:00:00Z', 'fallback'], // Fri 17:00 CET: 'to' is exclusive
    ['2026-03-28T10:00:00Z', 'fallback'], // Saturday
    ['2026-03-30T06:59:00Z', 'fallback'], // Mon 08:59 CEST
    ['2026-03-30T07:00:00Z', 'timed'], // Mon 09:00 CEST (one hour earlier in UTC)
    ['2026-03-30T14:59:00Z', 'timed'],
    ['2026-03-30T15:00:00Z', 'fallback'], // Mon 17:00 CEST
  ];
  for (const [instant, rule] of cases) t.equal(ruleAt(plan, instant), rule, instant);
});

t.test('the skipped and the repeated hour of DST change days', async (t) => {
  const spring = planWhen([{ days: ['sun'], from: '02:00', to: '03:00', timezone: 'Europe/Berlin' }]);
  for (const instant of ['2026-03-29T00:30:00Z', '2026-03-29T00:59:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z']) {
    t.equal(ruleAt(spring, instant), 'fallback', `02:00–03:00 never happens on 2026-03-29 (${instant})`);
  }
  t.equal(ruleAt(spring, '2026-04-05T00:30:00Z'), 'timed', 'a week later it does (02:30 CEST)');
  const autumn = planWhen([{ from: '02:00', to: '03:00', timezone: 'Europe/Berlin' }]);
  t.equal(ruleAt(autumn, '2026-10-25T00:30:00Z'), 'timed', 'first 02:30 (CEST)');
  t.equal(ruleAt(autumn, '2026-10-25T01:30:00Z'), 'timed', 'second 02:30 (CET)');
  t.equal(ruleAt(autumn, '2026-10-25T02:00:00Z'), 'fallback', '03:00 CET');
});

t.test('overnight range in America/New_York belongs to the day it starts', async (t) => {
  const plan = planWhen([{ days: ['mon-fri'], from: '18:00', to: '08:00', timezone: 'America/New_York' }]);
  const cases: Array<[string, string, string]> = [
    ['2026-03-06T22:59:00Z', 'fallback', 'Fri 17:59 EST'],
    ['2026-03-06T23:00:00Z', 'timed', 'Fri 18:00 EST'],
    ['2026-03-07T12:59:00Z', 'timed', 'Sat 07:59 EST, tail of Friday night'],
    ['2026-03-07T13:00:00Z', 'fallback', 'Sat 08:00 EST'],
    ['2026-03-07T23:00:00Z', 'fallback', 'Sat 18:00: Saturday night is not listed'],
    ['2026-03-08T11:59:00Z', 'fallback', 'Sun 07:59 EDT (DST day), tail of Saturday'],
    ['2026-03-09T11:59:00Z', 'fallback', 'Mon 07:59 EDT, tail of Sunday'],
    ['2026-03-09T21:59:00Z', 'fallback', 'Mon 17:59 EDT'],
    ['2026-03-09T22:00:00Z', 'timed', 'Mon 18:00 EDT'],
    ['2026-03-10T11:59:00Z', 'timed', 'Tue 07:59 EDT, tail of Monday'],
    ['2026-03-10T12:00:00Z', 'fallback', 'Tue 08:00 EDT'],
  ];
  for (const [instant, rule, why] of cases) t.equal(ruleAt(plan, instant), rule, why);
});

t.test('overnight range across the Australia/Sydney autumn change', async (t) => {
  const plan = planWhen([{ from: '22:00', to: '06:00' }], 'Australia/Sydney');
  t.equal(ruleAt(plan, '2026-04-04T10:59:00Z'), 'fallback', 'Sat 21:59 AEDT');
  t.equal(ruleAt(plan, '2026-04-04T11:00:00Z'), 'timed', 'Sat 22:00 AEDT');
  t.equal(ruleAt(plan, '2026-04-04T15:30:00Z'), 'timed', 'Sun 02:30 AEDT, before the change');
  t.equal(ruleAt(plan, '2026-04-04T19:59:00Z'), 'timed', 'Sun 05:59 AEST');
  t.equal(ruleAt(plan, '2026-04-04T20:00:00Z'), 'fallback', 'Sun 06:00 AEST');
});

t.test('from only, to only, 24:00 and day ranges that wrap', async (t) => {
  const evening = planWhen([{ from: '20:00' }]);
  t.equal(ruleAt(evening, '2026-06-01T19:59:00Z'), 'fallback');
  t.equal(ruleAt(evening, '2026-06-01T23:59:00Z'), 'timed');
  const morning = planWhen([{ to: '06:00' }]);
  t.equal(ruleAt(morning, '2026-06-01T05:59:00Z'), 'timed');
  t.equal(ruleAt(morning, '2026-06-01T06:00:00Z'), 'fallback');
  const late = planWhen([{ from: '12:00', to: '24:00' }]);
  t.equal(ruleAt(late, '2026-06-01T23:59:00Z'), 'timed');
  t.equal(ruleAt(late, '2026-06-02T00:00:00Z'), 'fallback');
  const weekend = planWhen([{ days: ['Fri-Mon'] }]); // 2026-06-05 is a Friday
  const days = ['2026-06-04', '2026-06-05', '2026-06-06', '2026-06-07', '2026-06-08', '2026-06-09'].map((d) => ruleAt(weekend, `${d}T12:00:00Z`));
  t.same(days, ['fallback', 'timed', 'timed', 'timed', 'timed', 'fallback']);
  const list = planWhen([{ days: ['tue', 'thu'] }]);
  t.same(['2026-06-02', '2026-06-03', '2026-06-04'].map((d) => ruleAt(list, `${d}T12:00:00Z`)), ['timed', 'fallback', 'timed']);
});

t.test('holidays: dates in the zone, negated conditions exclude, positive ones are alternatives', async (t) => {
  const plan = planWhen([
    { days: ['mon-fri'], from: '09:00', to: '17:00' },
    { days: ['sat'], from: '10:00', to: '12:00' },
    { dates: ['2026-12-24/2026-12-26', '2027-01-01'], negate: true },
  ], 'Europe/Berlin');
  t.equal(ruleAt(plan, '2026-12-23T10:00:00Z'), 'timed', 'Wednesday before Christmas');
  t.equal(ruleAt(plan, '2026-12-24T10:00:00Z'), 'fallback', 'Christmas Eve (Thursday) is excluded');
  t.equal(ruleAt(plan, '2026-12-26T10:00:00Z'), 'fallback', 'Boxing Day (Saturday morning) is excluded');
  t.equal(ruleAt(plan, '2026-12-19T10:00:00Z'), 'timed', 'an ordinary Saturday 11:00 CET');
  t.equal(ruleAt(plan, '2026-12-19T12:00:00Z'), 'fallback', 'Saturday 13:00 CET');
  t.equal(ruleAt(plan, '2027-01-01T10:00:00Z'), 'fallback', 'New Year (Friday)');
  const onlyHoliday = planWhen([{ dates: ['2027-01-01'], timezone: 'Europe/Berlin' }]);
  t.equal(ruleAt(onlyHoliday, '2026-12-31T23:30:00Z'), 'timed', 'already 1 January in Berlin');
  t.equal(ruleAt(planWhen([{ dates: ['2027-01-01'] }]), '2026-12-31T23:30:00Z'), 'fallback', 'still 31 December in UTC');
  const onlyExclusion = planWhen([{ days: ['sun'], negate: true }]);
  t.equal(ruleAt(onlyExclusion, '2026-06-07T12:00:00Z'), 'fallback', 'Sunday excluded');
  t.equal(ruleAt(onlyExclusion, '2026-06-08T12:00:00Z'), 'timed', 'a lone exclusion allows every other time');
});

t.test('yearly dates, also across the year end', async (t) => {
  const plan = planWhen([{ dates: ['12-24/01-01', '05-01', '02-29'] }], 'Europe/Berlin');
  const cases: Array<[string, string]> = [
    ['2026-12-23T12:00:00Z', 'fallback'],
    ['2026-12-24T12:00:00Z', 'timed'],
    ['2027-12-31T12:00:00Z', 'timed'],
    ['2028-01-01T12:00:00Z', 'timed'],
    ['2028-01-02T12:00:00Z', 'fallback'],
    ['2030-05-01T12:00:00Z', 'timed'],
    ['2030-04-30T22:30:00Z', 'timed'], // already 1 May in Berlin
    ['2028-02-29T12:00:00Z', 'timed'],
    ['2028-03-01T12:00:00Z', 'fallback'],
  ];
  for (const [instant, rule] of cases) t.equal(ruleAt(plan, instant), rule, instant);
});

t.test('the trace says why a time condition failed', async (t) => {
  const plan = planWhen([{ days: ['mon-fri'], from: '09:00', to: '17:00', timezone: 'Europe/Berlin' }]);
  const r = evaluate(plan, { number: '100', caller: '200', source: 'internal', at: at('2026-03-28T10:00:00Z') });
  t.match(r.trace[0], /rule "timed": number '100' matches _X\. but the time is outside \[mon-fri 09:00-17:00 Europe\/Berlin\]/);
  const holiday = planWhen([{ dates: ['2026-12-25'], negate: true }]);
  t.match(evaluate(holiday, { number: '12', caller: '', source: 'internal', at: at('2026-12-25T12:00:00Z') }).trace[0], /excluded by \[not 2026-12-25 UTC\]/);
});
