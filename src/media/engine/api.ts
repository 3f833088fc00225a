/**
 * The media engine's one API (DESIGN.md): the B2BUA and the Media Control Platform drive media
 * through it, in-process (LocalMediaEngine) or over the bus (RemoteMediaEngine → `--role media`).
 * Everything here is plain data with string ids, so the same calls cross the bus unchanged.
 */
import type { CodecName, DtmfDigit, MediaDirection } from '../types.js';

export type EndpointKind = 'rtp' | 'srtp' | 'webrtc';

export interface CreateEndpointRequest {
  kind: EndpointKind;
  /** the remote offer when we answer; absent when we make the offer */
  remoteSdp?: string;
  /** codecs we accept, in preference order; default the engine's list */
  codecs?: CodecName[];
  /** address family of the local socket; default follows the remote SDP, else IPv4 */
  family?: 'IPv4' | 'IPv6';
  /** free-form labels carried into events and metrics (call id, tenant) */
  labels?: Record<string, string>;
  /** put the endpoint on the same media node as this endpoint (legs of one call must meet there) */
  near?: string;
}

export interface EndpointDescription {
  id: string;
  /** our SDP: the answer when remoteSdp was given, else an offer */
  localSdp: string;
  /** the codec we send with, once negotiated */
  codec?: CodecName;
  direction?: MediaDirection;
}

export interface UpdateEndpointRequest {
  /** an answer to our offer, or a re-offer (hold, codec or address change) that we answer */
  remoteSdp: string;
}

export type PlayItem =
  | { kind: 'file'; path: string }
  | { kind: 'blob'; key: string }
  | { kind: 'tone'; frequenciesHz: number[]; durationMs: number; levelDbfs?: number }
  | { kind: 'silence'; durationMs: number }
  | { kind: 'dtmf-tones'; digits: string; toneMs?: number; gapMs?: number }
  /** a stream the caller writes L16 into with writeStream() (TTS) */
  | { kind: 'stream'; streamId: string; sampleRate: number };

export interface PlayRequest {
  endpointId: string;
  items: PlayItem[];
  /** stop playing when the endpoint receives a DTMF digit (or speech, when detection is on) */
  bargeIn?: boolean;
  /** repeat the list until stopped (music on hold) */
  loop?: boolean;
}

export type RecordTarget = { endpointId: string } | { bridgeId: string } | { conferenceId: string };

export interface RecordRequest {
  target: RecordTarget;
  /** blob key the WAV lands at; default recordings/<id>.wav */
  key?: string;
  /** 2 = stereo, one channel per party (bridge only); default 1 */
  channels?: 1 | 2;
  sampleRate?: 8000 | 16000;
}

export interface ConferenceJoinOptions {
  muted?: boolean;
  /** gain applied to this party's voice, in dB */
  gainDb?: number;
}

export interface ForkRequest {
  endpointId: string;
  /** ws:// or wss:// URL that receives L16 audio (binary frames) and may send audio back */
  url: string;
  sampleRate?: 8000 | 16000;
  /** play binary frames the far end sends back into the endpoint */
  playback?: boolean;
  /** sent as the first (text) message */
  metadata?: Record<string, string>;
}

export type MediaEvent =
  | { type: 'dtmf'; endpointId: string; digit: DtmfDigit; durationMs: number; source: 'rfc4733' | 'inband' }
  /**
   * pendingMs: the play's last audio is still queued for sending (taken ahead of its time) and is
   * heard for this much longer; stopPlay(playId) still cuts it off.
   */
  | { type: 'play.done'; playId: string; endpointId: string; reason: 'finished' | 'stopped' | 'barge-in' | 'error'; error?: string; pendingMs?: number }
  | { type: 'record.done'; recordingId: string; key: string; durationMs: number; bytes: number; reason: 'stopped' | 'ended' | 'error'; error?: string }
  | { type: 'endpoint.timeout'; endpointId: string }
  | { type: 'endpoint.latched'; endpointId: string; address: string; port: number }
  | { type: 'endpoint.closed'; endpointId: string }
  | { type: 'fork.closed'; forkId: string; endpointId: string; reason: string }
  /** the media node serving these endpoints is gone (remote engine only) */
  | { type: 'engine.lost'; endpointIds: string[]; reason: string };

export interface EndpointStatsView {
  id: string;
  kind: EndpointKind;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  jitterMs: number;
  rttMs?: number;
  codec?: CodecName;
}

export interface MediaEngineApi {
  createEndpoint(request: CreateEndpointRequest): Promise<EndpointDescription>;
  updateEndpoint(id: string, request: UpdateEndpointRequest): Promise<EndpointDescription>;
  deleteEndpoint(id: string): Promise<void>;
  endpointStats(id: string): Promise<EndpointStatsView>;

  /** join two endpoints: relay without decoding when codecs match, else transcode */
  bridge(endpointA: string, endpointB: string): Promise<{ bridgeId: string; transcoding: boolean }>;
  unbridge(bridgeId: string): Promise<void>;

  play(request: PlayRequest): Promise<{ playId: string }>;
  stopPlay(playId: string): Promise<void>;
  pausePlay(playId: string): Promise<void>;
  resumePlay(playId: string): Promise<void>;
  /** append L16 samples (little-endian bytes) to a 'stream' play item; end=true closes it */
  writeStream(streamId: string, pcm: Uint8Array, end?: boolean): Promise<void>;

  record(request: RecordRequest): Promise<{ recordingId: string; key: string }>;
  stopRecord(recordingId: string): Promise<void>;
  pauseRecord(recordingId: string): Promise<void>;
  resumeRecord(recordingId: string): Promise<void>;

  sendDtmf(endpointId: string, digits: string, durationMs?: number): Promise<void>;
  /** turn in-band (Goertzel) DTMF detection on for an endpoint without telephone-event */
  detectInbandDtmf(endpointId: string, on: boolean): Promise<void>;

  createConference(options?: { near?: string }): Promise<{ conferenceId: string }>;
  joinConference(conferenceId: string, endpointId: string, options?: ConferenceJoinOptions): Promise<void>;
  updateParticipant(conferenceId: string, endpointId: string, options: ConferenceJoinOptions): Promise<void>;
  leaveConference(conferenceId: string, endpointId: string): Promise<void>;
  deleteConference(conferenceId: string): Promise<void>;

  startFork(request: ForkRequest): Promise<{ forkId: string }>;
  stopFork(forkId: string): Promise<void>;

  onEvent(listener: (event: MediaEvent) => void): () => void;
  close(): Promise<void>;
}

/** A tap of an endpoint's received audio in this process; close() is idempotent. */
export interface LocalAudioTap {
  close(): void;
}

/**
 * What an engine running in the caller's own process can add to MediaEngineApi: an endpoint's
 * received audio handed to a function, 20 ms frame by frame, with no socket in between (a fork
 * to a loopback WebSocket costs framing, masking and two copies per frame for the same audio).
 */
export interface LocalAudioTaps {
  /** onFrame gets every tick's received audio at sampleRate (silence when none arrived); the array is the consumer's to keep */
  tapAudio(endpointId: string, sampleRate: 8000 | 16000, onFrame: (pcm: Int16Array) => void): LocalAudioTap;
}

/** True when `engine` runs in this process and can hand audio to a function directly. */
export function hasLocalAudioTaps(engine: MediaEngineApi): engine is MediaEngineApi & LocalAudioTaps {
  return typeof (engine as Partial<LocalAudioTaps>).tapAudio === 'function';
}
