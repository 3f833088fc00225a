/**
 * The local engine's recordings: each one is a Recorder fed a frame every tick from one endpoint,
 * the two parties of a bridge (stereo: one channel each; mono: mixed) or a conference's mix, and
 * ended when that source goes away. The engine owns the endpoints, bridges and conferences; this
 * reaches them through RecordingHost.
 */
import type { Logger } from '../../lib/index.js';
import { InvalidInputError, NotFoundError, describeError } from '../../lib/index.js';
import type { BlobStore } from '../../platform/index.js';
import { Recorder } from '../recorder/index.js';
import type { MediaEvent, RecordRequest, RecordTarget } from './api.js';
import type { EngineEndpoint } from './engine-endpoint.js';
import { CONFERENCE_RATE, type ActiveRecording } from './engine-records.js';
import { FrameResamplers } from './frame-resampler.js';

/** What recordings need of the engine. */
export interface RecordingHost {
  /** where recordings are written while running, and where finished ones go */
  readonly spoolDir: string | undefined;
  readonly blobs: BlobStore | undefined;
  readonly logger: Logger;
  newId(kind: string): string;
  emit(event: MediaEvent): void;
  /** the endpoints a target records (none for a conference: its mix is recorded); throws NotFoundError */
  endpointsOf(target: RecordTarget): EngineEndpoint[];
  /** this tick's mix of a conference, or undefined */
  conferenceMix(conferenceId: string): Int16Array | undefined;
}

export type RecordingEnd = 'stopped' | 'ended' | 'error';

export class EngineRecordings {
  private readonly active = new Map<string, ActiveRecording>();

  constructor(private readonly host: RecordingHost) {}

  get size(): number {
    return this.active.size;
  }

  async start(request: RecordRequest): Promise<{ recordingId: string; key: string }> {
    const { blobs, spoolDir } = this.host;
    if (blobs === undefined || spoolDir === undefined) throw new InvalidInputError('recording needs a blob store and a spool directory');
    const target = request.target;
    const endpoints = this.host.endpointsOf(target);
    const channels = request.channels ?? 1;
    if (channels === 2 && endpoints.length !== 2) throw new InvalidInputError('stereo recording needs a bridge (one channel per party)');
    const id = this.host.newId('rec');
    const safeId = id.replace(/[^A-Za-z0-9._-]/g, '_');
    const key = request.key ?? `recordings/${safeId}.wav`;
    const rate = request.sampleRate ?? 8000;
    const recorder = await Recorder.start({ spoolDir, key, blobs, sampleRate: rate, channels, id: safeId, logger: this.host.logger });
    const rec: ActiveRecording = { id, key, recorder, target, endpoints, channels, rate, stopping: false, resamplers: new FrameResamplers() };
    recorder.on('error', (err) => {
      this.host.logger.warn({ err: describeError(err), recordingId: id }, 'recording failed');
      void this.finish(rec, 'error');
    });
    for (const ep of endpoints) ep.addConsumer();
    this.active.set(id, rec);
    return { recordingId: id, key };
  }

  async stop(recordingId: string): Promise<void> {
    await this.finish(this.byId(recordingId), 'stopped');
  }

  pause(recordingId: string): void {
    this.byId(recordingId).recorder.pause();
  }

  resume(recordingId: string): void {
    this.byId(recordingId).recorder.resume();
  }

  /** ends ('ended') every recording `match` picks: its endpoint, bridge or conference is going */
  endWhere(match: (rec: ActiveRecording) => boolean): Promise<void>[] {
    return [...this.active.values()].filter(match).map((rec) => this.finish(rec, 'ended'));
  }

  /** one frame to every recording, at the engine's tick */
  writeTick(): void {
    for (const rec of this.active.values()) {
      if (rec.stopping) continue;
      const target = rec.target;
      if ('conferenceId' in target) {
        const mix = this.host.conferenceMix(target.conferenceId);
        if (mix !== undefined) rec.recorder.write(rec.resamplers.convert(mix, CONFERENCE_RATE, rec.rate));
        continue;
      }
      const [a, b] = rec.endpoints;
      if (a === undefined) continue;
      // two parties: one channel each in stereo, mixed by the recorder in mono
      if (b === undefined) rec.recorder.write(a.frameAt(rec.rate));
      else rec.recorder.write(a.frameAt(rec.rate), b.frameAt(rec.rate));
    }
  }

  private async finish(rec: ActiveRecording, reason: RecordingEnd): Promise<void> {
    if (rec.stopping) return;
    rec.stopping = true;
    this.active.delete(rec.id);
    for (const ep of rec.endpoints) ep.removeConsumer();
    try {
      const result = await rec.recorder.stop();
      this.host.emit({ type: 'record.done', recordingId: rec.id, key: result.key, durationMs: result.durationMs, bytes: result.bytes, reason });
    } catch (err) {
      this.host.emit({ type: 'record.done', recordingId: rec.id, key: rec.key, durationMs: 0, bytes: 0, reason: 'error', error: describeError(err) });
    }
  }

  private byId(id: string): ActiveRecording {
    const rec = this.active.get(id);
    if (rec === undefined) throw new NotFoundError(`no recording ${id}`);
    return rec;
  }
}
