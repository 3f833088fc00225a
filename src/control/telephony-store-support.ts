import { describeError, type Logger } from '../lib/index.js';
import type { Bus } from '../platform/index.js';

/**
 * What the telephony stores share: row decoding and the change notice. The notice is a cache
 * hint for call-control nodes (as provisioning.changed is for SIP nodes): the write is committed
 * before it is sent, so a failing bus is logged and never fails the write.
 */
export const TELEPHONY_CHANGED_TOPIC = 'telephony.changed';

export interface TelephonyChange {
  kind: 'trunk' | 'did' | 'dialplan';
  action: 'created' | 'updated' | 'deleted';
  tenantId: string;
  id?: string;
}

export type Row = Record<string, unknown>;

export async function announceChange(bus: Bus | undefined, log: Logger, change: TelephonyChange): Promise<void> {
  if (bus === undefined) return;
  try {
    await bus.publish(TELEPHONY_CHANGED_TOPIC, JSON.stringify(change));
  } catch (err) {
    log.warn({ err: describeError(err), change }, 'could not publish telephony change');
  }
}

export function isoTimestamp(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return new Date(String(value)).toISOString();
}

export function optionalTimestamp(value: unknown): string | null {
  return value === null || value === undefined ? null : isoTimestamp(value);
}

/** jsonb arrives parsed from both drivers; a string is parsed defensively */
export function jsonValue(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

export function optionalString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function optionalNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
