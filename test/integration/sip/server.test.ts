/** The SIP server core on a real UDP socket: §8.2 checks, CANCEL, parse errors, retransmissions. */
import t from 'tap';
import { SystemScheduler } from '../../../src/lib/index.js';
import { SipServer } from '../../../src/sip/index.js';
import { statusOf, udpExchange } from '../../helpers/sip-client.js';

const HOST = '127.0.0.1';

function req(method: string, port: number, lp: number, opts: { branch?: string; extra?: string; cseqMethod?: string; to?: string } = {}): Buffer {
  // OPTIONS for the server itself has no user part (one for a user would be relayed by a proxy)
  const target = method === 'OPTIONS' ? `${HOST}:${port}` : `svc@${HOST}:${port}`;
  return Buffer.from(
    `${method} sip:${target} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${lp};branch=${opts.branch ?? 'z9hG4bK' + Math.random().toString(36).slice(2)}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:t@${HOST}>;tag=t1\r\nTo: <sip:svc@${HOST}>${opts.to ?? ''}\r\nCall-ID: ${Math.random().toString(36)}\r\n` +
      `CSeq: 1 ${opts.cseqMethod ?? method}\r\n${opts.extra ?? ''}Content-Length: 0\r\n\r\n`,
  );
}

t.test('SipServer answers per RFC 3261 §8.2', async (t) => {
  const server = new SipServer({ listeners: [{ protocol: 'udp', address: HOST, port: 0 }], scheduler: new SystemScheduler(), timers: { t1: 50 } });
  const [l] = await server.start();
  t.teardown(() => server.shutdown(0));
  const port = l!.port;
  const one = async (build: (lp: number) => Buffer) => {
    const got = await udpExchange(HOST, port, build, { until: (m) => m.some((x) => (statusOf(x) ?? 0) >= 200), waitMs: 2000 });
    return got.map((b) => b.toString());
  };

  const options = await one((lp) => req('OPTIONS', port, lp));
  t.equal(statusOf(options[0] ?? ''), 200, 'OPTIONS: 200');
  t.match(options[0] ?? '', /\r\nAllow: [^\r]*OPTIONS/, 'with Allow');
  t.match(options[0] ?? '', /\r\nAccept: application\/sdp/, 'with Accept');

  const invite = await one((lp) => req('INVITE', port, lp));
  t.equal(statusOf(invite.at(-1) ?? ''), 405, 'INVITE with no service for it: 405');
  t.match(invite.at(-1) ?? '', /\r\nAllow: /, 'with Allow');

  const unknown = await one((lp) => req('FROBNICATE', port, lp));
  t.equal(statusOf(unknown[0] ?? ''), 501, 'unknown method: 501');

  const require = await one((lp) => req('OPTIONS', port, lp, { extra: 'Require: com.example.nothing\r\n' }));
  t.equal(statusOf(require[0] ?? ''), 420, 'Require of an unknown extension: 420');
  t.match(require[0] ?? '', /\r\nUnsupported: com\.example\.nothing\r\n/, 'listed in Unsupported');

  const cancel = await one((lp) => req('CANCEL', port, lp));
  t.equal(statusOf(cancel[0] ?? ''), 481, 'CANCEL matching no INVITE: 481');

  const mismatch = await one((lp) => req('OPTIONS', port, lp, { cseqMethod: 'INVITE' }));
  t.equal(statusOf(mismatch[0] ?? ''), 400, 'CSeq method mismatch: 400');
  t.match(mismatch[0] ?? '', /^SIP\/2\.0 400 \S/, 'with a reason phrase saying why');

  const inDialog = await one((lp) => req('OPTIONS', port, lp, { to: ';tag=nosuchdialog' }));
  t.ok([200, 481].includes(statusOf(inDialog[0] ?? '') ?? 0), `in-dialog OPTIONS gets an answer (${statusOf(inDialog[0] ?? '')})`);

  // a retransmitted INVITE is absorbed by its transaction and answered with the same response
  const branch = 'z9hG4bKretrans1';
  const both = await udpExchange(
    HOST,
    port,
    (lp) => {
      const b = req('INVITE', port, lp, { branch });
      return Buffer.concat([b]);
    },
    { waitMs: 300 },
  );
  t.ok(both.length >= 1, 'the INVITE was answered');
  t.equal(server.activeTransactions >= 1, true, 'its transaction is alive (waiting for the ACK)');
});
