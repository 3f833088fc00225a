import type { Listener } from '../../lib/index.js';

/**
 * The shared bus: pub/sub topics, durable streams with consumer groups, and key/value with TTL.
 * Two adapters (in-process and Redis) pass one contract suite (test/helpers/contract).
 *
 * Values are strings everywhere (messages, stream field values, KV values), exactly as Redis
 * stores them: the bus never guesses at serialization. Callers that carry objects use
 * JSON.stringify/JSON.parse at their edge (see `jsonField`/`parseJsonField` below), which keeps
 * the wire format visible and the two adapters byte-identical.
 *
 * Errors: UnavailableError when the backend is unreachable (fail fast, never hang), ClosedError
 * after close(), NotFoundError for a missing consumer group, InvalidInputError for a value of the
 * wrong type (incr on a non-number).
 */

export interface StreamEntry {
  /** "<ms>-<seq>", ordered as in Redis */
  id: string;
  fields: Record<string, string>;
}

export interface ReadGroupOptions {
  /** most entries to return; default 10 */
  count?: number;
  /** wait up to this long when nothing is pending; absent or 0 returns at once (never "forever") */
  blockMs?: number;
}

export interface ClaimOptions {
  /** only entries delivered to some consumer and not acked for at least this long */
  minIdleMs: number;
  /** most entries to claim; default 10 */
  count?: number;
}

export interface AppendOptions {
  /** trim the stream to at most this many entries (oldest go first) */
  maxLen?: number;
}

export interface SetOptions {
  /** expire the key after this many milliseconds */
  ttlMs?: number;
}

/** '$' = only entries appended after the group is created; '0' = the whole stream; or an id */
export type GroupStart = '$' | '0' | string;

export interface Subscription {
  readonly topic: string;
  unsubscribe(): Promise<void>;
}

export type MessageHandler = (message: string, topic: string) => void;

export type BusEvents = {
  connected: [];
  disconnected: [reason: string];
};

export interface Bus {
  readonly kind: 'memory' | 'redis';
  /** true while the backend is reachable; calls made while false fail with UnavailableError */
  readonly connected: boolean;
  on<K extends keyof BusEvents>(event: K, listener: Listener<BusEvents[K]>): () => void;
  /** resolves once connected (at once for memory); rejects with TimeoutError after timeoutMs */
  whenConnected(timeoutMs?: number): Promise<void>;

  // --- pub/sub: fire-and-forget, only live subscribers see a message
  publish(topic: string, message: string): Promise<void>;
  subscribe(topic: string, handler: MessageHandler): Promise<Subscription>;
  /**
   * false only when a message published now is certain to reach nobody, so a publisher may skip
   * building it (hot paths that encode an event per request). It never needs a round trip: an
   * adapter whose subscribers may live in other processes answers true.
   */
  hasSubscribers(topic: string): boolean;

  // --- streams
  append(stream: string, fields: Record<string, string>, options?: AppendOptions): Promise<string>;
  /** idempotent: an existing group is kept as it is; creates the stream when missing */
  createGroup(stream: string, group: string, startAt: GroupStart): Promise<void>;
  /** new entries (never delivered to the group) for this consumer; they stay pending until acked */
  readGroup(stream: string, group: string, consumer: string, options?: ReadGroupOptions): Promise<StreamEntry[]>;
  /** returns how many were acknowledged */
  ack(stream: string, group: string, ids: readonly string[]): Promise<number>;
  /** take over entries left pending by a consumer (e.g. a dead node) for longer than minIdleMs */
  claimIdle(stream: string, group: string, consumer: string, options: ClaimOptions): Promise<StreamEntry[]>;
  /** keep only the newest maxLen entries; returns how many were removed */
  trim(stream: string, maxLen: number): Promise<number>;
  streamLength(stream: string): Promise<number>;

  // --- key/value
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: SetOptions): Promise<void>;
  /** true when the key existed */
  delete(key: string): Promise<boolean>;
  /** keys starting with prefix, sorted */
  scan(prefix: string): Promise<string[]>;
  /** atomic add (default 1) on an integer value (absent = 0); keeps the key's TTL */
  incr(key: string, by?: number): Promise<number>;

  /** idempotent; pending blocking reads reject with ClosedError */
  close(): Promise<void>;
}

/** Encode an object as a stream field / KV value. */
export function jsonField(value: unknown): string {
  return JSON.stringify(value);
}

/** Decode what jsonField wrote; undefined on anything that is not valid JSON (never throws). */
export function parseJsonField(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Compare two stream ids numerically ("10-0" > "9-5"). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = splitId(a);
  const [bm, bs] = splitId(b);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

function splitId(id: string): [number, number] {
  const dash = id.indexOf('-');
  if (dash < 0) return [Number(id) || 0, 0];
  return [Number(id.slice(0, dash)) || 0, Number(id.slice(dash + 1)) || 0];
}
