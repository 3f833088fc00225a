/**
 * What the local media engine keeps for each thing it runs: a bridge, a play, a recording, a
 * conference, a fork, an in-process tap. Data only; local-engine.ts drives them every tick.
 */
import type { AudioFork } from '../fork/index.js';
import type { ConferenceMixer } from '../mixer/index.js';
import type { Player } from '../player/index.js';
import type { Recorder } from '../recorder/index.js';
import type { RecordTarget } from './api.js';
import type { EngineEndpoint, LeadSource } from './engine-endpoint.js';
import type { FrameResamplers } from './frame-resampler.js';

/** conferences mix at this rate, whatever their members send */
export const CONFERENCE_RATE = 16000;

export interface Bridge {
  id: string;
  a: EngineEndpoint;
  b: EngineEndpoint;
  relay: { stop(): void } | undefined;
  transcoding: boolean;
}

export interface ActivePlay {
  id: string;
  endpoint: EngineEndpoint;
  player: Player;
  bargeIn: boolean;
  streamIds: string[];
  /** the player writes each frame here: it is encoded and sent in the same tick, then reused */
  frame: Int16Array;
  /** the play as the endpoint takes its frames ahead of time (made once: it is used every tick) */
  lead: LeadSource;
}

export interface ActiveRecording {
  id: string;
  key: string;
  recorder: Recorder;
  target: RecordTarget;
  endpoints: EngineEndpoint[];
  channels: 1 | 2;
  rate: 8000 | 16000;
  stopping: boolean;
  /** a conference recording's own resampler state */
  resamplers: FrameResamplers;
}

export interface Conference {
  id: string;
  mixer: ConferenceMixer;
  members: Map<string, EngineEndpoint>;
  /** this tick's output per member at CONFERENCE_RATE */
  outputs: Map<string, Int16Array>;
  /** the sum of all voices this tick, for recording the conference */
  lastMix: Int16Array | undefined;
}

export interface ActiveFork {
  id: string;
  endpoint: EngineEndpoint;
  fork: AudioFork;
  rate: number;
  playback: boolean;
}

/** An in-process consumer of an endpoint's received audio (tapAudio). */
export interface ActiveTap {
  endpoint: EngineEndpoint;
  rate: 8000 | 16000;
  onFrame: (pcm: Int16Array) => void;
}
