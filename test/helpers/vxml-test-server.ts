/**
 * A small HTTP server for MCP tests: serves VoiceXML documents and audio from a map, and records
 * every request (form fields and multipart file parts parsed by undici's own FormData).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  fields: Record<string, string>;
  files: Record<string, { type: string; bytes: Buffer }>;
}

export interface VxmlTestServer {
  base: string;
  requests: ReceivedRequest[];
  /** path → [content type, body] (a function answers per request) */
  /** a route may answer after delayMs (a slow application server) */
  routes: Map<string, { type: string; body: Buffer | string; delayMs?: number } | ((r: ReceivedRequest) => { type: string; body: Buffer | string })>;
  waitFor(path: string, timeoutMs?: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export async function startVxmlTestServer(): Promise<VxmlTestServer> {
  const requests: ReceivedRequest[] = [];
  const routes: VxmlTestServer['routes'] = new Map();
  const waiters: Array<{ path: string; resolve: (r: ReceivedRequest) => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = Buffer.concat(chunks);
        const received: ReceivedRequest = { method: req.method ?? '', path: url.pathname, fields: {}, files: {} };
        for (const [k, v] of url.searchParams) received.fields[k] = v;
        const type = req.headers['content-type'] ?? '';
        if (req.method === 'POST' && body.length > 0) {
          const form = await new Response(body, { headers: { 'content-type': type } }).formData().catch(() => undefined);
          for (const [k, v] of form?.entries() ?? []) {
            if (typeof v === 'string') received.fields[k] = v;
            else received.files[k] = { type: v.type, bytes: Buffer.from(await v.arrayBuffer()) };
          }
        }
        requests.push(received);
        for (const w of waiters.filter((x) => x.path === received.path)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(received);
        }
        const route = routes.get(url.pathname);
        if (route === undefined) {
          res.writeHead(404).end();
          return;
        }
        const answer = typeof route === 'function' ? route(received) : route;
        if (typeof route !== 'function' && route.delayMs !== undefined) await new Promise((r) => setTimeout(r, route.delayMs));
        res.writeHead(200, { 'content-type': answer.type }).end(answer.body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    routes,
    waitFor: (path, timeoutMs = 30_000) => {
      const seen = requests.find((r) => r.path === path);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no request for ${path} within ${timeoutMs} ms (got: ${requests.map((r) => r.path).join(', ') || 'none'})`)), timeoutMs);
        waiters.push({ path, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const VXML_TYPE = 'application/voicexml+xml';

export function vxml(body: string): string {
  return `<?xml version="1.0"?>\n<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml">${body}</vxml>`;
}
