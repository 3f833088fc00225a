import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Logger } from '../lib/index.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  selfSigned: boolean;
}

async function readConfigured(file: string, key: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as Error).message}`, key, { cause: err });
  }
}

/**
 * The certificate for TLS and WSS listeners: the configured files, or a self-signed development
 * certificate made once in <dataDir>/tls/ (and reused on later starts), logged so nobody mistakes
 * it for a real one.
 */
export async function tlsMaterial(
  options: { certFile?: string | undefined; keyFile?: string | undefined; caFile?: string | undefined; dataDir: string; hostnames: string[] },
  logger: Logger,
): Promise<TlsMaterial> {
  if (options.certFile !== undefined || options.keyFile !== undefined) {
    if (options.certFile === undefined) throw new ConfigError('sip.tls.certFile is required when sip.tls.keyFile is set', 'sip.tls.certFile');
    if (options.keyFile === undefined) throw new ConfigError('sip.tls.keyFile is required when sip.tls.certFile is set', 'sip.tls.keyFile');
    return {
      cert: await readConfigured(options.certFile, 'sip.tls.certFile'),
      key: await readConfigured(options.keyFile, 'sip.tls.keyFile'),
      ca: options.caFile === undefined ? undefined : await readConfigured(options.caFile, 'sip.tls.caFile'),
      selfSigned: false,
    };
  }
  const dir = path.join(options.dataDir, 'tls');
  const certPath = path.join(dir, 'self-signed.crt');
  const keyPath = path.join(dir, 'self-signed.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    logger.info({ cert: certPath }, 'using the self-signed TLS certificate made at an earlier start (configure sip.tls.certFile/keyFile for a real one)');
    return { cert: await readFile(certPath), key: await readFile(keyPath), ca: undefined, selfSigned: true };
  }
  const { generate } = await import('selfsigned');
  const names = [...new Set(['localhost', ...options.hostnames])];
  const altNames = names.map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'opencx development certificate' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 825 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  logger.warn({ cert: certPath, names }, 'made a self-signed TLS certificate for TLS/WSS because none is configured (sip.tls.certFile/keyFile)');
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), ca: undefined, selfSigned: true };
}
