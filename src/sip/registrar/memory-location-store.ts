/**
 * The in-process LocationStore (one node). Versions come from one counter that never goes back,
 * so a version read before an AOR was removed and registered again can never match (no ABA).
 * Expired bindings are filtered on every read and removed by a sweep on the Scheduler.
 */
import { ClosedError, ConflictError, TypedEmitter, type Scheduler, type TimerHandle } from '../../lib/index.js';
import { detachedString } from '../message/index.js';
import type { Binding, ExpiredBindings, ExpiringLocationStore } from './location-store.js';

export interface MemoryLocationStoreOptions {
  scheduler: Scheduler;
  /** how often expired bindings are removed (and reported to onExpired); default 10 s, 0 = never */
  sweepIntervalMs?: number;
}

interface Entry {
  version: number;
  bindings: Binding[];
}

/**
 * One write to the store, as other processes holding a copy need it (LocationReplica): the
 * AOR's whole binding set after the write (empty: removed) and the version of the write.
 */
export interface LocationChange {
  aor: string;
  version: number;
  bindings: Binding[];
  /** who asked for the write, when the caller named itself (a copy that has it already) */
  origin?: string | undefined;
}

type StoreEvents = { expired: [expired: ExpiredBindings]; change: [change: LocationChange] };

export class MemoryLocationStore implements ExpiringLocationStore {
  private readonly scheduler: Scheduler;
  private readonly entries = new Map<string, Entry>();
  private readonly events = new TypedEmitter<StoreEvents>();
  private readonly sweepTimer: TimerHandle | undefined;
  private lastVersion = 0;
  private closed = false;

  constructor(options: MemoryLocationStoreOptions) {
    this.scheduler = options.scheduler;
    const every = options.sweepIntervalMs ?? 10_000;
    this.sweepTimer = every > 0 ? this.scheduler.setInterval(() => void this.sweepAndReport(), every) : undefined;
  }

  async bindings(aor: string): Promise<Binding[]> {
    return (await this.read(aor)).bindings;
  }

  async read(aor: string): Promise<{ bindings: Binding[]; version: number }> {
    return this.readNow(aor);
  }

  readNow(aor: string): { bindings: Binding[]; version: number } {
    this.assertOpen();
    const entry = this.entries.get(aor);
    if (entry === undefined) return { bindings: [], version: 0 };
    const now = this.scheduler.wallNow();
    return { bindings: entry.bindings.filter((b) => b.expiresAt > now).map(copyBinding), version: entry.version };
  }

  async replace(aor: string, bindings: Binding[], expectVersion?: number): Promise<void> {
    this.replaceNow(aor, bindings, { expectVersion });
  }

  /**
   * replace() done at once, returning the version of the write (a removal gets one too, so that
   * copies elsewhere can order it after the writes before it). `origin` names the writer in the
   * change event; `handedOver` says the bindings are fresh objects nobody else holds (parsed
   * from IPC), kept as they are instead of copied.
   */
  replaceNow(aor: string, bindings: Binding[], options: { expectVersion?: number | undefined; origin?: string; handedOver?: boolean } = {}): number {
    const { expectVersion, origin } = options;
    this.assertOpen();
    const held = this.entries.get(aor);
    const current = held?.version ?? 0;
    if (expectVersion !== undefined && expectVersion !== current) {
      throw new ConflictError(`bindings of ${aor} changed (version ${current}, expected ${expectVersion})`);
    }
    const version = ++this.lastVersion;
    let stored: Binding[] = [];
    if (bindings.length === 0) this.entries.delete(aor);
    else this.entries.set(aor, { version, bindings: (stored = options.handedOver === true ? bindings : bindings.map((b) => keptAsIs(held?.bindings, b) ?? storedBinding(b))) });
    if (this.events.listenerCount('change') > 0) this.events.emit('change', { aor, version, bindings: stored, origin });
    return version;
  }

  /** hear every write (replace, sweep) as it happens; returns an unsubscribe function */
  onChange(listener: (change: LocationChange) => void): () => void {
    return this.events.on('change', listener);
  }

  /** every AOR held, with its version and bindings (expired ones included), for a new copy elsewhere */
  changesSoFar(): LocationChange[] {
    this.assertOpen();
    return [...this.entries].map(([aor, e]) => ({ aor, version: e.version, bindings: e.bindings }));
  }

  async count(): Promise<number> {
    this.assertOpen();
    const now = this.scheduler.wallNow();
    let n = 0;
    for (const entry of this.entries.values()) if (entry.bindings.some((b) => b.expiresAt > now)) n++;
    return n;
  }

  async aors(options: { prefix?: string; limit?: number } = {}): Promise<string[]> {
    this.assertOpen();
    const now = this.scheduler.wallNow();
    const prefix = options.prefix ?? '';
    const out: string[] = [];
    for (const [aor, entry] of this.entries) {
      if (aor.startsWith(prefix) && entry.bindings.some((b) => b.expiresAt > now)) out.push(aor);
    }
    out.sort();
    return options.limit === undefined ? out : out.slice(0, Math.max(0, options.limit));
  }

  async sweepExpired(limit = Number.POSITIVE_INFINITY): Promise<ExpiredBindings[]> {
    this.assertOpen();
    const now = this.scheduler.wallNow();
    const out: ExpiredBindings[] = [];
    for (const [aor, entry] of this.entries) {
      if (out.length >= limit) break;
      const expired = entry.bindings.filter((b) => b.expiresAt <= now);
      if (expired.length === 0) continue;
      const live = entry.bindings.filter((b) => b.expiresAt > now);
      const version = ++this.lastVersion;
      if (live.length === 0) this.entries.delete(aor);
      else this.entries.set(aor, { version, bindings: live });
      if (this.events.listenerCount('change') > 0) this.events.emit('change', { aor, version, bindings: live });
      out.push({ aor, bindings: expired });
    }
    return out;
  }

  onExpired(listener: (expired: ExpiredBindings) => void): () => void {
    return this.events.on('expired', listener);
  }

  /** number of AORs held, expired ones not yet swept included (for tests and metrics) */
  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweepTimer?.cancel();
    this.entries.clear();
    this.events.removeAllListeners();
  }

  private async sweepAndReport(): Promise<void> {
    if (this.closed) return;
    for (const expired of await this.sweepExpired()) this.events.emit('expired', expired);
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('location store is closed');
  }
}

/** what the store keeps: a copy whose strings do not pin the message they were parsed from */
export function storedBinding(b: Binding): Binding {
  return {
    ...b,
    aor: detachedString(b.aor),
    contact: detachedString(b.contact),
    callId: detachedString(b.callId),
    path: b.path.map((p) => detachedString(p)),
    instanceId: detachedString(b.instanceId),
    userAgent: detachedString(b.userAgent),
    source: { ...b.source, address: detachedString(b.source.address), connectionId: detachedString(b.source.connectionId) },
  };
}

/**
 * The binding already stored that `b` is an unchanged copy of, if any: a REGISTER that updates
 * one of an AOR's bindings writes the others back as read, and keeping their stored objects
 * spares a copy of each (and old-generation garbage) per write.
 */
function keptAsIs(held: readonly Binding[] | undefined, b: Binding): Binding | undefined {
  if (held === undefined) return undefined;
  for (const s of held) if (sameBinding(s, b)) return s;
  return undefined;
}

function sameBinding(a: Binding, b: Binding): boolean {
  if (
    a.contact !== b.contact || a.expiresAt !== b.expiresAt || a.cseq !== b.cseq || a.callId !== b.callId || a.aor !== b.aor || a.q !== b.q ||
    a.instanceId !== b.instanceId || a.regId !== b.regId || a.userAgent !== b.userAgent || a.registeredAt !== b.registeredAt ||
    a.path.length !== b.path.length
  ) {
    return false;
  }
  for (let i = 0; i < a.path.length; i++) if (a.path[i] !== b.path[i]) return false;
  const x = a.source;
  const y = b.source;
  return x.protocol === y.protocol && x.address === y.address && x.port === y.port && x.connectionId === y.connectionId && x.nodeId === y.nodeId;
}

/** callers get copies: mutating what read() returned must not change the store */
export function copyBinding(b: Binding): Binding {
  return { ...b, path: [...b.path], source: { ...b.source } };
}
