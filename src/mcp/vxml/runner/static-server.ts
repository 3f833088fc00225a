/**
 * Serves a folder over HTTP on 127.0.0.1 (port 0): the conformance documents refer to each
 * other by relative URLs, so they need one base URL. GET and POST answer the file; query
 * strings are ignored. The W3C documents were converted from .txml to .vxml but some still
 * name their neighbours X.txml: like the W3C harness, a request for a missing X.txml is
 * answered with the converted X.vxml.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  vxml: 'application/voicexml+xml',
  xml: 'text/xml',
  grxml: 'application/srgs+xml',
  gram: 'application/srgs',
  js: 'text/javascript',
  wav: 'audio/x-wav',
};

export interface StaticServer {
  baseUrl: string;
  close(): Promise<void>;
}

export async function serveFolder(dir: string): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path));
    req.resume();
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file)
      .catch((err: unknown) => {
        if (file.endsWith('.txml')) return readFile(`${file.slice(0, -5)}.vxml`);
        throw err;
      })
      .then(
      (body) => {
        const ext = file.endsWith('.txml') ? 'vxml' : file.slice(file.lastIndexOf('.') + 1).toLowerCase();
        res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream' }).end(body);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  let closed = false;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      server.closeAllConnections();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
