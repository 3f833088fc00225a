import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { dominantFrequency } from '../../../src/media/dsp/index.js';
import { recoverSpool } from '../../../src/media/recorder/index.js';
import { parseWav } from '../../../src/media/wav/index.js';
import { LocalBlobStore } from '../../../src/platform/index.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'record-child.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a recorder killed with SIGKILL leaves a spool file that recoverSpool turns into a valid WAV', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-rec-crash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const spool = path.join(dir, 'spool');

  const child = spawn(process.execPath, [CHILD, spool, 'recordings/crashed.wav', 'crash-1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let started = false;
  let captured = 0;
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('started ')) started = true;
      const m = /^frames (\d+)$/.exec(line);
      if (m) captured = Number(m[1]);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));

  // wait for the recording to start (the runner's timeout guards a child that never does)
  while (!started) {
    if (child.exitCode !== null) t.fail(`child exited early: ${stderr}`);
    if (child.exitCode !== null) return;
    await sleep(20);
  }
  await sleep(2500);
  child.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL', 'the child died by SIGKILL, with no chance to finish the file');
  t.equal(stderr, '', 'the child reported no error');
  const capturedMs = captured * 20;
  t.ok(capturedMs > 0, `the child captured ${capturedMs} ms`);

  t.same((await readdir(spool)).sort(), ['crash-1.json', 'crash-1.wav'], 'spool file and sidecar left behind');
  const raw = await readFile(path.join(spool, 'crash-1.wav'));
  const headerData = raw.readUInt32LE(40);
  const fileData = raw.length - 44;
  t.ok(headerData <= fileData, 'the header never claims more than the file holds');
  t.ok(fileData - headerData <= 1.2 * 16000, `the header is at most ~1 s stale (${((fileData - headerData) / 16).toFixed(0)} ms behind)`);

  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const report = await recoverSpool(spool, blobs);
  t.equal(report.failed.length, 0, JSON.stringify(report.failed));
  t.equal(report.recovered.length, 1);
  t.match(report.recovered[0], { id: 'crash-1', key: 'recordings/crashed.wav' });
  t.same(await readdir(spool), [], 'the spool is empty after recovery');
  await t.rejects(stat(path.join(spool, 'crash-1.wav')));

  const blob = await blobs.get('recordings/crashed.wav');
  const wav = parseWav(blob);
  t.ok(wav.ok, 'the recovered blob parses as WAV');
  if (!wav.ok) return;
  t.equal(wav.truncated, false, 'its data is as long as its header says');
  t.equal(44 + wav.samples.length * 2, blob.length, 'and its header accounts for every byte of the file');
  t.equal(new DataView(blob.buffer, blob.byteOffset).getUint32(4, true), blob.length - 8, 'RIFF size repaired too');
  t.same(wav.format, { audioFormat: 'pcm16', sampleRate: 8000, channels: 1 });
  const durationMs = (wav.samples.length / 8000) * 1000;
  t.ok(Math.abs(durationMs - capturedMs) <= 1200, `duration ${durationMs} ms vs ${capturedMs} ms captured`);
  t.equal(report.recovered[0]?.durationMs, durationMs, 'the report gives the same duration');
  const d = dominantFrequency(wav.samples, 8000, [500, 800, 1000, 1200, 2000]);
  t.equal(d.frequencyHz, 1000, 'the audio is the 1 kHz tone');
  t.ok(d.share > 0.95, `and only the tone (share ${d.share.toFixed(3)})`);
});
