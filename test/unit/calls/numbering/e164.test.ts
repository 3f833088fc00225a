import t from 'tap';
import { formatForTrunk, normalizeE164, type NumberingContext } from '../../../../src/calls/numbering/index.js';

const US: NumberingContext = { countryCode: '1' };
const UK: NumberingContext = { countryCode: '44' };
const DE: NumberingContext = { countryCode: '49' };
const IT: NumberingContext = { countryCode: '39', nationalPrefix: '' };

t.test('written forms that normalise', async (t) => {
  const cases: Array<[NumberingContext, string, string]> = [
    // United States (NANP)
    [US, '+1 (212) 555-1234', '+12125551234'],
    [US, '(212) 555-1234', '+12125551234'],
    [US, '212.555.1234', '+12125551234'],
    [US, '1-212-555-1234', '+12125551234'],
    [US, '1 212 555 1234', '+12125551234'],
    [US, '  2125551234  ', '+12125551234'],
    [US, '011 44 20 7946 0018', '+442079460018'],
    [US, '011-49-30-1234567', '+49301234567'],
    [US, 'tel:+1-212-555-1234', '+12125551234'],
    [US, 'TEL:+1.212.555.1234', '+12125551234'],
    [US, 'sip:+12125551234@carrier.example;user=phone', '+12125551234'],
    [US, 'sip:2125551234@pbx.example', '+12125551234'],
    [US, 'tel:5551234;phone-context=+1-212', '+12125551234'],
    // United Kingdom
    [UK, '020 7946 0018', '+442079460018'],
    [UK, '(020) 7946-0018', '+442079460018'],
    [UK, '+44 20 7946 0018', '+442079460018'],
    [UK, '+44 (0)20 7946 0018', '+442079460018'],
    [UK, '0044 20 7946 0018', '+442079460018'],
    [UK, '07700 900123', '+447700900123'],
    [UK, '01632 960001', '+441632960001'],
    [UK, 'tel:02079460018;phone-context=+44', '+442079460018'],
    [UK, '00 1 212 555 1234', '+12125551234'],
    // Germany
    [DE, '030 1234567', '+49301234567'],
    [DE, '030/123 45 67', '+49301234567'],
    [DE, '030-123 456-7', '+49301234567'],
    [DE, '+49 (30) 1234567', '+49301234567'],
    [DE, '+49 (0)30 1234567', '+49301234567'],
    [DE, '0049 30 1234567', '+49301234567'],
    [DE, '089 123456', '+4989123456'],
    [DE, '0151 23456789', '+4915123456789'],
    [DE, 'tel:1234567;phone-context=+49-30', '+49301234567'],
    [DE, 'tel:+49-30-1234567', '+49301234567'],
    [DE, 'sips:030123456@pbx.example.de', '+4930123456'],
    [DE, 'sip:030%2F1234567@pbx.example.de', '+49301234567'],
    [DE, 'tel:0301234567;phone-context=+49', '+49301234567'],
    [DE, 'tel:0301234567;phone-context=example.com', '+49301234567'],
    // no national prefix (Italy keeps its leading 0)
    [IT, '06 1234 5678', '+390612345678'],
    [IT, '+39 06 1234 5678', '+390612345678'],
  ];
  for (const [ctx, input, e164] of cases) t.same(normalizeE164(input, ctx), { ok: true, e164 }, `+${ctx.countryCode}: ${input}`);
});

t.test('written forms that are refused, with a reason', async (t) => {
  const cases: Array<[NumberingContext, string, RegExp]> = [
    [US, '555-1234', /area code is missing/],
    [US, '911', /too short/],
    [US, '1-800-FLOWERS', /letters/],
    [US, '212-555-1234 x123', /extension/],
    [US, '212 555 1234 ext. 5', /extension/],
    [US, '(212) 555-1234 #22', /extension/],
    [US, '(212) 055-1234', /NANP numbers have 10 digits/],
    [US, '+1 212 555 12345', /NANP/],
    [US, 'tel:+1-212-555-1234;ext=22', /extension/],
    [US, 'sip:pbx.example.com', /no user part/],
    [US, 'sip:alice@pbx.example.com', /letters/],
    [US, '', /empty/],
    [US, '212_555_1234', /not digits/],
    [UK, '999', /area code is unknown|too short/],
    [UK, '2079460018', /neither '\+', the international prefix '00' nor the national prefix '0'/],
    [UK, '020 794 600', /UK numbers have 9 or 10 digits/],
    [UK, '+44 0 20 7946 0018', /UK numbers/],
    [DE, '01', /too short/],
    [DE, '030 1234 5678 9012 34', /too long/],
    [DE, '+0049301234567', /never starts with 0/],
    [DE, 'sip:%ZZ@host', /bad %-escape|not digits/],
    [DE, 'tel:123;phone-context=+4x', /bad phone-context/],
    [{ countryCode: 'x' }, '030 1234567', /bad country code/],
  ];
  for (const [ctx, input, reason] of cases) {
    const r = normalizeE164(input, ctx);
    t.equal(r.ok, false, `+${ctx.countryCode}: '${input}' refused`);
    if (!r.ok) t.match(r.reason, reason, `+${ctx.countryCode}: '${input}' reason`);
  }
});

t.test('formatForTrunk writes E.164 the way a trunk wants it', async (t) => {
  const cases: Array<[string, Parameters<typeof formatForTrunk>[1], NumberingContext, string]> = [
    ['+49301234567', 'e164', DE, '+49301234567'],
    ['+49301234567', 'digits-only', DE, '49301234567'],
    ['+49301234567', 'international-00', DE, '0049301234567'],
    ['+49301234567', 'national', DE, '0301234567'],
    ['+12125551234', 'national', DE, '0012125551234'],
    ['+12125551234', 'national', US, '12125551234'],
    ['+12125551234', 'national', { countryCode: '1', nationalPrefix: '' }, '2125551234'],
    ['+442079460018', 'international-00', US, '011442079460018'],
    ['+442079460018', 'national', UK, '02079460018'],
    ['+390612345678', 'national', IT, '0612345678'],
  ];
  for (const [e164, style, ctx, number] of cases) t.same(formatForTrunk(e164, style, ctx), { ok: true, number }, `${e164} ${style} in +${ctx.countryCode}`);
  for (const bad of ['4930123', '+0123', '+49 30 123', '+1234567890123456']) {
    const r = formatForTrunk(bad, 'e164', DE);
    t.equal(r.ok, false, `'${bad}' is not E.164`);
  }
});

t.test('normalise then format round-trips', async (t) => {
  for (const [ctx, written] of [[DE, '030 1234567'], [UK, '07700 900123'], [US, '(212) 555-1234']] as const) {
    const n = normalizeE164(written, ctx);
    if (!n.ok) throw new Error(n.reason);
    const national = formatForTrunk(n.e164, 'national', ctx);
    if (!national.ok) throw new Error(national.reason);
    t.same(normalizeE164(national.number, ctx), n, written);
  }
});
