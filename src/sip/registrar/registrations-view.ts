/**
 * What the REST API needs from the registrar without speaking SIP: list the bindings of an AOR,
 * list AORs, remove an AOR (each removed binding is announced on the bus like an unregister).
 */
import { silentLogger, type Logger, type Scheduler } from '../../lib/index.js';
import type { Bus } from '../../platform/index.js';
import type { Binding, LocationStore } from './location-store.js';
import { publishRegistrationEvents, registrationEvent } from './registration-events.js';

export interface RegistrationsViewOptions {
  store: LocationStore;
  scheduler: Scheduler;
  nodeId: string;
  bus?: Bus;
  logger?: Logger;
}

export interface BindingView {
  aor: string;
  contact: string;
  q: number;
  /** seconds left */
  expires: number;
  expiresAt: number;
  registeredAt: number;
  path: string[];
  instanceId?: string | undefined;
  regId?: number | undefined;
  source: Binding['source'];
  userAgent?: string | undefined;
}

export interface RegistrationsView {
  bindings(aor: string): Promise<BindingView[]>;
  aors(options?: { prefix?: string; limit?: number }): Promise<string[]>;
  count(): Promise<number>;
  /** remove every binding of the AOR; returns how many were removed */
  remove(aor: string): Promise<number>;
}

export function registrationsView(options: RegistrationsViewOptions): RegistrationsView {
  const { store, scheduler, nodeId } = options;
  const log = options.logger ?? silentLogger;
  return {
    async bindings(aor) {
      const now = scheduler.wallNow();
      return (await store.bindings(aor)).map((b) => ({
        aor: b.aor,
        contact: b.contact,
        q: b.q,
        expires: Math.max(0, Math.ceil((b.expiresAt - now) / 1000)),
        expiresAt: b.expiresAt,
        registeredAt: b.registeredAt,
        path: b.path,
        instanceId: b.instanceId,
        regId: b.regId,
        source: b.source,
        userAgent: b.userAgent,
      }));
    },
    aors: (o) => store.aors(o),
    count: () => store.count(),
    async remove(aor) {
      // no expectVersion: an administrative removal wins over a racing refresh
      const current = await store.bindings(aor);
      if (current.length === 0) return 0;
      await store.replace(aor, []);
      const at = scheduler.wallNow();
      publishRegistrationEvents(options.bus, current.map((b) => registrationEvent('removed', b, nodeId, at)), log);
      return current.length;
    },
  };
}
