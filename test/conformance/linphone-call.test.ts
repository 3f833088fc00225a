/**
 * linphone-cli (linphonec, liblinphone 5.1) registers with `opencx start` over UDP and calls a
 * Debian baresip user (auto-answer) through opencx's proxy; both phones report the established
 * call, linphone hangs up and baresip sees the BYE.
 *
 * The server offers MD5 only (OPENCX_SIP__AUTH_ALGORITHMS=MD5) because the callee is baresip 1.0,
 * whose libre 1.1 cannot answer a challenge list that also names SHA-256 (see baresip-call.test.ts).
 */
import t from 'tap';
import { runOpencx, startOpencx } from '../helpers/opencx-process.js';
import { baresipAvailable, BARESIP_BIN, startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import { linphoneAvailable, LINPHONEC_BIN, startLinphone, type LinphonePhone } from '../helpers/linphone.js';

for (const transport of ['udp', 'tcp'] as const) t.test(`linphone over ${transport.toUpperCase()} calls baresip over UDP through opencx`, async (t) => {
  t.ok(baresipAvailable(), `baresip found at ${BARESIP_BIN} (install Debian baresip)`);
  t.ok(linphoneAvailable(), `linphonec found at ${LINPHONEC_BIN} (install Debian linphone-cli)`);
  if (!baresipAvailable() || !linphoneAvailable()) return;

  const server = await startOpencx(['--role', 'sip,control', '--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: { OPENCX_SIP__AUTH_ALGORITHMS: 'MD5' },
  });
  const started: { bob?: BaresipPhone; carol?: LinphonePhone } = {};
  t.teardown(async () => {
    await started.carol?.stop();
    await started.bob?.stop();
    await server.stop();
  });
  const { udp, tcp } = server.ports;
  t.ok(udp !== undefined && tcp !== undefined, 'UDP and TCP ports reported');

  for (const user of ['bob', 'carol']) {
    const r = await runOpencx(['user', 'add', `${user}@127.0.0.1`, '--password', `pw-${user}`, '--data-dir', server.dataDir]);
    t.equal(r.code, 0, `user add ${user}: ${r.stdout}${r.stderr}`);
  }

  const bob = (started.bob = await startBaresip({
    account: `<sip:bob@127.0.0.1>;auth_pass=pw-bob;outbound="sip:127.0.0.1:${udp};transport=udp";regint=600;answermode=auto`,
  }));
  t.ok(await bob.waitFor(/bob@127\.0\.0\.1: \{0\/UDP\/v4\} 200 OK/, 15000), 'bob (baresip) registered');

  const carol = (started.carol = await startLinphone({ transport }));
  carol.send(`register sip:carol@127.0.0.1 sip:127.0.0.1:${transport === 'udp' ? udp : tcp};transport=${transport} pw-carol`);
  const registered = await carol.waitRegistered(15000);
  t.ok(registered, `carol (linphone) registered${registered ? '' : '\n' + carol.output().slice(-4000)}`);

  carol.send('call sip:bob@127.0.0.1');
  t.ok(await bob.waitFor(/Call established: sip:carol@127\.0\.0\.1/, 15000), 'bob: call from carol established');
  t.ok(await carol.waitFor(/Call \d+ with sip:bob@127\.0\.0\.1 connected/, 15000), 'carol: call to bob connected');

  if (transport === 'udp') {
    // carol hangs up: her BYE crosses opencx to bob
    carol.send('terminate');
    t.ok(await bob.waitFor(/BYE sip:bob[^\n]*SIP\/2\.0/, 10000), 'bob received carol\'s BYE through opencx');
    t.ok(await bob.waitFor(/sip:carol@127\.0\.0\.1: session closed/, 10000), 'bob: call ended');
  } else {
    // bob hangs up (baresip sends BYE when terminated): opencx must carry it to carol over TCP
    const byeSent = bob.waitFor(/BYE sip:carol[^\n]*SIP\/2\.0/, 10000);
    await bob.stop();
    t.ok(await byeSent, 'bob sent BYE to carol through opencx');
  }
  t.ok(await carol.waitFor(/Call \d+ with sip:bob@127\.0\.0\.1 ended/, 10000), 'carol: call ended');
  // the INVITE bob got came from carol over the transport under test
  t.match(bob.output(), new RegExp(`INVITE sip:bob[^\\n]*\\n(?:[^\\n]+\\n)*?Via: SIP/2\\.0/${transport.toUpperCase()} 127\\.0\\.0\\.1:\\d+`), `carol's INVITE left her over ${transport.toUpperCase()} (her Via)`);
  const serverErrors = server.output.filter((l) => /"level":(50|60)/.test(l));
  t.same(serverErrors, [], 'opencx logged no errors');
});
