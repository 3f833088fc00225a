import type { Bus, Subscription } from '../../platform/index.js';
import { parseJsonField } from '../../platform/index.js';
import type { Logger, Scheduler, TimerHandle } from '../../lib/index.js';
import { ClosedError, InvalidInputError, TimeoutError, TypedEmitter, UnavailableError, describeError, randomToken } from '../../lib/index.js';
import type {
  ConferenceJoinOptions,
  CreateEndpointRequest,
  EndpointDescription,
  EndpointStatsView,
  ForkRequest,
  MediaEngineApi,
  MediaEvent,
  PlayRequest,
  RecordRequest,
  UpdateEndpointRequest,
} from './api.js';
import {
  NODE_HEARTBEAT_MS,
  NODE_KEY_PREFIX,
  encodeArgs,
  errorFromReply,
  eventTopic,
  nodeOfId,
  replyTopic,
  requestTopic,
  type MediaMethod,
  type MediaNodeInfo,
  type MediaReply,
} from './bus-protocol.js';

export interface RemoteMediaEngineOptions {
  bus: Bus;
  scheduler: Scheduler;
  logger: Logger;
  /** deadline for one request; default 5000 ms */
  requestTimeoutMs?: number;
  /** unique per client; default random */
  clientId?: string;
}

interface Pending {
  nodeId: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

/**
 * The media engine API driven over the bus (a `calls` or `mcp` node using a `media` node elsewhere).
 * New endpoints go to the least loaded live node (or next to `near`); every other call is routed by
 * the node prefix of its id. When a node's heartbeat key disappears, its pending requests fail with
 * UnavailableError and an `engine.lost` event names the endpoints that went with it: a lost media
 * node is an error the caller sees, never a hang.
 */
export class RemoteMediaEngine implements MediaEngineApi {
  private readonly clientId: string;
  private readonly timeoutMs: number;
  private readonly pending = new Map<string, Pending>();
  private readonly events = new TypedEmitter<{ event: [MediaEvent] }>();
  private readonly eventSubscriptions = new Map<string, Promise<Subscription>>();
  /** endpoints created through this client, by node: what `engine.lost` reports */
  private readonly endpointsByNode = new Map<string, Set<string>>();
  private readonly streamNodes = new Map<string, string>();
  private replySubscription: Promise<Subscription> | undefined;
  private watch: TimerHandle | undefined;
  private closed = false;
  private nextRequest = 0;

  constructor(private readonly options: RemoteMediaEngineOptions) {
    this.clientId = options.clientId ?? randomToken(9);
    this.timeoutMs = options.requestTimeoutMs ?? 5000;
  }

  /** The live media nodes, from their heartbeat keys. */
  async nodes(): Promise<MediaNodeInfo[]> {
    const keys = await this.options.bus.scan(NODE_KEY_PREFIX);
    const out: MediaNodeInfo[] = [];
    for (const key of keys) {
      const info = parseJsonField(await this.options.bus.get(key)) as MediaNodeInfo | undefined;
      if (info !== undefined && typeof info.nodeId === 'string') out.push(info);
    }
    return out;
  }

  async createEndpoint(request: CreateEndpointRequest): Promise<EndpointDescription> {
    const nodeId = request.near !== undefined ? this.nodeFor(request.near) : await this.pickNode();
    const description = (await this.call(nodeId, 'createEndpoint', [request])) as EndpointDescription;
    this.track(nodeId, description.id);
    return description;
  }

  updateEndpoint(id: string, request: UpdateEndpointRequest): Promise<EndpointDescription> {
    return this.routed(id, 'updateEndpoint', [id, request]) as Promise<EndpointDescription>;
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.routed(id, 'deleteEndpoint', [id]);
    const nodeId = nodeOfId(id);
    if (nodeId !== undefined) this.endpointsByNode.get(nodeId)?.delete(id);
  }

  endpointStats(id: string): Promise<EndpointStatsView> {
    return this.routed(id, 'endpointStats', [id]) as Promise<EndpointStatsView>;
  }

  bridge(endpointA: string, endpointB: string): Promise<{ bridgeId: string; transcoding: boolean }> {
    if (nodeOfId(endpointA) !== nodeOfId(endpointB)) {
      return Promise.reject(new InvalidInputError(`endpoints ${endpointA} and ${endpointB} are on different media nodes; create the second with near`));
    }
    return this.routed(endpointA, 'bridge', [endpointA, endpointB]) as Promise<{ bridgeId: string; transcoding: boolean }>;
  }

  async unbridge(bridgeId: string): Promise<void> {
    await this.routed(bridgeId, 'unbridge', [bridgeId]);
  }

  async play(request: PlayRequest): Promise<{ playId: string }> {
    const nodeId = this.nodeFor(request.endpointId);
    for (const item of request.items) if (item.kind === 'stream') this.streamNodes.set(item.streamId, nodeId);
    return (await this.call(nodeId, 'play', [request])) as { playId: string };
  }

  async stopPlay(playId: string): Promise<void> {
    await this.routed(playId, 'stopPlay', [playId]);
  }

  async pausePlay(playId: string): Promise<void> {
    await this.routed(playId, 'pausePlay', [playId]);
  }

  async resumePlay(playId: string): Promise<void> {
    await this.routed(playId, 'resumePlay', [playId]);
  }

  async writeStream(streamId: string, pcm: Uint8Array, end?: boolean): Promise<void> {
    const nodeId = this.streamNodes.get(streamId);
    if (nodeId === undefined) throw new InvalidInputError(`stream ${streamId} is not part of any play request`);
    if (end === true) this.streamNodes.delete(streamId);
    await this.call(nodeId, 'writeStream', [streamId, pcm, end ?? false]);
  }

  record(request: RecordRequest): Promise<{ recordingId: string; key: string }> {
    const target = request.target;
    const id = 'endpointId' in target ? target.endpointId : 'bridgeId' in target ? target.bridgeId : target.conferenceId;
    return this.routed(id, 'record', [request]) as Promise<{ recordingId: string; key: string }>;
  }

  async stopRecord(recordingId: string): Promise<void> {
    await this.routed(recordingId, 'stopRecord', [recordingId]);
  }

  async pauseRecord(recordingId: string): Promise<void> {
    await this.routed(recordingId, 'pauseRecord', [recordingId]);
  }

  async resumeRecord(recordingId: string): Promise<void> {
    await this.routed(recordingId, 'resumeRecord', [recordingId]);
  }

  async sendDtmf(endpointId: string, digits: string, durationMs?: number): Promise<void> {
    await this.routed(endpointId, 'sendDtmf', durationMs === undefined ? [endpointId, digits] : [endpointId, digits, durationMs]);
  }

  async detectInbandDtmf(endpointId: string, on: boolean): Promise<void> {
    await this.routed(endpointId, 'detectInbandDtmf', [endpointId, on]);
  }

  async createConference(options?: { near?: string }): Promise<{ conferenceId: string }> {
    const nodeId = options?.near !== undefined ? this.nodeFor(options.near) : await this.pickNode();
    return (await this.call(nodeId, 'createConference', [])) as { conferenceId: string };
  }

  async joinConference(conferenceId: string, endpointId: string, options?: ConferenceJoinOptions): Promise<void> {
    await this.routed(conferenceId, 'joinConference', options === undefined ? [conferenceId, endpointId] : [conferenceId, endpointId, options]);
  }

  async updateParticipant(conferenceId: string, endpointId: string, options: ConferenceJoinOptions): Promise<void> {
    await this.routed(conferenceId, 'updateParticipant', [conferenceId, endpointId, options]);
  }

  async leaveConference(conferenceId: string, endpointId: string): Promise<void> {
    await this.routed(conferenceId, 'leaveConference', [conferenceId, endpointId]);
  }

  async deleteConference(conferenceId: string): Promise<void> {
    await this.routed(conferenceId, 'deleteConference', [conferenceId]);
  }

  startFork(request: ForkRequest): Promise<{ forkId: string }> {
    return this.routed(request.endpointId, 'startFork', [request]) as Promise<{ forkId: string }>;
  }

  async stopFork(forkId: string): Promise<void> {
    await this.routed(forkId, 'stopFork', [forkId]);
  }

  onEvent(listener: (event: MediaEvent) => void): () => void {
    return this.events.on('event', listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watch?.cancel();
    for (const [id, p] of this.pending) {
      p.timer.cancel();
      p.reject(new ClosedError('media engine client closed'));
      this.pending.delete(id);
    }
    const subs = [...this.eventSubscriptions.values()];
    if (this.replySubscription !== undefined) subs.push(this.replySubscription);
    await Promise.all(subs.map((s) => s.then((sub) => sub.unsubscribe()).catch(() => undefined)));
  }

  // --- internals

  private nodeFor(id: string): string {
    const nodeId = nodeOfId(id);
    if (nodeId === undefined) throw new InvalidInputError(`"${id}" is not an id a media node made`);
    return nodeId;
  }

  private routed(id: string, method: MediaMethod, args: unknown[]): Promise<unknown> {
    let nodeId: string;
    try {
      nodeId = this.nodeFor(id);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.call(nodeId, method, args);
  }

  private async pickNode(): Promise<string> {
    let nodes: MediaNodeInfo[];
    try {
      nodes = await this.nodes();
    } catch (err) {
      throw new UnavailableError(`media nodes cannot be listed: ${describeError(err)}`, { cause: err });
    }
    if (nodes.length === 0) throw new UnavailableError('no media node is running (start one with --role media)');
    nodes.sort((a, b) => a.endpoints - b.endpoints || b.portsFree - a.portsFree);
    return (nodes[0] as MediaNodeInfo).nodeId;
  }

  private track(nodeId: string, endpointId: string): void {
    let set = this.endpointsByNode.get(nodeId);
    if (set === undefined) {
      set = new Set();
      this.endpointsByNode.set(nodeId, set);
    }
    set.add(endpointId);
  }

  private async call(nodeId: string, method: MediaMethod, args: unknown[]): Promise<unknown> {
    if (this.closed) throw new ClosedError('media engine client closed');
    await this.ensureSubscribed(nodeId);
    const id = `${this.clientId}.${++this.nextRequest}`;
    const message = JSON.stringify({ id, replyTo: replyTopic(this.clientId), method, args: encodeArgs(method, args) });
    return new Promise<unknown>((resolve, reject) => {
      const timer = this.options.scheduler.setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`media node ${nodeId} did not answer ${method} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { nodeId, resolve, reject, timer });
      this.options.bus.publish(requestTopic(nodeId), message).catch((err: unknown) => {
        const p = this.pending.get(id);
        if (p === undefined) return;
        this.pending.delete(id);
        p.timer.cancel();
        reject(new UnavailableError(`media request ${method} not sent: ${describeError(err)}`, { cause: err }));
      });
    });
  }

  private async ensureSubscribed(nodeId: string): Promise<void> {
    if (this.replySubscription === undefined) {
      this.replySubscription = this.options.bus.subscribe(replyTopic(this.clientId), (message) => this.onReply(message));
      this.replySubscription.catch(() => {
        this.replySubscription = undefined;
      });
      this.watch = this.options.scheduler.setInterval(() => void this.checkNodes(), NODE_HEARTBEAT_MS);
    }
    let sub = this.eventSubscriptions.get(nodeId);
    if (sub === undefined) {
      sub = this.options.bus.subscribe(eventTopic(nodeId), (message) => {
        const event = parseJsonField(message) as MediaEvent | undefined;
        if (event !== undefined && typeof event.type === 'string') this.events.emit('event', event);
      });
      this.eventSubscriptions.set(nodeId, sub);
      sub.catch(() => this.eventSubscriptions.delete(nodeId));
    }
    await Promise.all([this.replySubscription, sub]);
  }

  private onReply(message: string): void {
    const reply = parseJsonField(message) as MediaReply | undefined;
    if (reply === undefined || typeof reply.id !== 'string') return;
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    p.timer.cancel();
    if (reply.ok) p.resolve(reply.result);
    else p.reject(errorFromReply(reply.error));
  }

  /** A node whose key expired is gone: fail its requests and tell the caller which endpoints went with it. */
  private async checkNodes(): Promise<void> {
    const nodeIds = new Set<string>([...this.endpointsByNode.keys(), ...[...this.pending.values()].map((p) => p.nodeId)]);
    for (const nodeId of nodeIds) {
      let alive: boolean;
      try {
        alive = (await this.options.bus.get(NODE_KEY_PREFIX + nodeId)) !== undefined;
      } catch {
        continue; // the bus itself is down: that is not evidence that the node is
      }
      if (alive || this.closed) continue;
      const endpointIds = [...(this.endpointsByNode.get(nodeId) ?? [])];
      this.endpointsByNode.delete(nodeId);
      for (const [id, p] of this.pending) {
        if (p.nodeId !== nodeId) continue;
        this.pending.delete(id);
        p.timer.cancel();
        p.reject(new UnavailableError(`media node ${nodeId} is gone`));
      }
      this.options.logger.warn({ nodeId, endpoints: endpointIds.length }, 'media node lost');
      this.events.emit('event', { type: 'engine.lost', endpointIds, reason: `media node ${nodeId} stopped answering` });
    }
  }
}
