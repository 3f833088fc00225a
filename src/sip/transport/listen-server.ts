import type net from 'node:net';
import { describeError, UnavailableError } from '../../lib/index.js';
import type { TransportAddress, TransportProtocol } from './types.js';

/**
 * Binds a listening server (TCP, TLS, or the HTTP server under WS/WSS) and reports the address
 * actually bound (port 0 resolved). A bind failure is an UnavailableError naming the listener.
 * On '::' the socket is dual-stack, so one listener also takes IPv4 clients.
 */
export function listenServer(server: net.Server, protocol: TransportProtocol, address: string, port: number): Promise<TransportAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new UnavailableError(`cannot listen on ${protocol} ${address}:${port}: ${describeError(err)}`, { cause: err }));
    server.once('error', onError);
    server.listen({ host: address, port, ipv6Only: address === '::' ? false : undefined }, () => {
      server.off('error', onError);
      const a = server.address();
      resolve({ protocol, address, port: a !== null && typeof a === 'object' ? a.port : port });
    });
  });
}
