/** Short fuzz pass (the long one is bench/fuzz/run.ts): parse never throws, accepted messages round-trip. */
import fc from 'fast-check';
import t from 'tap';
import { parseMessageUnguarded } from '../../../../src/sip/message/parser.js';
import { roundTrip } from './helpers.js';
import { conformanceDir } from '../../../helpers/paths.js';
import { mutatedMessage, tortureSeeds, validMessage } from '../../../../bench/fuzz/mutations.js';
import { ESSENTIAL, INVITE } from './corpus.js';

const seeds = (): Buffer[] => [INVITE, ...Object.values(ESSENTIAL).map(([b]) => b), ...tortureSeeds(conformanceDir())];

t.test('generated valid messages parse and round-trip', async (t) => {
  fc.assert(
    fc.property(validMessage, (data) => {
      const r = parseMessageUnguarded(data);
      if (!r.ok) throw new Error('rejected: ' + r.error.reason + '\n' + data.toString('latin1'));
      const diff = roundTrip(r.message);
      if (diff !== undefined) throw new Error(diff);
    }),
    { numRuns: 2000 },
  );
  t.pass('2,000 generated messages');
});

t.test('mutated corpus: never throws; accepted messages are stable', async (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(mutatedMessage(seeds()), (data) => {
      const r = parseMessageUnguarded(data);
      if (!r.ok) {
        if (typeof r.error.reason !== 'string' || r.error.status < 400) throw new Error('bad error object');
        return;
      }
      accepted++;
      const diff = roundTrip(r.message);
      if (diff !== undefined) throw new Error(diff + '\n' + JSON.stringify(data.toString('latin1')));
      // the typed accessors must not throw either
      void [r.message.vias, r.message.contacts, r.message.routes, r.message.recordRoutes, r.message.expires, r.message.require, r.message.authorizations()];
    }),
    { numRuns: 18000 },
  );
  t.ok(accepted > 0, `${accepted} of 18,000 mutated messages were accepted and round-tripped`);
});
