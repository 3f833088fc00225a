import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';

/** A raw SIP test client: sends bytes and collects whatever comes back. */

export function optionsRequest(opts: { host: string; port: number; transport: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS'; localPort: number; localHost?: string }): Buffer {
  const branch = 'z9hG4bK' + randomBytes(6).toString('hex');
  const tag = randomBytes(4).toString('hex');
  const callId = randomBytes(8).toString('hex');
  const h = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const lh = opts.localHost ?? h;
  return Buffer.from(
    `OPTIONS sip:${h}:${opts.port} SIP/2.0\r\n` +
      `Via: SIP/2.0/${opts.transport} ${lh}:${opts.localPort};branch=${branch};rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:tester@${h}>;tag=${tag}\r\n` +
      `To: <sip:${h}>\r\n` +
      `Call-ID: ${callId}\r\n` +
      `CSeq: 1 OPTIONS\r\n` +
      `Accept: application/sdp\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

export function statusOf(response: Buffer | string): number | undefined {
  const m = /^SIP\/2\.0 (\d{3})/.exec(response.toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** Send one datagram, collect datagrams for waitMs (or until `until` says stop). */
export async function udpExchange(host: string, port: number, data: Buffer | ((localPort: number) => Buffer), opts: { waitMs?: number; until?: (msgs: Buffer[]) => boolean } = {}): Promise<Buffer[]> {
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const sock = dgram.createSocket(family);
  const got: Buffer[] = [];
  await new Promise<void>((resolve) => sock.bind(0, host, resolve));
  const localPort = sock.address().port;
  const payload = typeof data === 'function' ? data(localPort) : data;
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      sock.close();
      resolve(got);
    };
    const timer = setTimeout(finish, opts.waitMs ?? 1500);
    sock.on('message', (m) => {
      got.push(m);
      if (opts.until?.(got) === true) finish();
    });
    sock.send(payload, port, host);
  });
}

/** Open a TCP (or TLS) connection, send, collect what comes back; reports whether the server closed it. */
export async function streamExchange(host: string, port: number, data: Buffer | ((localPort: number) => Buffer), opts: { tls?: boolean; waitMs?: number; until?: (text: string) => boolean } = {}): Promise<{ text: string; closedByServer: boolean }> {
  const socket: net.Socket = opts.tls === true ? tls.connect({ host, port, rejectUnauthorized: false }) : net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once(opts.tls === true ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  let text = '';
  let closedByServer = false;
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closedByServer });
    };
    const timer = setTimeout(finish, opts.waitMs ?? 1500);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (opts.until?.(text) === true) finish();
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      closedByServer = !done;
      finish();
    });
    socket.on('error', () => finish());
    socket.write(typeof data === 'function' ? data(socket.localPort ?? 0) : data);
  });
}
