// One REGISTER over UDP from a given local port, answering a digest challenge (MD5, qop=auth or
// none) if the server sends one. Used to register a SIPp UAS before SIPp takes over that port.
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');

function parseChallenge(msg) {
  const lines = msg.split('\r\n').filter((l) => /^(WWW|Proxy)-Authenticate:/i.test(l));
  for (const line of lines) {
    const v = line.slice(line.indexOf(':') + 1).trim();
    if (!/^Digest\s/i.test(v)) continue;
    const params = {};
    for (const m of v.slice(7).matchAll(/([a-zA-Z-]+)\s*=\s*("([^"]*)"|[^,\s]+)/g)) params[m[1].toLowerCase()] = m[3] ?? m[2];
    const alg = (params.algorithm ?? 'MD5').toUpperCase();
    if (alg !== 'MD5') continue; // take the MD5 challenge when several are offered
    return { header: /^Proxy/i.test(line) ? 'Proxy-Authorization' : 'Authorization', ...params };
  }
  return null;
}

/**
 * Registers sip:user@domain with Contact sip:user@127.0.0.1:localPort at 127.0.0.1:serverPort.
 * Resolves to the final status code (200 on success); throws after timeoutS without an answer.
 */
export async function registerOnce({ serverPort, localPort, user, domain = '127.0.0.1', password = '', expires = 3600, timeoutS = 5 }) {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => { sock.once('error', reject); sock.bind(localPort, '127.0.0.1', resolve); });
  const callId = `reg-${process.pid}-${Date.now()}@127.0.0.1`;
  const tag = `t${process.pid}`;
  let cseq = 0;
  const send = (authLine) => {
    cseq++;
    const msg = [
      `REGISTER sip:${domain} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK-${process.pid}-${cseq}-${Date.now()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${domain}>;tag=${tag}`,
      `To: <sip:${user}@${domain}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${user}@127.0.0.1:${localPort}>`,
      `Expires: ${expires}`,
      ...(authLine ? [authLine] : []),
      'Content-Length: 0', '', '',
    ].join('\r\n');
    sock.send(msg, serverPort, '127.0.0.1');
  };
  const replies = [];
  sock.on('message', (m) => replies.push(m.toString('latin1')));
  const next = async () => {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const i = replies.findIndex((r) => r.startsWith('SIP/2.0 ') && !r.startsWith('SIP/2.0 1') && r.includes(`CSeq: ${cseq} REGISTER`));
      if (i >= 0) return replies.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no final answer to REGISTER for ${user} within ${timeoutS}s`);
      await delay(20);
    }
  };
  try {
    send(null);
    let res = await next();
    let code = Number(res.slice(8, 11));
    if (code === 401 || code === 407) {
      const ch = parseChallenge(res);
      if (!ch) return code;
      const uri = `sip:${domain}`;
      const ha1 = md5(`${user}:${ch.realm}:${password}`);
      const ha2 = md5(`REGISTER:${uri}`);
      const cnonce = crypto.randomBytes(8).toString('hex');
      const qop = ch.qop ? ch.qop.split(',').map((s) => s.trim()).find((q) => q === 'auth') : undefined;
      const response = qop ? md5(`${ha1}:${ch.nonce}:00000001:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${ch.nonce}:${ha2}`);
      const parts = [`username="${user}"`, `realm="${ch.realm}"`, `nonce="${ch.nonce}"`, `uri="${uri}"`, `response="${response}"`, 'algorithm=MD5'];
      if (ch.opaque !== undefined) parts.push(`opaque="${ch.opaque}"`);
      if (qop) parts.push(`qop=${qop}`, 'nc=00000001', `cnonce="${cnonce}"`);
      send(`${ch.header}: Digest ${parts.join(', ')}`);
      res = await next();
      code = Number(res.slice(8, 11));
    }
    return code;
  } finally {
    sock.close();
  }
}
