#!/usr/bin/env node
// Stand-in for `node bin/opencx.js start --role sip --bind ADDR --sip-port P --http-port 0 --data-dir D`
// used to check bench/sip-options/run.mjs (`--opencx-root bench/sip-options/stub`) before opencx
// itself is built. A single-process, stateless OPTIONS responder over UDP and TCP: the floor
// any Node SIP server pays for the socket path. It is not opencx and parses almost nothing.
import dgram from 'node:dgram';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  args: process.argv.slice(3),
  options: {
    role: { type: 'string' }, bind: { type: 'string', default: '127.0.0.1' },
    'sip-port': { type: 'string', default: '5060' }, 'http-port': { type: 'string' },
    'data-dir': { type: 'string' },
  },
});
const host = values.bind;
const port = Number(values['sip-port']);

const CRLF2 = Buffer.from('\r\n\r\n');
/** Build the response to one request (Buffer), or null for responses/ACK. */
function answer(buf, transport) {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return null;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const method = lines[0].slice(0, lines[0].indexOf(' '));
  if (method === 'SIP/2.0' || method === 'ACK') return null;
  const copy = lines.filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq):/i.test(l));
  const status = method === 'OPTIONS' ? '200 OK' : '501 Not Implemented';
  return Buffer.from(`SIP/2.0 ${status}\r\n${copy.map((l) => (/^(to|t):/i.test(l) && !/;tag=/i.test(l) ? `${l};tag=stub` : l)).join('\r\n')}\r\n` +
    `Allow: OPTIONS\r\nServer: opencx-bench-stub (${transport})\r\nContent-Length: 0\r\n\r\n`, 'latin1');
}

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  const r = answer(msg, 'udp');
  if (r) udp.send(r, rinfo.port, rinfo.address);
});
udp.bind(port, host);

const tcp = net.createServer((sock) => {
  let pending = Buffer.alloc(0);
  sock.on('data', (d) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    for (;;) {
      const end = pending.indexOf(CRLF2);
      if (end < 0) break;
      const head = pending.toString('latin1', 0, end);
      const cl = Number(/\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const total = end + 4 + cl;
      if (pending.length < total) break;
      const r = answer(pending.subarray(0, total), 'tcp');
      if (r) sock.write(r);
      pending = pending.subarray(total);
    }
  });
  sock.on('error', () => sock.destroy());
});
tcp.listen(port, host);

const stop = () => { udp.close(); tcp.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
