/**
 * The wire format of the media engine over the bus (DESIGN.md: `--role media` on another machine).
 *
 * - A media node announces itself under `media:node:<nodeId>` (KV with a TTL it keeps renewing);
 *   a client that stops seeing the key treats the node as lost.
 * - Requests are published on `media:req:<nodeId>`, replies on the client's own topic, events on
 *   `media:evt:<nodeId>`. Pub/sub is fire-and-forget, so every request has a deadline.
 * - Every id a node hands out starts with `<nodeId>~`, so a client routes later calls by the id
 *   alone and a second client (another calls node) can drive the same endpoint.
 */
import { ClosedError, ConflictError, InvalidInputError, NotFoundError, TimeoutError, UnavailableError } from '../../lib/index.js';
import type { MediaEngineApi } from './api.js';

export const NODE_KEY_PREFIX = 'media:node:';
export const NODE_TTL_MS = 6000;
export const NODE_HEARTBEAT_MS = 2000;

export const requestTopic = (nodeId: string): string => `media:req:${nodeId}`;
export const eventTopic = (nodeId: string): string => `media:evt:${nodeId}`;
export const replyTopic = (clientId: string): string => `media:rep:${clientId}`;

/** What a node writes under its key. */
export interface MediaNodeInfo {
  nodeId: string;
  endpoints: number;
  portsFree: number;
  startedAt: number;
}

/** The methods that cross the bus: the whole API but onEvent/close. */
export type MediaMethod = Exclude<keyof MediaEngineApi, 'onEvent' | 'close'>;

export const MEDIA_METHODS: readonly MediaMethod[] = [
  'createEndpoint', 'updateEndpoint', 'deleteEndpoint', 'endpointStats',
  'bridge', 'unbridge',
  'play', 'stopPlay', 'pausePlay', 'resumePlay', 'writeStream',
  'record', 'stopRecord', 'pauseRecord', 'resumeRecord',
  'sendDtmf', 'detectInbandDtmf',
  'createConference', 'joinConference', 'updateParticipant', 'leaveConference', 'deleteConference',
  'startFork', 'stopFork',
];

export interface MediaRequest {
  id: string;
  replyTo: string;
  method: MediaMethod;
  args: unknown[];
}

export type MediaReply =
  | { id: string; ok: true; result: unknown }
  | { id: string; ok: false; error: { name: string; message: string } };

/** The node an id belongs to (the part before `~`), or undefined for an id no node made. */
export function nodeOfId(id: string): string | undefined {
  const tilde = id.indexOf('~');
  return tilde > 0 ? id.slice(0, tilde) : undefined;
}

/** Binary arguments (writeStream's PCM) travel as base64 inside the JSON. */
export function encodeArgs(method: MediaMethod, args: unknown[]): unknown[] {
  if (method === 'writeStream' && args[1] instanceof Uint8Array) {
    return [args[0], Buffer.from(args[1]).toString('base64'), args[2]];
  }
  return args;
}

export function decodeArgs(method: MediaMethod, args: unknown[]): unknown[] {
  if (method === 'writeStream' && typeof args[1] === 'string') {
    return [args[0], new Uint8Array(Buffer.from(args[1], 'base64')), args[2]];
  }
  return args;
}

const ERRORS: Record<string, new (message: string) => Error> = {
  NotFoundError,
  ConflictError,
  UnavailableError,
  ClosedError,
  TimeoutError,
  InvalidInputError: (class extends InvalidInputError {
    constructor(message: string) {
      super(message);
      this.name = 'InvalidInputError';
    }
  }) as new (message: string) => Error,
};

/** Rebuild a named error from a reply, so callers can still tell 404 from 503. */
export function errorFromReply(error: { name: string; message: string }): Error {
  const Ctor = ERRORS[error.name];
  return Ctor !== undefined ? new Ctor(error.message) : new Error(error.message);
}
