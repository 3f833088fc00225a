import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { UnavailableError } from '../../../src/lib/index.js';
import { dominantFrequency, generateTone } from '../../../src/media/dsp/index.js';
import { Recorder, recoverSpool } from '../../../src/media/recorder/index.js';
import { decodeWavChannels } from '../../../src/media/wav/index.js';
import { S3BlobStore } from '../../../src/platform/index.js';
import { startS3rver } from '../../helpers/s3rver.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-rec-s3-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const s3 = await startS3rver();
t.teardown(() => s3.stop());
const storeFor = (endpoint: string): S3BlobStore =>
  new S3BlobStore({ bucket: s3.bucket, endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });

function frames(frequencyHz: number, count: number): Int16Array[] {
  const all = generateTone({ frequenciesHz: [frequencyHz] }, 16000, count * 20);
  return Array.from({ length: count }, (_, i) => all.subarray(i * 320, (i + 1) * 320));
}

t.test('a stereo recording lands in S3 (s3rver) and parses', async (t) => {
  const blobs = storeFor(s3.endpoint);
  t.teardown(() => blobs.close());
  const spool = path.join(dir, 'spool-a');
  const rec = await Recorder.start({ spoolDir: spool, key: 'recordings/2026/call-7.wav', blobs, sampleRate: 16000, channels: 2 });
  const a = frames(1000, 100);
  const b = frames(500, 100);
  for (let i = 0; i < 100; i++) rec.write(a[i]!, b[i]!);
  const result = await rec.stop();
  t.same(result, { key: 'recordings/2026/call-7.wav', durationMs: 2000, bytes: 44 + 2 * 2 * 32000 });
  t.same(await blobs.list('recordings/'), ['recordings/2026/call-7.wav']);
  const wav = decodeWavChannels(await blobs.get('recordings/2026/call-7.wav'));
  t.ok(wav.ok);
  if (wav.ok) {
    t.same(wav.format, { audioFormat: 'pcm16', sampleRate: 16000, channels: 2 });
    t.equal(wav.channels[0]!.length, 32000);
    t.equal(dominantFrequency(wav.channels[0]!, 16000, [500, 1000]).frequencyHz, 1000, 'left = party A');
    t.equal(dominantFrequency(wav.channels[1]!, 16000, [500, 1000]).frequencyHz, 500, 'right = party B');
  }
  t.same(await readdir(spool), [], 'spool cleaned after the upload');
});

t.test('S3 down at stop: the spool file stays, and recovery uploads it once S3 is back', async (t) => {
  const down = await startS3rver();
  await down.stop();
  const offline = storeFor(down.endpoint);
  t.teardown(() => offline.close());
  const spool = path.join(dir, 'spool-b');
  const rec = await Recorder.start({ spoolDir: spool, key: 'recordings/late.wav', blobs: offline, id: 'late' });
  for (const f of frames(1000, 10)) rec.write(f.subarray(0, 160));
  await t.rejects(rec.stop(), UnavailableError);
  t.same((await readdir(spool)).sort(), ['late.json', 'late.wav']);

  const online = storeFor(s3.endpoint);
  t.teardown(() => online.close());
  const report = await recoverSpool(spool, online);
  t.same(report.recovered.map((r) => r.key), ['recordings/late.wav']);
  t.equal(await online.exists('recordings/late.wav'), true);
  t.same(await readdir(spool), []);
});
