/**
 * The MCP's audio tap over a media engine in the same process: the caller's audio reaches the
 * consumer through the engine's in-process taps (no loopback WebSocket), and close() ends it.
 */
import t from 'tap';
import { silentLogger } from '../../../../src/lib/index.js';
import { LocalMediaEngine, dominantFrequency } from '../../../../src/media/index.js';
import { AudioTapServer } from '../../../../src/mcp/platform/audio-tap.js';
import { RtpPeer, sleep } from '../../../helpers/rtp-peer.js';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('a tap over the local engine hears the caller and stops on close()', async (t) => {
  const engine = new LocalMediaEngine({ bindAddress: '127.0.0.1', portMin: 30000 + Math.floor(Math.random() * 10000) * 2, portMax: 65000 });
  const taps = new AudioTapServer(engine, silentLogger);
  const phone = await RtpPeer.open({ codec: 'PCMU', telephoneEventPt: 101 });
  t.teardown(async () => {
    phone.close();
    await taps.close();
    await engine.close();
  });
  const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: phone.sdp() });
  phone.useRemoteSdp(ep.localSdp);
  phone.startTone(1000);
  const frames: Int16Array[] = [];
  let throws = 0;
  const handle = await taps.tap(ep.id, 16000, (pcm) => frames.push(pcm));
  await taps.tap(ep.id, 8000, () => {
    throws++;
    throw new Error('consumer bug');
  });
  await until(() => frames.length >= 50 && throws >= 50, '50 frames');
  t.ok(frames.every((f) => f.length === 320), '20 ms frames at 16 kHz');
  const tail = new Int16Array(320 * 20);
  frames.slice(-20).forEach((f, i) => tail.set(f, i * 320));
  t.equal(dominantFrequency(tail, 16000, [400, 700, 1000, 1400]).frequencyHz, 1000, 'the consumer hears the caller\'s tone');
  await handle.close();
  await handle.close();
  const atClose = frames.length;
  const throwsAtClose = throws;
  await until(() => throws >= throwsAtClose + 20, 'the other tap to keep running');
  t.equal(frames.length, atClose, 'nothing after close()');
});
