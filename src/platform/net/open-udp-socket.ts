/**
 * Opens a UDP socket on the engine asked for: the native batched one (native/udp) or node:dgram.
 * 'auto' takes native when the addon loaded, else dgram, and says why once per thread.
 */
import { isIP } from 'node:net';
import { describeError, InvalidInputError, silentLogger, UnavailableError } from '../../lib/index.js';
import { DgramUdpSocket } from './dgram-udp-socket.js';
import { nativeUdpAddon, nativeUdpAvailable } from './native-addon.js';
import { NativeUdpSocket } from './native-udp-socket.js';
import type { OpenUdpSocketOptions, UdpSocket } from './types.js';

let fallbackWarned = false;

export async function openUdpSocket(options: OpenUdpSocketOptions): Promise<UdpSocket> {
  const logger = (options.logger ?? silentLogger).child({ component: 'udp' });
  const fam = isIP(options.address);
  if (fam !== 4 && fam !== 6) throw new InvalidInputError(`udp bind address must be an IP literal: ${options.address}`);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new InvalidInputError(`udp port out of range: ${options.port}`);
  const family: 4 | 6 = fam;
  const engine = options.engine ?? 'auto';
  const addon = engine === 'dgram' ? undefined : nativeUdpAddon();
  if (addon === undefined && engine === 'native') {
    const status = nativeUdpAvailable();
    throw new UnavailableError(status.ok ? 'native UDP engine unavailable' : status.reason);
  }
  const where = `${options.address}:${options.port}`;
  if (addon !== undefined) {
    try {
      return NativeUdpSocket.open(addon, options, family, logger);
    } catch (err) {
      throw new UnavailableError(`cannot bind udp ${where}: ${describeError(err)}`, { cause: err });
    }
  }
  if (engine === 'auto' && !fallbackWarned) {
    fallbackWarned = true;
    const status = nativeUdpAvailable();
    logger.warn({ reason: status.ok ? 'unknown' : status.reason }, 'native UDP engine unavailable, using node:dgram');
  }
  try {
    return await DgramUdpSocket.open(options, family, logger);
  } catch (err) {
    if (err instanceof UnavailableError) throw err;
    throw new UnavailableError(`cannot bind udp ${where}: ${describeError(err)}`, { cause: err });
  }
}
