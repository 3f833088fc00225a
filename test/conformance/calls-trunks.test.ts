/**
 * Calls through trunks, end to end with real parts: `opencx start` (every role), SIPp as a carrier
 * SBC and as carrier gateways on their own loopback addresses, Debian baresip as the phones.
 *
 * - inbound: SIPp from 127.0.0.2 (the carrier trunk's ACL) calls a DID with RTP from g711a.pcap;
 *   the DID rings bob's baresip, whose recording holds the audio; BYE ends both legs; a CDR.
 * - limits: a second call on the same inbound trunk while the first runs gets 503 (max 1 call).
 * - fraud: an unauthenticated INVITE to a PSTN number from an address that is no trunk gets 403.
 * - outbound: alice's baresip dials a US number; the dial plan sends it to the trunk's first
 *   gateway (503), the call fails over to the second, which challenges with 407 and answers.
 */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runOpencx } from '../helpers/opencx-process.js';
import { fileSize, readWav } from '../helpers/baresip.js';
import { startPbx } from '../helpers/pbx.js';
import { fixture } from '../helpers/paths.js';
import { freePort, requireSipp, runSipp, startSipp } from '../helpers/sipp.js';

const PCAP_DIR = '/usr/share/sip-tester';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('inbound DID, trunk limit, toll fraud and outbound failover through opencx', async (t) => {
  requireSipp();
  if (!existsSync(path.join(PCAP_DIR, 'g711a.pcap'))) throw new Error(`${PCAP_DIR}/g711a.pcap missing (Debian sip-tester ships it)`);
  const pbx = await startPbx(t, ['alice', 'bob']);
  if (pbx === undefined) return;
  const { server, udp, work, cli } = pbx;

  // provisioning: users, the carrier's inbound trunk (one call at a time), a DID, the outbound trunk and a dial plan
  await cli('trunk', 'add', 'carrier', '--acl', '127.0.0.2/32', '--direction', 'inbound', '--country-code', '1', '--max-calls', '1');
  await cli('did', 'add', '+15552340001', '--user', 'bob@127.0.0.1');
  const gw503Port = await freePort('127.0.0.3');
  const gwAuthPort = await freePort('127.0.0.3');
  await cli('trunk', 'add', 'pstn', '--direction', 'outbound', '--gateway', `127.0.0.3:${gw503Port};priority=0`, '--gateway', `127.0.0.3:${gwAuthPort};priority=1`, '--username', 'gw', '--password', 'gw-secret', '--country-code', '1');
  const plan = path.join(work, 'plan.json');
  writeFileSync(plan, JSON.stringify({ rules: [{ name: 'us-pstn', match: { number: '_1NXXNXXXXXX' }, target: { type: 'trunk', trunk: 'pstn' } }] }));
  await cli('dialplan', 'set', plan);

  const bob = await pbx.phone('bob', { answer: true });

  // --- inbound: the carrier calls the DID in national format; bob answers; the carrier hangs up
  const scenario = path.join(work, 'trunk-uac.xml');
  writeFileSync(scenario, readFileSync(fixture(import.meta.url, 'sipp/trunk-uac.xml'), 'utf8').replaceAll('[pcap_dir]', PCAP_DIR));
  const inbound = await startSipp({ target: `127.0.0.1:${udp}`, scenario, localIp: '127.0.0.2', calls: 1, rate: 1, timeoutS: 40, extraArgs: ['-s', '5552340001'] });

  // --- limits: while that call runs, a second one on the same trunk is refused with 503
  t.ok(await bob.waitFor(/Call established/, 15000), 'bob answered the DID call');
  const busy = path.join(work, 'expect-503.xml');
  writeFileSync(busy, readFileSync(fixture(import.meta.url, 'sipp/invite-number-403.xml'), 'utf8').replaceAll('response="403"', 'response="503"'));
  const second = await runSipp({ target: `127.0.0.1:${udp}`, scenario: busy, localIp: '127.0.0.2', calls: 1, timeoutS: 15, extraArgs: ['-s', '5552340001'] });
  t.equal(second.successful, 1, `a second call on the one-call trunk got 503\n${second.successful === 1 ? '' : second.out.slice(-1500)}`);

  const first = await inbound.done;
  t.equal(first.successful, 1, `the carrier's call completed (INVITE, 200, ACK, RTP, BYE, 200)\n${first.successful === 1 ? '' : first.out.slice(-2000)}`);
  t.ok(await bob.waitFor(/BYE sip:bob/, 10000), 'the BYE reached bob');
  const rec = bob.decodedRecordings()[0];
  t.ok(rec !== undefined && fileSize(rec) > 8000 * 2 * 3, `bob recorded what he heard (${rec === undefined ? 0 : fileSize(rec)} bytes)`);
  if (rec !== undefined) {
    const { rate, samples } = readWav(readFileSync(rec));
    let loud = 0;
    for (let s = 0; s + rate <= samples.length; s += rate) {
      let sum = 0;
      for (let i = s; i < s + rate; i++) sum += (samples[i] as number) ** 2;
      if (10 * Math.log10(sum / rate / 32768 ** 2) > -45) loud++;
    }
    t.ok(loud >= 4, `${loud} seconds of bob's recording hold the carrier's audio (above -45 dBFS)`);
  }

  // --- fraud: no trunk, no credentials, a PSTN number → 403
  const fraud = await runSipp({ target: `127.0.0.1:${udp}`, scenario: fixture(import.meta.url, 'sipp/invite-number-403.xml'), localIp: '127.0.0.5', calls: 1, timeoutS: 15, extraArgs: ['-s', '15557654321'] });
  t.equal(fraud.successful, 1, `the toll-fraud INVITE got 403\n${fraud.successful === 1 ? '' : fraud.out.slice(-1500)}`);

  // --- outbound: alice dials a US number; gateway 1 answers 503, gateway 2 challenges (407) and answers
  const gw503 = await startSipp({ target: '127.0.0.1:9', scenario: fixture(import.meta.url, 'sipp/gateway-503.xml'), localIp: '127.0.0.3', localPort: gw503Port, calls: 1, timeoutS: 40, extraArgs: ['-rsa', `127.0.0.1:${udp}`] });
  const gwAuth = await startSipp({ target: '127.0.0.1:9', scenario: fixture(import.meta.url, 'sipp/gateway-auth.xml'), localIp: '127.0.0.3', localPort: gwAuthPort, calls: 1, timeoutS: 40, extraArgs: ['-rsa', `127.0.0.1:${udp}`] });
  await sleep(500);
  const alice = await pbx.phone('alice', { commands: ['/dial sip:15557654321@127.0.0.1'] });
  t.ok(await alice.waitFor(/Call established: sip:15557654321@127\.0\.0\.1/, 20000).catch(() => false), 'alice reached the PSTN number through the second gateway');
  await sleep(1000);
  await alice.stop();
  const [r503, rAuth] = await Promise.all([gw503.done, gwAuth.done]);
  t.equal(r503.successful, 1, `gateway 1 saw the INVITE and answered 503\n${r503.successful === 1 ? '' : r503.out.slice(-1500)}`);
  t.equal(rAuth.successful, 1, `gateway 2 challenged, verified the credentials, answered and got the BYE\n${rAuth.successful === 1 ? '' : rAuth.out.slice(-2000)}`);

  // --- CDRs: one call record per call, with legs, written before the call was forgotten
  await sleep(500);
  const list = await runOpencx(['cdr', 'list', '--data-dir', server.dataDir, '--limit', '50']);
  t.equal(list.code, 0, 'cdr list works');
  t.match(list.stdout, /5552340001|\+15552340001/, 'the DID call has a CDR');
  t.match(list.stdout, /15557654321/, 'the outbound call has a CDR');
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
