import t from 'tap';
import { ANONYMOUS_FROM, identityUri, parseCallerIdentity, presentCallerId, type CallerIdRequest } from '../../../../src/calls/numbering/index.js';

const base: CallerIdRequest = { number: '+4930123456', displayName: 'Alice Smith', privacy: 'none', trusted: true, style: 'pai', domain: 'pbx.example.com' };
const ID = '"Alice Smith" <sip:+4930123456@pbx.example.com;user=phone>';

t.test('identity URIs', async (t) => {
  t.equal(identityUri('+4930123456', 'example.com'), 'sip:+4930123456@example.com;user=phone');
  t.equal(identityUri('2001', 'example.com'), 'sip:2001@example.com');
  t.equal(identityUri('*31#', 'example.com'), 'sip:*31%23@example.com');
});

t.test('presentation: every privacy × trust × style combination', async (t) => {
  const cases: Array<[Partial<CallerIdRequest>, string, Array<[string, string]>]> = [
    // privacy none: the identity everywhere, trusted or not (RFC 3325 §5 strips PAI only for Privacy: id)
    [{ style: 'pai', trusted: true }, ID, [['P-Asserted-Identity', ID]]],
    [{ style: 'pai', trusted: false }, ID, [['P-Asserted-Identity', ID]]],
    [{ style: 'rpid', trusted: true }, ID, [['Remote-Party-ID', `${ID};party=calling;screen=yes;privacy=off`]]],
    [{ style: 'both', trusted: false }, ID, [['P-Asserted-Identity', ID], ['Remote-Party-ID', `${ID};party=calling;screen=yes;privacy=off`]]],
    // privacy id: anonymous From; the identity only to a trusted hop
    [{ privacy: 'id', style: 'pai', trusted: true }, ANONYMOUS_FROM, [['P-Asserted-Identity', ID], ['Privacy', 'id']]],
    [{ privacy: 'id', style: 'pai', trusted: false }, ANONYMOUS_FROM, [['Privacy', 'id']]],
    [{ privacy: 'id', style: 'rpid', trusted: true }, ANONYMOUS_FROM, [['Remote-Party-ID', `${ID};party=calling;screen=yes;privacy=full`], ['Privacy', 'id']]],
    [{ privacy: 'id', style: 'rpid', trusted: false }, ANONYMOUS_FROM, [['Privacy', 'id']]],
    [{ privacy: 'id', style: 'both', trusted: true }, ANONYMOUS_FROM, [['P-Asserted-Identity', ID], ['Remote-Party-ID', `${ID};party=calling;screen=yes;privacy=full`], ['Privacy', 'id']]],
    // privacy full: also user- and header-level privacy (RFC 3323 §4.2)
    [{ privacy: 'full', style: 'pai', trusted: true }, ANONYMOUS_FROM, [['P-Asserted-Identity', ID], ['Privacy', 'user;header;id']]],
    [{ privacy: 'full', style: 'both', trusted: false }, ANONYMOUS_FROM, [['Privacy', 'user;header;id']]],
  ];
  for (const [over, from, headers] of cases) {
    const req = { ...base, ...over };
    t.same(presentCallerId(req), { from, headers }, `privacy=${req.privacy} trusted=${req.trusted} style=${req.style}`);
  }
  t.equal(ANONYMOUS_FROM, '"Anonymous" <sip:anonymous@anonymous.invalid>', 'RFC 3323 §4.1.1.3');
});

t.test('display names are quoted and escaped; none gives a bare URI', async (t) => {
  t.equal(presentCallerId({ ...base, displayName: 'Bob "The Builder" \\o/' }).from, '"Bob \\"The Builder\\" \\\\o/" <sip:+4930123456@pbx.example.com;user=phone>');
  const { displayName: _omit, ...noName } = base;
  t.equal(presentCallerId(noName).from, '<sip:+4930123456@pbx.example.com;user=phone>');
  t.equal(presentCallerId({ ...base, displayName: '' }).from, '<sip:+4930123456@pbx.example.com;user=phone>');
});

t.test('reading the caller from a trusted trunk', async (t) => {
  const cases: Array<[string, Parameters<typeof parseCallerIdentity>[0], object]> = [
    [
      'PAI wins over RPID and From',
      { from: '"Anonymous" <sip:anonymous@anonymous.invalid>', pAssertedIdentity: ['"Carol" <sip:+15551234567@carrier.example;user=phone>'], remotePartyId: ['<sip:+19999999999@x>;party=calling;screen=yes'], privacy: ['id'] },
      { number: '+15551234567', displayName: 'Carol', privacy: 'id', privacyTokens: ['id'], source: 'pai', verified: true },
    ],
    [
      'PAI with sip and tel values prefers the tel number',
      { pAssertedIdentity: ['<sip:carol@carrier.example>, "Carol" <tel:+1-555-123-4567>'] },
      { number: '+15551234567', displayName: 'Carol', source: 'pai', privacy: 'none' },
    ],
    [
      'PAI values on separate header lines',
      { pAssertedIdentity: ['<sip:2001@pbx.example.com>', '<tel:+4930123456>'] },
      { number: '+4930123456', source: 'pai' },
    ],
    [
      'RPID when there is no PAI, screen=yes',
      { from: '<sip:+4930999@gw>', remotePartyId: ['"Dave" <sip:+4930111@gw>;party=calling;screen=yes;privacy=off'] },
      { number: '+4930111', displayName: 'Dave', source: 'rpid', verified: true, privacy: 'none' },
    ],
    [
      'RPID privacy=full and screen=no',
      { remotePartyId: ['"Dave" <sip:+4930111@gw>;party=calling;screen=no;privacy=full'] },
      { number: '+4930111', source: 'rpid', verified: false, privacy: 'full' },
    ],
    [
      'RPID privacy=uri hides the number, privacy=name hides the name',
      { remotePartyId: ['"Dave" <sip:+4930111@gw>;privacy=uri'] },
      { number: '+4930111', displayName: 'Dave', privacy: 'id' },
    ],
    [
      'RPID privacy=name',
      { remotePartyId: ['"Dave" <sip:+4930111@gw>;privacy=name'] },
      { number: '+4930111', displayName: undefined, privacy: 'none' },
    ],
    [
      'RPID of the called party is not the caller',
      { from: '"Eve" <sip:+4930222@gw>', remotePartyId: ['<sip:+4930333@gw>;party=called'] },
      { number: '+4930222', displayName: 'Eve', source: 'from', verified: false },
    ],
    [
      'Privacy header tokens: header/user/session mean full',
      { from: '<sip:+4930222@gw>', privacy: ['header; id', 'critical'] },
      { privacy: 'full', privacyTokens: ['header', 'id', 'critical'] },
    ],
    [
      'Privacy: none',
      { from: '<sip:+4930222@gw>', privacy: ['none'] },
      { privacy: 'none', privacyTokens: ['none'] },
    ],
  ];
  for (const [what, headers, expected] of cases) t.match(parseCallerIdentity(headers, true), expected, what);
});

t.test('an untrusted source: PAI and RPID are ignored, From is unverified, privacy still honoured', async (t) => {
  const spoofed = { from: '"Mallory" <sip:+4930444@evil.example>', pAssertedIdentity: ['<sip:+4930123456@bank.example>'], remotePartyId: ['<sip:+4930123456@bank.example>;screen=yes'], privacy: ['id'] };
  t.same(parseCallerIdentity(spoofed, false), { number: '+4930444', displayName: 'Mallory', privacy: 'id', privacyTokens: ['id'], source: 'from', verified: false, preferred: undefined });
  t.same(parseCallerIdentity({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>' }, false), {
    number: undefined,
    displayName: undefined,
    privacy: 'id',
    privacyTokens: [],
    source: 'none',
    verified: false,
    preferred: undefined,
  });
  t.match(parseCallerIdentity({ from: '<sip:anonymous@pbx.example.com>' }, false), { number: undefined, privacy: 'id' });
  t.match(parseCallerIdentity({ from: '<tel:+1-212-555-1234>' }, false), { number: '+12125551234', source: 'from' });
  t.match(parseCallerIdentity({ from: '<sip:%2B4930123@gw>' }, false), { number: '+4930123' });
  t.match(parseCallerIdentity({ from: '<sip:+4930123;isub=12@gw;user=phone>' }, false), { number: '+4930123' });
  t.match(parseCallerIdentity({ from: 'not a header' }, false), { number: undefined, source: 'none', privacy: 'none' });
  t.match(parseCallerIdentity({}, true), { number: undefined, source: 'none' });
});

t.test('P-Preferred-Identity is reported, never trusted', async (t) => {
  const r = parseCallerIdentity({ from: '<sip:2001@pbx.example.com>', pPreferredIdentity: ['<sip:2001@pbx.example.com>, <tel:+4930123456>'] }, true);
  t.match(r, { number: '2001', source: 'from', verified: false, preferred: '+4930123456' });
});

t.test('presentation read back by a trusted peer gives the same caller', async (t) => {
  for (const privacy of ['none', 'id', 'full'] as const) {
    const out = presentCallerId({ ...base, privacy, style: 'both' });
    const headerValues = (name: string): string[] => out.headers.filter(([n]) => n === name).map(([, v]) => v);
    const back = parseCallerIdentity({ from: out.from, pAssertedIdentity: headerValues('P-Asserted-Identity'), remotePartyId: headerValues('Remote-Party-ID'), privacy: headerValues('Privacy') }, true);
    t.match(back, { number: '+4930123456', displayName: 'Alice Smith', privacy, verified: true }, privacy);
  }
});
