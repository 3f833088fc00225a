import { describeError, type Logger } from '../lib/index.js';
import type { Bus } from '../platform/index.js';

/**
 * Sends a store's change notice on the bus. The notice is a cache hint sent after the commit
 * (SIP and call-control nodes fall back to their cache TTL without it), so a failing bus is
 * logged as "could not publish <what> change" and never fails the write.
 */
export async function publishChange(bus: Bus | undefined, log: Logger, topic: string, change: object, what: string): Promise<void> {
  if (bus === undefined) return;
  try {
    await bus.publish(topic, JSON.stringify(change));
  } catch (err) {
    log.warn({ err: describeError(err), change }, `could not publish ${what} change`);
  }
}
