/**
 * The location service of RFC 3261 §10 behind a port (Kamailio's usrloc habit): the registrar
 * writes bindings, the proxy reads them. Adapters: in-memory (one process) and Redis (several
 * SIP nodes share one registration set); both pass one contract suite.
 */
import type { TransportProtocol } from '../transport/index.js';

/** Where a contact was actually reached from (NAT: the registrar answers there, RFC 5626 §5). */
export interface BindingSource {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** stream transports: the connection the REGISTER came on (only meaningful on `nodeId`) */
  connectionId?: string | undefined;
  /** the SIP node holding that connection */
  nodeId: string;
}

export interface Binding {
  /** address of record, normalised `sip:user@domain` */
  aor: string;
  /** the Contact URI as registered (without header parameters) */
  contact: string;
  /** RFC 3261 §10.2.1.2 q-value, 0..1 (default 1) */
  q: number;
  /** wall-clock ms when the binding expires */
  expiresAt: number;
  callId: string;
  cseq: number;
  /** RFC 3327 Path header values, in order, to be used as Route towards the contact */
  path: string[];
  /** RFC 5626: +sip.instance and reg-id identify a flow */
  instanceId?: string | undefined;
  regId?: number | undefined;
  source: BindingSource;
  userAgent?: string | undefined;
  /** wall-clock ms of the first registration of this binding */
  registeredAt: number;
}

export interface LocationStore {
  /** current (unexpired) bindings of an AOR */
  bindings(aor: string): Promise<Binding[]>;
  /**
   * Replace the whole binding set of an AOR atomically (the registrar computes the new set
   * from the old one, RFC 3261 §10.3 step 7). An empty list removes the AOR.
   * `expectVersion`, when given, makes the write fail with ConflictError if someone else wrote
   * the AOR since it was read (two nodes registering the same AOR at once).
   */
  replace(aor: string, bindings: Binding[], expectVersion?: number): Promise<void>;
  /** bindings plus a version for replace(..., expectVersion) */
  read(aor: string): Promise<{ bindings: Binding[]; version: number }>;
  /**
   * read() and replace() done at once, by a store held in this process: the registrar uses them
   * when present instead of a promise per step. Same rules (expired bindings left out,
   * ConflictError on a version mismatch).
   */
  readNow?(aor: string): { bindings: Binding[]; version: number };
  replaceNow?(aor: string, bindings: Binding[], options: { expectVersion?: number | undefined }): number;
  /** number of AORs with at least one binding */
  count(): Promise<number>;
  /** AORs with bindings, optionally only those starting with a prefix; at most `limit` */
  aors(options?: { prefix?: string; limit?: number }): Promise<string[]>;
  close(): Promise<void>;
}

/** Bindings that a sweep found expired and removed from an AOR (reported exactly once). */
export interface ExpiredBindings {
  aor: string;
  bindings: Binding[];
}

/**
 * Optional extras both opencx adapters offer (kept out of LocationStore so a test double only
 * needs the core five methods).
 */
export interface ExpiringLocationStore extends LocationStore {
  /**
   * Remove bindings whose expiry has passed (RFC 3261 §10.3: a binding stops existing at its
   * expiry) and return them. Across nodes sharing one store each expired binding is returned by
   * exactly one sweep, so an `expired` event is published once.
   */
  sweepExpired(limit?: number): Promise<ExpiredBindings[]>;
  /** listen to what the store's own periodic sweep removes; returns an unsubscribe function */
  onExpired(listener: (expired: ExpiredBindings) => void): () => void;
}

export function isExpiringLocationStore(store: LocationStore): store is ExpiringLocationStore {
  const s = store as Partial<ExpiringLocationStore>;
  return typeof s.sweepExpired === 'function' && typeof s.onExpired === 'function';
}
