import type { Bus, Subscription } from '../../platform/index.js';
import { parseJsonField } from '../../platform/index.js';
import type { Logger, Scheduler, TimerHandle } from '../../lib/index.js';
import { describeError } from '../../lib/index.js';
import type { MediaEngineApi } from './api.js';
import {
  MEDIA_METHODS,
  NODE_HEARTBEAT_MS,
  NODE_KEY_PREFIX,
  NODE_TTL_MS,
  decodeArgs,
  eventTopic,
  requestTopic,
  type MediaMethod,
  type MediaNodeInfo,
  type MediaReply,
  type MediaRequest,
} from './bus-protocol.js';

export interface MediaNodeOptions {
  nodeId: string;
  bus: Bus;
  engine: MediaEngineApi;
  scheduler: Scheduler;
  logger: Logger;
  /** figures for the heartbeat (endpoints in use, free ports) */
  load: () => { endpoints: number; portsFree: number };
}

/**
 * Serves a local engine on the bus: the `media` role. Requests come in on the node's topic and are
 * answered on the caller's reply topic; every engine event is published on the node's event topic;
 * the node's key is renewed so clients see it alive. A request that fails is answered with the
 * error's name and message; nothing a client sends can throw out of here.
 */
export class MediaNode {
  private subscription: Subscription | undefined;
  private heartbeat: TimerHandle | undefined;
  private offEvents: (() => void) | undefined;
  private closed = false;
  private readonly startedAt: number;

  constructor(private readonly options: MediaNodeOptions) {
    this.startedAt = options.scheduler.wallNow();
  }

  async start(): Promise<void> {
    const { bus, nodeId, engine } = this.options;
    this.subscription = await bus.subscribe(requestTopic(nodeId), (message) => {
      void this.handle(message);
    });
    this.offEvents = engine.onEvent((event) => {
      bus.publish(eventTopic(nodeId), JSON.stringify(event)).catch((err: unknown) => {
        this.options.logger.warn({ err: describeError(err), event: event.type }, 'media event not published');
      });
    });
    await this.announce();
    this.heartbeat = this.options.scheduler.setInterval(() => void this.announce(), NODE_HEARTBEAT_MS);
  }

  private async announce(): Promise<void> {
    if (this.closed) return;
    const info: MediaNodeInfo = { nodeId: this.options.nodeId, ...this.options.load(), startedAt: this.startedAt };
    try {
      await this.options.bus.set(NODE_KEY_PREFIX + this.options.nodeId, JSON.stringify(info), { ttlMs: NODE_TTL_MS });
    } catch (err) {
      this.options.logger.warn({ err: describeError(err) }, 'media node heartbeat failed');
    }
  }

  private async handle(message: string): Promise<void> {
    const request = parseRequest(message);
    if (request === undefined) {
      this.options.logger.warn({ message: message.slice(0, 200) }, 'malformed media request ignored');
      return;
    }
    let reply: MediaReply;
    try {
      const fn = this.options.engine[request.method] as (...args: unknown[]) => Promise<unknown>;
      const result = await fn.apply(this.options.engine, decodeArgs(request.method, request.args));
      reply = { id: request.id, ok: true, result: result ?? null };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      reply = { id: request.id, ok: false, error: { name: e.name, message: e.message } };
    }
    if (this.closed) return;
    try {
      await this.options.bus.publish(request.replyTo, JSON.stringify(reply));
    } catch (err) {
      this.options.logger.warn({ err: describeError(err), method: request.method }, 'media reply not published');
    }
  }

  /** Stops serving and withdraws the node's key (clients then see it gone at once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat?.cancel();
    this.offEvents?.();
    await this.subscription?.unsubscribe().catch(() => undefined);
    await this.options.bus.delete(NODE_KEY_PREFIX + this.options.nodeId).catch(() => false);
  }
}

function parseRequest(message: string): MediaRequest | undefined {
  const value = parseJsonField(message);
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<MediaRequest>;
  if (typeof r.id !== 'string' || typeof r.replyTo !== 'string' || !Array.isArray(r.args)) return undefined;
  if (typeof r.method !== 'string' || !(MEDIA_METHODS as readonly string[]).includes(r.method)) return undefined;
  return { id: r.id, replyTo: r.replyTo, method: r.method as MediaMethod, args: r.args as unknown[] };
}
