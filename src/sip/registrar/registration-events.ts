/**
 * Registration events on the bus (topic `registrations`), JSON per message, so control-plane
 * services on other machines (presence, agent state, the admin console) see phones come and go.
 */
import { describeError, type Logger } from '../../lib/index.js';
import { jsonField, parseJsonField, type Bus } from '../../platform/index.js';
import type { Binding, BindingSource } from './location-store.js';

export const REGISTRATIONS_TOPIC = 'registrations';

export type RegistrationEventType = 'registered' | 'refreshed' | 'removed' | 'expired';

export interface RegistrationEvent {
  type: RegistrationEventType;
  aor: string;
  contact: string;
  expiresAt: number;
  instanceId?: string | undefined;
  regId?: number | undefined;
  source: BindingSource;
  userAgent?: string | undefined;
  /** the node that published the event */
  nodeId: string;
  /** wall-clock ms */
  at: number;
}

export function registrationEvent(type: RegistrationEventType, binding: Binding, nodeId: string, at: number): RegistrationEvent {
  return {
    type,
    aor: binding.aor,
    contact: binding.contact,
    expiresAt: binding.expiresAt,
    instanceId: binding.instanceId,
    regId: binding.regId,
    source: binding.source,
    userAgent: binding.userAgent,
    nodeId,
    at,
  };
}

const TYPES = new Set<string>(['registered', 'refreshed', 'removed', 'expired']);

/** decode a bus message; undefined for anything that is not a registration event */
export function parseRegistrationEvent(text: string): RegistrationEvent | undefined {
  const value = parseJsonField(text);
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Partial<RegistrationEvent>;
  if (typeof e.type !== 'string' || !TYPES.has(e.type) || typeof e.aor !== 'string' || typeof e.contact !== 'string') return undefined;
  return e as RegistrationEvent;
}

/** fire and forget: an event lost to a bus outage must never fail a registration */
export function publishRegistrationEvents(bus: Bus | undefined, events: readonly RegistrationEvent[], logger: Logger): void {
  if (bus === undefined) return;
  for (const event of events) {
    bus.publish(REGISTRATIONS_TOPIC, jsonField(event)).catch((err: unknown) => {
      logger.debug({ err: describeError(err), aor: event.aor, type: event.type }, 'registration event not published');
    });
  }
}
