import { DEFAULT_TENANT_NAME, VxmlAppStore, type NewVxmlApp, type VxmlApp, type VxmlAppChanges, type VxmlAppFile } from '../control/index.js';
import { NotFoundError, type Logger } from '../lib/index.js';
import { createMemoryBus, type Config } from '../platform/index.js';
import { openProvisioning } from './subscriber-services.js';
import { ApiAnswerError } from './telephony-backends.js';

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

/** where a stopped server will serve from once started: its configured HTTP address */
function configuredBaseUrl(config: Config): string {
  const host = config.http.bind === '0.0.0.0' || config.http.bind === '::' ? '127.0.0.1' : config.http.bind;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

export async function openLocalAppBackend(config: Config, tenant: string | undefined, logger: Logger): Promise<AppBackend> {
  // a stopped server has no cache to tell about changes: an in-process bus is enough
  const bus = createMemoryBus({});
  let provisioning;
  try {
    provisioning = await openProvisioning(config, bus, logger, false);
  } catch (err) {
    await bus.close();
    throw err;
  }
  const close = async () => {
    await provisioning.close();
    await bus.close();
  };
  try {
    const store = provisioning.store;
    const found = tenant === undefined ? await store.findTenantByName(DEFAULT_TENANT_NAME) : ((await store.findTenant(tenant)) ?? (await store.findTenantByName(tenant)));
    if (found === undefined) throw new NotFoundError(`tenant ${tenant ?? DEFAULT_TENANT_NAME} not found`);
    const tenantId = found.id;
    const apps = new VxmlAppStore({ db: provisioning.db, bus, logger });
    return {
      baseUrl: configuredBaseUrl(config),
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
  } catch (err) {
    await close();
    throw err;
  }
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
  // a tenant given by name is resolved once through /tenants (operator keys see them all)
  let tenantId: Promise<string | undefined> | undefined;
  const scope = (): Promise<string | undefined> => {
    tenantId ??= (async () => {
      if (tenant === undefined) return undefined;
      const tenants = await json<{ id: string; name: string }[]>('GET', '/api/v1/tenants');
      const found = tenants.find((t) => t.id === tenant) ?? tenants.find((t) => t.name === tenant);
      if (found === undefined) throw new NotFoundError(`tenant ${tenant} not found`);
      return found.id;
    })();
    return tenantId;
  };
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
