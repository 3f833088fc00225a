import { VxmlAppStore, type NewVxmlApp, type VxmlApp, type VxmlAppChanges, type VxmlAppFile } from '../control/index.js';
import type { Logger } from '../lib/index.js';
import type { Config } from '../platform/index.js';
import { ApiAnswerError, openLocalTenant, remoteTenantScope } from './backend-support.js';
import { localHttpUrl } from './cli-server-access.js';

/**
 * What `opencx app` does, over the database of a stopped server or the REST API of a running
 * one (as TelephonyBackend does for the telephony commands).
 */
export interface AppBackend {
  /** the server the files are served from, for printing URLs */
  readonly baseUrl: string;
  list(): Promise<VxmlApp[]>;
  find(name: string): Promise<VxmlApp | undefined>;
  get(name: string): Promise<VxmlApp>;
  create(input: NewVxmlApp): Promise<VxmlApp>;
  update(name: string, changes: VxmlAppChanges): Promise<VxmlApp>;
  delete(name: string): Promise<void>;
  listFiles(name: string): Promise<VxmlAppFile[]>;
  putFile(name: string, path: string, content: Uint8Array): Promise<void>;
  getFile(name: string, path: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openLocalAppBackend(config: Config, tenant: string | undefined, logger: Logger): Promise<AppBackend> {
  const { db, bus, tenantId, close } = await openLocalTenant(config, tenant, logger);
  const apps = new VxmlAppStore({ db, bus, logger });
  return {
    // where the stopped server will serve from once started: its configured HTTP address
    baseUrl: localHttpUrl(config, config.http.port),
    list: () => apps.list(tenantId),
    find: (name) => apps.find(tenantId, name),
    get: (name) => apps.get(tenantId, name),
    create: (input) => apps.create(tenantId, input),
    update: (name, changes) => apps.update(tenantId, name, changes),
    delete: (name) => apps.delete(tenantId, name),
    listFiles: (name) => apps.listFiles(tenantId, name),
    putFile: async (name, path, content) => {
      await apps.putFile(tenantId, name, path, content);
    },
    getFile: async (name, path) => (await apps.getFile(tenantId, name, path)).content,
    close,
  };
}

export function openRemoteAppBackend(base: string, apiKey: string, tenant: string | undefined): AppBackend {
  const authorization = `Bearer ${apiKey}`;
  const send = async (method: string, pathname: string, body?: { json: unknown } | { bytes: Uint8Array }): Promise<Response> => {
    const headers: Record<string, string> = { authorization };
    let payload: string | Uint8Array | undefined;
    if (body !== undefined && 'json' in body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      payload = body.bytes;
    }
    const res = await fetch(new URL(pathname, base), { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    if (res.status >= 200 && res.status < 300) return res;
    const text = await res.text();
    let answer: { error?: string; field?: string } = { error: text };
    try {
      answer = JSON.parse(text) as { error?: string; field?: string };
    } catch {
      // keep the text
    }
    throw new ApiAnswerError(res.status, `the server answered ${res.status}: ${answer.error ?? text}`, answer.field, undefined);
  };
  const json = async <T>(method: string, pathname: string, body?: unknown): Promise<T> => {
    const res = await send(method, pathname, body === undefined ? undefined : { json: body });
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  const scope = remoteTenantScope(tenant, (pathname) => json('GET', pathname));
  const query = async (): Promise<string> => {
    const id = await scope();
    return id === undefined ? '' : `?tenantId=${encodeURIComponent(id)}`;
  };
  const appPath = (name: string) => `/api/v1/apps/${encodeURIComponent(name)}`;
  const filePath = (name: string, path: string) => `${appPath(name)}/files/${path.split('/').map(encodeURIComponent).join('/')}`;
  const get = async (name: string) => json<VxmlApp>('GET', `${appPath(name)}${await query()}`);
  return {
    baseUrl: base,
    list: async () => json<VxmlApp[]>('GET', `/api/v1/apps${await query()}`),
    find: async (name) => {
      try {
        return await get(name);
      } catch (err) {
        if (err instanceof ApiAnswerError && err.status === 404) return undefined;
        throw err;
      }
    },
    get,
    create: async (input) => {
      const id = await scope();
      return json<VxmlApp>('POST', '/api/v1/apps', { ...input, ...(id !== undefined ? { tenantId: id } : {}) });
    },
    update: async (name, changes) => json<VxmlApp>('PATCH', `${appPath(name)}${await query()}`, changes),
    delete: async (name) => {
      await send('DELETE', `${appPath(name)}${await query()}`);
    },
    listFiles: async (name) => json<VxmlAppFile[]>('GET', `${appPath(name)}/files${await query()}`),
    putFile: async (name, path, content) => {
      await send('PUT', `${filePath(name, path)}${await query()}`, { bytes: content });
    },
    getFile: async (name, path) => Buffer.from(await (await send('GET', `${filePath(name, path)}${await query()}`)).arrayBuffer()),
    close: async () => {},
  };
}
