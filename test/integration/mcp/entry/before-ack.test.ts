/**
 * An RFC 5552 session starts when the MCP sends its 200 OK, not when the ACK comes back (RFC 3261
 * §13.3.1.4: the answer is in the 200 and media may flow from then on): the first prompt must not
 * wait for the ACK's trip through a loaded SIP layer. Here the caller withholds its ACK until the
 * prompt's audio has arrived; the call then goes on as usual and the MCP ends it with BYE.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { startOpencx } from '../../../helpers/opencx-process.js';
import { VXML_TYPE, startVxmlTestServer, vxml } from '../../../helpers/vxml-test-server.js';

const HOST = '127.0.0.1';

function bind(sock: dgram.Socket): Promise<number> {
  return new Promise((resolve) => sock.bind(0, HOST, () => resolve(sock.address().port)));
}

t.test('the first prompt plays before the ACK', async (t) => {
  const web = await startVxmlTestServer();
  t.teardown(() => web.close());
  web.routes.set('/hello.vxml', { type: VXML_TYPE, body: vxml('<form><block><prompt>Hello there, this is the first prompt.</prompt><disconnect/></block></form>') });
  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: { OPENCX_SIP__TRANSPORTS: 'udp', OPENCX_MEDIA__BIND: HOST, OPENCX_MCP__ASR_PROVIDER: 'none' },
  });
  t.teardown(() => server.stop());
  const sipPort = server.ports.udp as number;

  const rtp = dgram.createSocket('udp4');
  const sip = dgram.createSocket('udp4');
  t.teardown(() => {
    rtp.close();
    sip.close();
  });
  const rtpPort = await bind(rtp);
  const sipLocal = await bind(sip);
  let ackSent = false;
  let voicedBeforeAck = 0;
  let gotAudio!: () => void;
  const audio = new Promise<void>((resolve) => (gotAudio = resolve));
  rtp.on('message', (m) => {
    // µ-law silence is 0xff/0x7f: anything else in the payload is the prompt
    const voiced = m.subarray(12).some((b) => b !== 0xff && b !== 0x7f);
    if (voiced && !ackSent) voicedBeforeAck++;
    if (voiced) gotAudio();
  });

  const callId = randomBytes(8).toString('hex');
  const uri = `sip:dialog@${HOST}:${sipPort};voicexml=${web.base}/hello.vxml`;
  const sdp = `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${rtpPort} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n`;
  const invite =
    `INVITE ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${sipLocal};branch=z9hG4bK${callId.slice(0, 8)};rport\r\nMax-Forwards: 70\r\n` +
    `From: <sip:caller@${HOST}>;tag=c1\r\nTo: <${uri}>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@${HOST}:${sipLocal}>\r\n` +
    `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`;
  let ok: string | undefined;
  let bye: string | undefined;
  const gotOk = new Promise<void>((resolve) => {
    sip.on('message', (m) => {
      const text = m.toString('latin1');
      if (text.startsWith('SIP/2.0 200') && / INVITE\r\n/.test(text)) {
        ok ??= text;
        resolve();
      } else if (text.startsWith('BYE ')) {
        bye = text;
        const keep = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
        sip.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), sipPort, HOST);
      }
    });
  });
  sip.send(invite, sipPort, HOST);
  await gotOk;
  t.ok(ok !== undefined, '200 OK to the INVITE');
  const waited = await Promise.race([audio.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  t.ok(waited, 'prompt audio arrived while the ACK was withheld');
  t.ok(voicedBeforeAck > 0, `${voicedBeforeAck} voiced packets before the ACK`);

  // now confirm the dialog: the session goes on and the MCP hangs up after the prompt
  const toLine = (ok ?? '').split('\r\n').find((l) => /^To:/i.test(l)) ?? '';
  const contact = /Contact:\s*<([^>]+)>/i.exec(ok ?? '')?.[1] ?? uri;
  sip.send(
    `ACK ${contact} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${sipLocal};branch=z9hG4bKack${callId.slice(0, 6)};rport\r\nMax-Forwards: 70\r\n` +
      `From: <sip:caller@${HOST}>;tag=c1\r\n${toLine}\r\nCall-ID: ${callId}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`,
    sipPort,
    HOST,
  );
  ackSent = true;
  for (let i = 0; i < 150 && bye === undefined; i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(bye !== undefined, 'the MCP ends the call with BYE after the prompt');
});
