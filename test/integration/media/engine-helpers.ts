/** A LocalMediaEngine on loopback for the media integration tests, closed (and checked) after use. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { LocalMediaEngine, type LocalMediaEngineOptions, type MediaEvent } from '../../../src/media/index.js';
import { LocalBlobStore } from '../../../src/platform/index.js';

export interface TestEngineOptions extends Pick<LocalMediaEngineOptions, 'promptLeadMs'> {
  /** a spool folder and a blob store in a temporary folder, for record() and 'blob' play items */
  storage?: boolean;
}

/**
 * Runs `fn` with an engine on 127.0.0.1 (ports in a random even range, so parallel files rarely
 * meet) and every event it emitted; afterwards closes it and asserts that every port came back.
 */
export async function withEngine(t: Test, fn: (engine: LocalMediaEngine, events: MediaEvent[]) => Promise<void>, options: TestEngineOptions = {}): Promise<void> {
  const dir = options.storage === true ? await mkdtemp(path.join(os.tmpdir(), 'opencx-media-')) : undefined;
  const engine = new LocalMediaEngine({
    bindAddress: '127.0.0.1',
    portMin: 30000 + Math.floor(Math.random() * 10000) * 2,
    portMax: 65000,
    ...(options.promptLeadMs !== undefined ? { promptLeadMs: options.promptLeadMs } : {}),
    ...(dir !== undefined ? { spoolDir: path.join(dir, 'spool'), blobs: new LocalBlobStore(path.join(dir, 'blobs')) } : {}),
  });
  const events: MediaEvent[] = [];
  engine.onEvent((e) => events.push(e));
  try {
    await fn(engine, events);
  } finally {
    await engine.close();
    t.equal(engine.allocator.inUse(), 0, 'every port is back with the allocator');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
