/**
 * The spool directory: where recordings are written while they run, each as <id>.wav with a
 * sidecar <id>.json naming the blob key it is bound for. Whatever is left here at start-up
 * belongs to a recorder that died (or whose upload failed) and is repaired and uploaded.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeError, silentLogger, type Logger } from '../../lib/index.js';
import type { BlobStore } from '../../platform/index.js';
import { pcm16DurationMs } from '../wav/index.js';
import { repairPlan, type RecordingFormat } from './recording-writer.js';

export interface SpoolSidecar extends RecordingFormat {
  key: string;
  /** wall-clock ms when recording began */
  startedAt: number;
}

export function spoolPaths(spoolDir: string, id: string): { wav: string; sidecar: string } {
  return { wav: path.join(spoolDir, `${id}.wav`), sidecar: path.join(spoolDir, `${id}.json`) };
}

/** Write the sidecar through a temporary name so recovery never reads half of one. */
export async function writeSidecar(file: string, sidecar: SpoolSidecar): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(sidecar));
  await fs.rename(tmp, file);
}

/** A sidecar's content, or undefined for anything that is not one of ours. */
export function parseSidecar(text: string): SpoolSidecar | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.key !== 'string' || v.key === '') return undefined;
  if (v.sampleRate !== 8000 && v.sampleRate !== 16000) return undefined;
  if (v.channels !== 1 && v.channels !== 2) return undefined;
  return { key: v.key, sampleRate: v.sampleRate, channels: v.channels, startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0 };
}

export interface RecoveredRecording {
  id: string;
  key: string;
  durationMs: number;
  /** size of the uploaded WAV file */
  bytes: number;
}

export interface SpoolRecoveryReport {
  recovered: RecoveredRecording[];
  /** left in place for a later attempt (or a human) */
  failed: { id: string; error: string }[];
}

/**
 * Repair, upload and remove every recording left in the spool directory. Run at start-up before
 * any recorder writes there. Never throws for one bad file: each outcome is in the report.
 */
export async function recoverSpool(spoolDir: string, blobs: BlobStore, logger: Logger = silentLogger): Promise<SpoolRecoveryReport> {
  const report: SpoolRecoveryReport = { recovered: [], failed: [] };
  let names: string[];
  try {
    names = await fs.readdir(spoolDir);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return report;
    throw err;
  }
  const ids = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)));
  for (const name of names) {
    // a spool file whose sidecar never got written: nothing says where it belongs
    if (name.endsWith('.wav') && !ids.has(name.slice(0, -'.wav'.length))) {
      report.failed.push({ id: name.slice(0, -'.wav'.length), error: 'spool file has no sidecar naming its blob key' });
    }
  }
  for (const id of [...ids].sort()) {
    try {
      const recovered = await recoverOne(spoolDir, id, blobs);
      if (recovered !== undefined) {
        report.recovered.push(recovered);
        logger.info({ id, key: recovered.key, durationMs: recovered.durationMs }, 'recovered a spooled recording');
      }
    } catch (err) {
      report.failed.push({ id, error: describeError(err) });
      logger.warn({ id, err: describeError(err) }, 'could not recover a spooled recording; it stays in the spool');
    }
  }
  return report;
}

async function recoverOne(spoolDir: string, id: string, blobs: BlobStore): Promise<RecoveredRecording | undefined> {
  const paths = spoolPaths(spoolDir, id);
  const sidecar = parseSidecar(await fs.readFile(paths.sidecar, 'utf8'));
  if (sidecar === undefined) throw new Error(`sidecar ${paths.sidecar} is not a recording sidecar`);
  let size: number;
  try {
    size = (await fs.stat(paths.wav)).size;
  } catch {
    // the recorder died before it created the file: there is no audio to save
    await fs.rm(paths.sidecar, { force: true });
    return undefined;
  }
  const plan = repairPlan(size, sidecar);
  const handle = await fs.open(paths.wav, 'r+');
  try {
    await handle.truncate(plan.truncateTo);
    await handle.write(plan.header, 0, plan.header.length, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await blobs.putFile(sidecar.key, paths.wav);
  await fs.rm(paths.wav, { force: true });
  await fs.rm(paths.sidecar, { force: true });
  return { id, key: sidecar.key, durationMs: pcm16DurationMs(plan.dataBytes, sidecar.sampleRate, sidecar.channels), bytes: plan.truncateTo };
}
