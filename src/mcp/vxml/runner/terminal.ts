/**
 * Running a VoiceXML application in a terminal (`opencx vxml run URL|FILE --input ...`): prompts
 * and logs are printed, the given inputs answer one collection each (only DTMF keys: DTMF,
 * anything else: speech), and once they are used up the caller stays silent; after two
 * collections that timed out with nothing left to say, the caller hangs up.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SystemScheduler } from '../../../lib/index.js';
import type { Scheduler } from '../../../lib/index.js';
import { HttpFetcher } from '../../fetch/index.js';
import type { Fetcher } from '../../fetch/types.js';
import type { Platform, PlatformEvents, PlayHandle, QueuedPrompt, RecordRequest, RecordResult, TransferRequest, TransferResult } from '../platform.js';
import { VoiceXmlSession } from '../session.js';
import type { SessionResult } from '../session.js';
import { TEST_CONNECTION } from './scripted-platform.js';

export interface TerminalOptions {
  /** an http(s)/file URL, or a path to a local file */
  url: string;
  inputs: string[];
  out: (line: string) => void;
  fetcher?: Fetcher;
  scheduler?: Scheduler;
}

const DTMF_ONLY = /^[0-9*#A-D]+$/;

class TerminalPlatform implements Platform {
  readonly connection = TEST_CONNECTION;
  private listener: Partial<PlatformEvents> = {};
  private next = 0;
  private silentCollections = 0;

  constructor(
    private readonly inputs: string[],
    private readonly out: (line: string) => void,
  ) {}

  setListener(events: Partial<PlatformEvents>): void {
    this.listener = events;
  }

  /** every collection plays its prompts (possibly none): that is when the caller answers */
  play(prompts: QueuedPrompt[]): PlayHandle {
    for (const p of prompts) if (p.text !== '') this.out(`prompt: ${p.text}`);
    const input = this.inputs[this.next];
    if (input !== undefined) {
      this.next++;
      setImmediate(() => this.deliver(input));
    } else if (++this.silentCollections > 2) {
      setImmediate(() => {
        this.out('input: (hang up)');
        this.listener.hangup?.();
      });
    }
    return { done: Promise.resolve(), stop: () => undefined };
  }

  private deliver(input: string): void {
    this.out(`input: ${input}`);
    if (DTMF_ONLY.test(input)) {
      for (const k of input) this.listener.dtmf?.(k);
      return;
    }
    this.listener.speechStart?.();
    this.listener.speech?.({ hypotheses: [{ text: input, confidence: 1 }] });
  }

  startRecognition(): void {}

  stopRecognition(): void {}

  record(request: RecordRequest): Promise<RecordResult> {
    this.play(request.prompts);
    this.out('record: (1 s of silence)');
    return Promise.resolve({ audio: Buffer.alloc(16_000), type: request.type, durationMs: 1000, maxtime: false, hangup: false });
  }

  transfer(request: TransferRequest): Promise<TransferResult> {
    this.play(request.prompts);
    this.out(`transfer: ${request.type} to ${request.dest}`);
    return Promise.resolve(request.type === 'bridge' ? { outcome: 'far_end_disconnect', durationMs: 1000 } : { outcome: 'transferred', durationMs: 0 });
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }

  log(label: string | undefined, text: string): void {
    this.out(`log: ${label !== undefined ? `[${label}] ` : ''}${text}`);
  }
}

function toUrl(target: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return target;
  return pathToFileURL(resolve(target)).href;
}

export async function runInTerminal(options: TerminalOptions): Promise<SessionResult> {
  const platform = new TerminalPlatform(options.inputs, options.out);
  const session = new VoiceXmlSession({
    platform,
    fetcher: options.fetcher ?? new HttpFetcher({ allowFile: true }),
    scheduler: options.scheduler ?? new SystemScheduler(),
  });
  // the scheduler's timers are unref'd: keep the process alive while the session waits for input
  const keepAlive = setInterval(() => undefined, 60_000);
  let result: SessionResult;
  try {
    result = await session.run(toUrl(options.url));
  } finally {
    clearInterval(keepAlive);
  }
  const details = [result.event, result.message, result.exitValue !== undefined ? `value ${JSON.stringify(result.exitValue)}` : undefined].filter((x) => x !== undefined);
  options.out(`end: ${result.reason}${details.length > 0 ? ` (${details.join(', ')})` : ''}`);
  return result;
}
