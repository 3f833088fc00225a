/**
 * SIPp's built-in UAC scenario (`sipp -sd uac`: INVITE with SDP, optional 100/180/183, 200,
 * ACK, BYE, 200) calls a SipServer on real UDP sockets whose UserAgentService answers with
 * 180 and a 200 carrying SDP, then receives the BYE. Every dialog must be gone afterwards.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SystemScheduler } from '../../src/lib/index.js';
import { SipServer } from '../../src/sip/index.js';
import { UserAgentService, type DialogEnd, type UaDialog } from '../../src/sip/ua/index.js';
import { SIPP, describeRun, requireSipp, runSipp } from '../helpers/sipp.js';

const HOST = '127.0.0.1';
const CALLS = 5;
const ANSWER = `v=0\r\no=opencx 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

t.test('SIPp built-in uac scenario against the UserAgentService', async (t) => {
  requireSipp();
  const work = mkdtempSync(path.join(tmpdir(), 'opencx-ua-sipp-'));
  const scenario = path.join(work, 'uac.xml');
  const dumped = spawnSync(SIPP, ['-sd', 'uac'], { encoding: 'utf8' });
  // sipp -sd prints the scenario and exits with 99
  t.match(dumped.stdout, /<scenario name="Basic Sipstone UAC">/, 'sipp -sd uac dumps the built-in scenario');
  writeFileSync(scenario, dumped.stdout);

  const ua = new UserAgentService();
  const offers: (string | undefined)[] = [];
  const ends: DialogEnd[] = [];
  ua.on('invite', (call) => {
    offers.push(call.sdp);
    call.progress(180);
    call
      .accept({ sdp: ANSWER })
      // whenEnded: SIPp sends its BYE right after the ACK, and both may be read in one batch,
      // ending the dialog before this callback runs
      .then((dialog: UaDialog) => dialog.whenEnded((e) => ends.push(e)))
      .catch(() => undefined);
  });
  const server = new SipServer({ listeners: [{ protocol: 'udp', address: HOST, port: 0 }], scheduler: new SystemScheduler(), services: [ua] });
  const [listener] = await server.start();
  t.teardown(async () => {
    await server.shutdown(500);
    rmSync(work, { recursive: true, force: true });
  });

  const result = await runSipp({ target: `${HOST}:${String(listener!.port)}`, scenario, calls: CALLS, rate: 10, timeoutS: 20, extraArgs: ['-s', 'service'] });
  t.equal(result.code, 0, `SIPp exit status${result.code === 0 ? '' : '\n' + describeRun(result)}`);
  t.equal(result.successful, CALLS, `${CALLS} calls completed`);
  t.equal(offers.length, CALLS, 'every INVITE reached the service');
  t.match(offers[0], /m=audio \d+ RTP\/AVP 0/, 'the offer is visible to the owner');
  // the BYE's 200 went out before SIPp counted the call: the dialogs are already gone
  await new Promise((r) => setTimeout(r, 100));
  t.equal(ends.length, CALLS, 'each dialog ended');
  t.ok(ends.every((e) => e.by === 'remote' && e.cause === 'bye'), 'ended by the remote BYE');
  t.equal(ua.dialogCount, 0, 'no dialog left');
  t.equal(ua.pendingInviteCount, 0, 'no INVITE left');
});
