import t from 'tap';
import { createResponse, parseMessage, type SipRequest } from '../../../../src/sip/message/index.js';
import { selectBestResponse } from '../../../../src/sip/proxy/index.js';
import { invite } from './harness.js';

const req = (() => {
  const r = parseMessage(Buffer.from(invite().replace(/\n/g, '\r\n')));
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture');
  return r.message as SipRequest;
})();

t.test('§16.7 item 6 best response', async (t) => {
  const r = (s: number) => createResponse(req, s, undefined, { toTag: 'x' });
  t.equal(selectBestResponse([], req).status, 408, 'none: 408');
  t.equal(selectBestResponse([r(486), r(603), r(302)], req).status, 603, '6xx wins');
  t.equal(selectBestResponse([r(486), r(302)], req).status, 302, 'lowest class');
  t.equal(selectBestResponse([r(404), r(407)], req).status, 407, 'preferred 4xx');
  t.equal(selectBestResponse([r(503)], req).status, 500, '503 becomes 500');
});
