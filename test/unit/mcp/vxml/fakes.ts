// Test doubles for the VoiceXML interpreter: an in-memory Fetcher and a Platform that records
// what it is asked and answers each collection from a script.
import type { Fetcher, FetchRequest, FetchResponse } from '../../../../src/mcp/fetch/types.js';
import { FetchError } from '../../../../src/mcp/fetch/types.js';
import type {
  Platform,
  PlatformEvents,
  PlayHandle,
  QueuedPrompt,
  RecordRequest,
  RecordResult,
  TransferRequest,
  TransferResult,
} from '../../../../src/mcp/vxml/platform.js';
import { FakeScheduler } from '../../../../src/lib/clock.js';
import { VoiceXmlSession } from '../../../../src/mcp/vxml/index.js';
import type { SessionLimits, SessionResult } from '../../../../src/mcp/vxml/index.js';

export const BASE = 'http://test.local/app/';

export class MemoryFetcher implements Fetcher {
  readonly requests: FetchRequest[] = [];
  constructor(readonly files: Record<string, string>) {}

  fetch(request: FetchRequest): Promise<FetchResponse> {
    this.requests.push(request);
    const url = request.url.split('?')[0] ?? request.url;
    const text = this.files[url] ?? this.files[url.replace(BASE, '')];
    if (text === undefined) return Promise.reject(new FetchError(request.url, 'http', `404 ${request.url}`, 404));
    const body = Buffer.from(text, 'utf8');
    return Promise.resolve({ url: request.url, status: 200, contentType: 'application/voicexml+xml', body, text: () => text, fromCache: false });
  }
}

/** one answer per collection: keys, a spoken text, silence, or hang up */
export type Answer = { dtmf: string } | { say: string } | 'silence' | 'hangup';

export class FakePlatform implements Platform {
  readonly connection = {
    local: { uri: 'sip:ivr@example.com' },
    remote: { uri: 'sip:alice@example.com' },
    protocol: { name: 'sip', version: '2.0' },
    redirect: [],
    originator: 'remote' as const,
  };
  readonly prompts: string[] = [];
  readonly ssml: string[] = [];
  readonly logs: string[] = [];
  readonly recognitions: number[] = [];
  readonly records: RecordRequest[] = [];
  readonly transfers: TransferRequest[] = [];
  listener: Partial<PlatformEvents> = {};
  disconnects = 0;
  recordResult: RecordResult = { audio: Buffer.alloc(800), type: 'audio/x-wav', durationMs: 2500, termchar: '#', maxtime: false, hangup: false };
  transferResult: TransferResult = { outcome: 'far_end_disconnect', durationMs: 12_000 };
  /** when set, play() does not finish until finishPlayback() (or a barge-in stop) */
  holdPlayback = false;
  stops = 0;
  private finishers: Array<() => void> = [];

  finishPlayback(): void {
    for (const f of this.finishers.splice(0)) f();
  }

  /** answers are consumed one per play() (each collection plays, even with no prompts) */
  constructor(readonly answers: Answer[] = []) {}

  setListener(events: Partial<PlatformEvents>): void {
    this.listener = events;
  }

  play(prompts: QueuedPrompt[]): PlayHandle {
    for (const p of prompts) {
      this.prompts.push(p.text);
      this.ssml.push(p.ssml);
    }
    const answer = this.answers.shift();
    if (answer !== undefined && answer !== 'silence') {
      setImmediate(() => {
        if (answer === 'hangup') this.listener.hangup?.();
        else if ('dtmf' in answer) for (const k of answer.dtmf) this.listener.dtmf?.(k);
        else this.listener.speech?.({ hypotheses: [{ text: answer.say, confidence: 0.9 }] });
      });
    }
    if (!this.holdPlayback || prompts.length === 0) return { done: Promise.resolve(), stop: () => undefined };
    let playing = true;
    let resolveDone = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const finish = (): void => {
      playing = false;
      resolveDone();
    };
    this.finishers.push(finish);
    return {
      done,
      /** counts only stops that cut a prompt short */
      stop: () => {
        if (playing) this.stops++;
        finish();
      },
    };
  }

  startRecognition(): void {
    this.recognitions.push(1);
  }

  stopRecognition(): void {}

  record(request: RecordRequest): Promise<RecordResult> {
    this.records.push(request);
    return Promise.resolve(this.recordResult);
  }

  transfer(request: TransferRequest): Promise<TransferResult> {
    this.transfers.push(request);
    return Promise.resolve(this.transferResult);
  }

  disconnect(): Promise<void> {
    this.disconnects++;
    return Promise.resolve();
  }

  log(label: string | undefined, text: string): void {
    this.logs.push(label === undefined ? text : `${label}: ${text}`);
  }
}

export function vxml(body: string, attrs = ''): string {
  return `<?xml version="1.0"?><vxml xmlns="http://www.w3.org/2001/vxml" version="2.1" ${attrs}>${body}</vxml>`;
}

/** lets pending promises and setImmediate callbacks run */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface Run {
  result: SessionResult;
  platform: FakePlatform;
  fetcher: MemoryFetcher;
}

/**
 * runs a session on FakeScheduler: while it is waiting, fake time moves in steps of stepMs
 * (noinput and interdigit timers fire without real waiting)
 */
export async function runSession(
  files: Record<string, string>,
  answers: Answer[] = [],
  options: { start?: string; stepMs?: number; limits?: SessionLimits; platform?: FakePlatform } = {},
): Promise<Run> {
  const platform = options.platform ?? new FakePlatform(answers);
  const fetcher = new MemoryFetcher(files);
  const scheduler = new FakeScheduler();
  const session = new VoiceXmlSession({ platform, fetcher, scheduler, ...(options.limits !== undefined ? { limits: options.limits } : {}) });
  let done = false;
  const running = session.run(BASE + (options.start ?? 'main.vxml')).finally(() => {
    done = true;
  });
  // real-time bound only against a hung interpreter: the machine may be slow, fake time is not
  const deadline = Date.now() + 60_000;
  while (!done && Date.now() < deadline) {
    await settle(5);
    if (!done) scheduler.advance(options.stepMs ?? 500);
  }
  if (!done) session.close();
  const result = await running;
  return { result, platform, fetcher };
}

/** settles until cond holds (QuickJS start-up and fetches take a few turns of the event loop) */
export async function until(cond: () => boolean, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!cond() && Date.now() < deadline) await new Promise<void>((r) => setTimeout(r, 1));
  if (!cond()) throw new Error('condition not reached');
}
