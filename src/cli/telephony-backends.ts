import {
  createTelephonyStores,
  type CallTarget,
  type CdrPage,
  type CdrQuery,
  type DialPlan,
  type DialPlanRuleError,
  type DialPlanValidator,
  type Did,
  type NewTrunk,
  type Trunk,
} from '../control/index.js';
import { NotFoundError, type Logger } from '../lib/index.js';
import type { Config } from '../platform/index.js';
import { ApiAnswerError, openLocalTenant, remoteTenantScope } from './backend-support.js';

/**
 * What the telephony commands do, over either the database of a stopped server (LocalBackend)
 * or the REST API of a running one (RemoteBackend). Both speak in the control layer's types and
 * throw errors that carry the field and the reason, so the commands print the same either way.
 */
export interface TelephonyBackend {
  addTrunk(input: NewTrunk): Promise<Trunk>;
  listTrunks(): Promise<Trunk[]>;
  removeTrunk(name: string): Promise<void>;
  addDid(number: string, target: CallTarget, trunkName: string | undefined): Promise<Did>;
  listDids(): Promise<Did[]>;
  removeDid(number: string): Promise<void>;
  setDialPlan(document: unknown): Promise<DialPlan>;
  getDialPlan(): Promise<DialPlan>;
  listCdrs(query: CdrQuery): Promise<CdrPage>;
  /** trunk names by id, for listings */
  trunkNames(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export async function openLocalBackend(config: Config, tenant: string | undefined, logger: Logger, validateDialPlan: DialPlanValidator | undefined): Promise<TelephonyBackend> {
  const { db, bus, tenantId, close } = await openLocalTenant(config, tenant, logger);
  const stores = createTelephonyStores({ db, bus, logger, validateDialPlan });
  const trunkNamed = async (name: string): Promise<Trunk> => {
    const trunk = await stores.trunks.findByName(tenantId, name);
    if (trunk === undefined) throw new NotFoundError(`trunk ${name} not found`);
    return trunk;
  };
  return {
    addTrunk: (input) => stores.trunks.create(tenantId, input),
    listTrunks: () => stores.trunks.list(tenantId),
    removeTrunk: async (name) => stores.trunks.delete((await trunkNamed(name)).id),
    addDid: async (number, target, trunkName) => stores.dids.create(tenantId, { number, target, trunkId: trunkName === undefined ? null : (await trunkNamed(trunkName)).id }),
    listDids: () => stores.dids.list({ tenantId }),
    removeDid: async (number) => {
      const did = await stores.dids.findByNumber(tenantId, number);
      if (did === undefined) throw new NotFoundError(`DID ${number} not found`);
      await stores.dids.delete(did.id);
    },
    setDialPlan: (document) => stores.dialPlans.put(tenantId, document),
    getDialPlan: () => stores.dialPlans.get(tenantId),
    listCdrs: (query) => stores.cdrs.query({ ...query, tenantId }),
    trunkNames: async () => new Map((await stores.trunks.list(tenantId)).map((t) => [t.id, t.name])),
    close,
  };
}

export function openRemoteBackend(base: string, apiKey: string, tenant: string | undefined): TelephonyBackend {
  const headers = { authorization: `Bearer ${apiKey}` };
  const call = async <T>(method: string, pathname: string, body?: unknown): Promise<T> => {
    const res = await fetch(new URL(pathname, base), {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // keep the text
    }
    if (res.status >= 200 && res.status < 300) return parsed as T;
    const answer = (typeof parsed === 'object' && parsed !== null ? parsed : { error: String(parsed) }) as { error?: string; field?: string; errors?: DialPlanRuleError[] };
    throw new ApiAnswerError(res.status, `the server answered ${res.status}: ${answer.error ?? text}`, answer.field, answer.errors);
  };
  const scope = remoteTenantScope(tenant, (pathname) => call('GET', pathname));
  const query = async (extra: Record<string, string | undefined> = {}): Promise<string> => {
    const id = await scope();
    const q = new URLSearchParams();
    if (id !== undefined) q.set('tenantId', id);
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, v);
    const s = q.toString();
    return s === '' ? '' : `?${s}`;
  };
  const trunkNamed = async (name: string): Promise<Trunk> => {
    const trunk = (await call<Trunk[]>('GET', `/api/v1/trunks${await query()}`)).find((t) => t.name === name);
    if (trunk === undefined) throw new NotFoundError(`trunk ${name} not found`);
    return trunk;
  };
  return {
    addTrunk: async (input) => call<Trunk>('POST', `/api/v1/trunks${await query()}`, input),
    listTrunks: async () => call<Trunk[]>('GET', `/api/v1/trunks${await query()}`),
    removeTrunk: async (name) => call<void>('DELETE', `/api/v1/trunks/${encodeURIComponent((await trunkNamed(name)).id)}`),
    addDid: async (number, target, trunkName) => {
      const id = await scope();
      const trunkId = trunkName === undefined ? undefined : (await trunkNamed(trunkName)).id;
      return call<Did>('POST', '/api/v1/dids', { number, target, ...(id !== undefined ? { tenantId: id } : {}), ...(trunkId !== undefined ? { trunkId } : {}) });
    },
    listDids: async () => call<Did[]>('GET', `/api/v1/dids${await query()}`),
    removeDid: async (number) => {
      const did = (await call<Did[]>('GET', `/api/v1/dids${await query({ number })}`))[0];
      if (did === undefined) throw new NotFoundError(`DID ${number} not found`);
      await call<void>('DELETE', `/api/v1/dids/${encodeURIComponent(did.id)}`);
    },
    setDialPlan: async (document) => call<DialPlan>('PUT', `/api/v1/dialplan${await query()}`, document),
    getDialPlan: async () => call<DialPlan>('GET', `/api/v1/dialplan${await query()}`),
    listCdrs: async (q) =>
      call<CdrPage>(
        'GET',
        `/api/v1/cdrs${await query({
          since: q.since === undefined ? undefined : new Date(q.since).toISOString(),
          until: q.until === undefined ? undefined : new Date(q.until).toISOString(),
          number: q.number,
          limit: q.limit === undefined ? undefined : String(q.limit),
          cursor: q.cursor,
        })}`,
      ),
    trunkNames: async () => new Map((await call<Trunk[]>('GET', `/api/v1/trunks${await query()}`)).map((t) => [t.id, t.name])),
    close: async () => {},
  };
}
