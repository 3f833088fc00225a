import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { UnavailableError } from '../../../../src/lib/index.js';
import { dominantFrequency, generateTone, toneAmplitude } from '../../../../src/media/dsp/index.js';
import { Recorder, RecordingWriter, recoverSpool, type FileWrite } from '../../../../src/media/recorder/index.js';
import { decodeWavChannels, parseWav, wavHeader } from '../../../../src/media/wav/index.js';
import { LocalBlobStore, type BlobStore } from '../../../../src/platform/index.js';

const CANDIDATES = [500, 1000, 1500, 2000];

/** apply writes to an in-memory "file" */
function applyWrites(file: Uint8Array, writes: FileWrite[]): Uint8Array {
  let out = file;
  for (const w of writes) {
    const end = w.offset + w.bytes.length;
    if (end > out.length) {
      const grown = new Uint8Array(end);
      grown.set(out);
      out = grown;
    }
    out.set(w.bytes, w.offset);
  }
  return out;
}

const sizesOf = (file: Uint8Array): { riff: number; data: number } => {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  return { riff: v.getUint32(4, true), data: v.getUint32(40, true) };
};

/** 20 ms frames of a tone at `rate` */
function toneFrames(frequencyHz: number, rate: number, count: number): Int16Array[] {
  const all = generateTone({ frequenciesHz: [frequencyHz] }, rate, count * 20);
  const n = rate / 50;
  return Array.from({ length: count }, (_, i) => all.subarray(i * n, (i + 1) * n));
}

t.test('RecordingWriter batches appends and keeps the header at most a second behind', async (t) => {
  const writer = new RecordingWriter({ sampleRate: 8000, channels: 1 });
  let file = applyWrites(new Uint8Array(0), writer.begin());
  t.equal(file.length, 44, 'header first');
  t.same(sizesOf(file), { riff: 36, data: 0 }, 'provisional sizes');
  let writesWithData = 0;
  let worstLagBytes = 0;
  for (const frame of toneFrames(1000, 8000, 150)) {
    const writes = writer.frame(frame);
    if (writes.length > 0) writesWithData++;
    file = applyWrites(file, writes);
    worstLagBytes = Math.max(worstLagBytes, file.length - 44 - sizesOf(file).data);
    t.ok(sizesOf(file).data <= file.length - 44, 'the header never claims more than was written');
  }
  t.equal(writesWithData, 6, '3 s in 500 ms batches: 6 writes, not 150');
  t.ok(worstLagBytes <= 16000, `header lag at most 1 s of audio (${worstLagBytes} bytes)`);
  file = applyWrites(file, writer.finish());
  t.same(sizesOf(file), { riff: 36 + 48000, data: 48000 }, 'finish sets the exact sizes');
  t.equal(writer.durationMs, 3000);
  const r = parseWav(file);
  t.ok(r.ok && r.samples.length === 24000 && !r.truncated);
});

t.test('RecordingWriter: mono mixes two parties, stereo keeps one per channel', async (t) => {
  const a = toneFrames(1000, 16000, 10);
  const b = toneFrames(500, 16000, 10);
  const mono = new RecordingWriter({ sampleRate: 16000, channels: 1 });
  let monoFile = applyWrites(new Uint8Array(0), mono.begin());
  const stereo = new RecordingWriter({ sampleRate: 16000, channels: 2 });
  let stereoFile = applyWrites(new Uint8Array(0), stereo.begin());
  for (let i = 0; i < 10; i++) {
    monoFile = applyWrites(monoFile, mono.frame(a[i]!, b[i]!));
    stereoFile = applyWrites(stereoFile, stereo.frame(a[i]!, b[i]!));
  }
  monoFile = applyWrites(monoFile, mono.finish());
  stereoFile = applyWrites(stereoFile, stereo.finish());
  const m = parseWav(monoFile);
  t.ok(m.ok);
  if (m.ok) {
    t.ok(toneAmplitude(m.samples, 1000, 16000) > 5000 && toneAmplitude(m.samples, 500, 16000) > 5000, 'mono holds both parties');
  }
  const s = decodeWavChannels(stereoFile);
  t.ok(s.ok);
  if (s.ok) {
    t.equal(s.format.channels, 2);
    t.same(Array.from(s.channels[0]!), Array.from(a.flatMap((f) => Array.from(f))), 'left is party A exactly');
    t.same(Array.from(s.channels[1]!), Array.from(b.flatMap((f) => Array.from(f))), 'right is party B exactly');
  }
  const lone = new RecordingWriter({ sampleRate: 8000, channels: 2 });
  t.same(lone.frame(Int16Array.from([5, 6])), [], 'batched, not yet written');
  const writes = lone.finish();
  t.same(Array.from(new Int16Array(writes[0]!.bytes.slice().buffer)), [5, 0, 6, 0], 'a missing party B is silence on the right');
});

async function tempDir(t: Test, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `opencx-${name}-`));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('Recorder: mono recording lands in the blob store, spool cleaned', async (t) => {
  const dir = await tempDir(t, 'rec');
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const spool = path.join(dir, 'spool');
  const rec = await Recorder.start({ spoolDir: spool, key: 'recordings/mono.wav', blobs, sampleRate: 8000 });
  t.equal(rec.state, 'recording');
  t.same((await readdir(spool)).sort(), [`${rec.id}.json`, `${rec.id}.wav`], 'spool file and sidecar exist while recording');
  for (const f of toneFrames(1000, 8000, 50)) rec.write(f);
  const result = await rec.stop();
  t.same(result, { key: 'recordings/mono.wav', durationMs: 1000, bytes: 44 + 16000 });
  t.equal(rec.state, 'stopped');
  t.same(await readdir(spool), [], 'spool emptied');
  const r = parseWav(await blobs.get('recordings/mono.wav'));
  t.ok(r.ok);
  if (r.ok) {
    t.same(r.format, { audioFormat: 'pcm16', sampleRate: 8000, channels: 1 });
    t.equal(r.samples.length, 8000);
    t.equal(dominantFrequency(r.samples, 8000, CANDIDATES).frequencyHz, 1000);
  }
  t.equal(await rec.stop(), result, 'stop is idempotent');
});

t.test('Recorder: stereo, left = party A, right = party B', async (t) => {
  const dir = await tempDir(t, 'rec');
  const blobs = new LocalBlobStore(dir);
  const rec = await Recorder.start({ spoolDir: path.join(dir, 'spool'), key: 'st.wav', blobs, sampleRate: 16000, channels: 2 });
  const a = toneFrames(1000, 16000, 25);
  const b = toneFrames(500, 16000, 25);
  for (let i = 0; i < 25; i++) rec.write(a[i]!, b[i]!);
  const result = await rec.stop();
  t.equal(result.durationMs, 500);
  const s = decodeWavChannels(await blobs.get('st.wav'));
  t.ok(s.ok);
  if (s.ok) {
    t.same(s.format, { audioFormat: 'pcm16', sampleRate: 16000, channels: 2 });
    const [left, right] = s.channels as [Int16Array, Int16Array];
    t.equal(dominantFrequency(left, 16000, CANDIDATES).frequencyHz, 1000, 'left is A');
    t.equal(dominantFrequency(right, 16000, CANDIDATES).frequencyHz, 500, 'right is B');
    t.ok(toneAmplitude(left, 500, 16000) < 50, 'no B in the left channel');
    t.ok(toneAmplitude(right, 1000, 16000) < 50, 'no A in the right channel');
  }
});

t.test('Recorder: nothing is written while paused', async (t) => {
  const dir = await tempDir(t, 'rec');
  const blobs = new LocalBlobStore(dir);
  const rec = await Recorder.start({ spoolDir: path.join(dir, 'spool'), key: 'p.wav', blobs });
  for (const f of toneFrames(1000, 8000, 10)) rec.write(f);
  rec.pause();
  t.equal(rec.state, 'paused');
  for (const f of toneFrames(2000, 8000, 25)) rec.write(f);
  rec.resume();
  for (const f of toneFrames(500, 8000, 10)) rec.write(f);
  const result = await rec.stop();
  t.equal(result.durationMs, 400, '200 ms before + 200 ms after; the paused 500 ms is absent');
  const r = parseWav(await blobs.get('p.wav'));
  t.ok(r.ok);
  if (r.ok) {
    t.equal(dominantFrequency(r.samples.subarray(0, 1600), 8000, CANDIDATES).frequencyHz, 1000);
    t.equal(dominantFrequency(r.samples.subarray(1600), 8000, CANDIDATES).frequencyHz, 500);
    t.ok(toneAmplitude(r.samples, 2000, 8000) < 50, 'none of the paused audio');
  }
});

t.test('Recorder: blob store down → stop rejects, spool kept; recoverSpool uploads it later', async (t) => {
  const dir = await tempDir(t, 'rec');
  const spool = path.join(dir, 'spool');
  const good = new LocalBlobStore(path.join(dir, 'blobs'));
  const down: BlobStore = {
    kind: 'local',
    put: async () => {},
    putFile: async () => {
      throw new UnavailableError('blob store down');
    },
    get: async () => new Uint8Array(0),
    exists: async () => false,
    delete: async () => {},
    list: async () => [],
    close: async () => {},
  };
  const rec = await Recorder.start({ spoolDir: spool, key: 'later.wav', blobs: down, id: 'call-1' });
  for (const f of toneFrames(1000, 8000, 20)) rec.write(f);
  await t.rejects(rec.stop(), UnavailableError);
  t.same((await readdir(spool)).sort(), ['call-1.json', 'call-1.wav'], 'spool files kept');
  const report = await recoverSpool(spool, good);
  t.same(report, { recovered: [{ id: 'call-1', key: 'later.wav', durationMs: 400, bytes: 44 + 6400 }], failed: [] });
  t.same(await readdir(spool), []);
  const r = parseWav(await good.get('later.wav'));
  t.ok(r.ok && r.samples.length === 3200);
});

t.test('Recorder: a write error is an event and a rejected stop, never a throw from write()', async (t) => {
  const dir = await tempDir(t, 'rec');
  const blobs = new LocalBlobStore(dir);
  const rec = await Recorder.start({ spoolDir: path.join(dir, 'spool'), key: 'x.wav', blobs, flushIntervalMs: 20 });
  const errors: Error[] = [];
  rec.on('error', (e) => errors.push(e));
  // close the file under the recorder: every later write fails like a full disk would
  await (rec as unknown as { handle: { close(): Promise<void> } }).handle.close();
  t.doesNotThrow(() => {
    for (const f of toneFrames(1000, 8000, 5)) rec.write(f);
  });
  await t.rejects(rec.stop(), UnavailableError);
  t.equal(errors.length, 1, 'one error event');
  t.equal(rec.state, 'failed');
  t.equal(await blobs.exists('x.wav'), false);
});

t.test('recoverSpool repairs a crashed file: stale header, partial last sample', async (t) => {
  const dir = await tempDir(t, 'rec');
  const spool = path.join(dir, 'spool');
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  await rm(spool, { recursive: true, force: true });
  t.same(await recoverSpool(spool, blobs), { recovered: [], failed: [] }, 'no spool directory: nothing to do');
  await mkdir(spool);
  // stereo 16 kHz; header says 0 bytes; 1003 data bytes (250 whole frames + 3 bytes)
  const body = new Uint8Array(1003).fill(1);
  await writeFile(path.join(spool, 'a.wav'), Buffer.concat([wavHeader({ sampleRate: 16000, channels: 2, dataBytes: 0 }), body]));
  await writeFile(path.join(spool, 'a.json'), JSON.stringify({ key: 'rec/a.wav', sampleRate: 16000, channels: 2, startedAt: 1 }));
  // died before the header was written
  await writeFile(path.join(spool, 'b.wav'), Uint8Array.from([82, 73]));
  await writeFile(path.join(spool, 'b.json'), JSON.stringify({ key: 'rec/b.wav', sampleRate: 8000, channels: 1, startedAt: 1 }));
  // sidecar without a file, a file without a sidecar, a broken sidecar
  await writeFile(path.join(spool, 'c.json'), JSON.stringify({ key: 'rec/c.wav', sampleRate: 8000, channels: 1, startedAt: 1 }));
  await writeFile(path.join(spool, 'd.wav'), wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 0 }));
  await writeFile(path.join(spool, 'e.json'), '{"key": 5');
  await writeFile(path.join(spool, 'e.wav'), wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 0 }));
  const report = await recoverSpool(spool, blobs);
  t.same(report.recovered, [
    { id: 'a', key: 'rec/a.wav', durationMs: 250 / 16, bytes: 44 + 1000 },
    { id: 'b', key: 'rec/b.wav', durationMs: 0, bytes: 44 },
  ]);
  t.same(report.failed.map((f) => f.id).sort(), ['d', 'e']);
  const a = decodeWavChannels(await blobs.get('rec/a.wav'));
  t.ok(a.ok && a.channels[0]!.length === 250 && !a.truncated, 'a: sizes repaired, partial frame cut');
  const b = parseWav(await blobs.get('rec/b.wav'));
  t.ok(b.ok && b.samples.length === 0, 'b: a valid empty WAV');
  t.same((await readdir(spool)).sort(), ['d.wav', 'e.json', 'e.wav'], 'what could not be recovered stays');
  t.equal(await readFile(path.join(spool, 'e.json'), 'utf8'), '{"key": 5', 'a broken sidecar is left untouched');
});
