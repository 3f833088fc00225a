/**
 * A Platform that answers prompts the way the W3C VoiceXML implementation-report documents ask
 * (README of the conformance folder): `pass` / `fail...` verdicts, `Press 'X'.` as DTMF,
 * `Say 'Chicago'.` as a recogniser result, `Say nothing.` as silence, `Hang up now.`.
 */
import type { ConnectionInfo, Platform, PlatformEvents, PlayHandle, QueuedPrompt, RecordRequest, RecordResult, TransferRequest, TransferResult } from '../platform.js';

export interface Verdict {
  pass: boolean;
  reason: string;
}

export const TEST_CONNECTION: ConnectionInfo = {
  local: { uri: 'sip:vxml@127.0.0.1' },
  remote: { uri: 'sip:caller@127.0.0.1' },
  protocol: { name: 'sip', version: '2.0' },
  redirect: [],
  originator: 'remote',
};

export class ScriptedPlatform implements Platform {
  readonly connection = TEST_CONNECTION;
  verdict: Verdict | undefined;
  readonly transcript: string[] = [];
  private listener: Partial<PlatformEvents> = {};
  private failDetail: string[] | undefined;
  private disconnected = false;

  setListener(events: Partial<PlatformEvents>): void {
    this.listener = events;
  }

  play(prompts: QueuedPrompt[]): PlayHandle {
    for (const p of prompts) this.heard(p.text);
    return { done: Promise.resolve(), stop: () => undefined };
  }

  private heard(text: string): void {
    const t = text.trim();
    if (t === '') return;
    this.transcript.push(`prompt: ${t}`);
    if (this.failDetail !== undefined) this.failDetail.push(t);
    if (this.verdict === undefined) {
      if (t.toLowerCase() === 'pass') {
        this.verdict = { pass: true, reason: '' };
        return;
      }
      if (/^fail\b/i.test(t)) {
        this.failDetail = [t.slice(4).trim()].filter((x) => x !== '');
        this.verdict = { pass: false, reason: '' };
        return;
      }
    }
    if (this.verdict !== undefined) return;
    this.answer(t);
  }

  private answer(t: string): void {
    const press = /Press '([^']+)'/i.exec(t);
    const say = /Say '([^']+)'/i.exec(t);
    if (press?.[1] !== undefined) {
      const keys = press[1];
      setImmediate(() => {
        for (const k of keys) this.listener.dtmf?.(k);
      });
    } else if (say?.[1] !== undefined) {
      const words = say[1].toLowerCase();
      setImmediate(() => {
        this.listener.speechStart?.();
        this.listener.speech?.({ hypotheses: [{ text: words, confidence: 1 }] });
      });
    } else if (/Hang up now/i.test(t)) {
      setImmediate(() => this.listener.hangup?.());
    }
  }

  /**
   * the reason a failing test gave: the rest of its fail prompt, the prompts after it, and its
   * "failure ..." logs (logs are written at once, prompts only when played: order differs)
   */
  failReason(): string {
    const logs = this.logs.filter((l) => /fail/i.test(l)).slice(-2);
    const parts = [...(this.failDetail ?? []), ...logs];
    return [...new Set(parts)].join(' / ');
  }

  private readonly logs: string[] = [];

  startRecognition(): void {}

  stopRecognition(): void {}

  record(request: RecordRequest): Promise<RecordResult> {
    for (const p of request.prompts) this.heard(p.text);
    const audio = Buffer.alloc(1600);
    return Promise.resolve({ audio, type: request.type, durationMs: 100, maxtime: false, hangup: false });
  }

  /**
   * The simulated far end answers and stays on the line: a blind or consultation transfer
   * goes through; a bridged call ends at its maxtime, or, with no maxtime, when the simulated
   * caller hangs up.
   */
  transfer(request: TransferRequest): Promise<TransferResult> {
    for (const p of request.prompts) this.heard(p.text);
    this.transcript.push(`transfer: ${request.type} ${request.dest}`);
    if (request.type !== 'bridge') return Promise.resolve({ outcome: 'transferred', durationMs: 0 });
    if (request.maxtimeMs > 0) return Promise.resolve({ outcome: 'maxtime_disconnect', durationMs: request.maxtimeMs });
    this.listener.hangup?.();
    return Promise.resolve({ outcome: 'near_end_disconnect', durationMs: 1000 });
  }

  disconnect(): Promise<void> {
    this.disconnected = true;
    return Promise.resolve();
  }

  get hungUp(): boolean {
    return this.disconnected;
  }

  log(label: string | undefined, text: string): void {
    this.transcript.push(`log${label !== undefined ? `[${label}]` : ''}: ${text}`);
    if (text !== '') this.logs.push(text);
  }
}
