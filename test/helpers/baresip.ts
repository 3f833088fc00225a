import { watchOutput } from './process-output.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Debian baresip 1.0 as a real SIP phone in tests: one config directory per phone in a temp dir,
 * listening on a free loopback port, playing a WAV file as its microphone (`aufile`) and writing
 * what it receives to WAV (`sndfile` filter: `dump-*-dec.wav` in the phone's directory).
 *
 * Facts this relies on (baresip 1.0.0 / libre 1.1.0, Debian bookworm):
 * - `net_interface 127.0.0.1` (not `lo`) keeps it on loopback.
 * - `sip_listen 127.0.0.1:P` listens for UDP and TCP on P and for TLS on P+1 (no certificate
 *   needed as a TLS client; libre 1.1 does not verify the server certificate).
 * - There is no null audio player in 1.0: `aubridge` is one that nobody reads.
 * - `stdio` fails without a terminal (epoll on fd 0): commands go through `-e` at start.
 * - libre 1.1 answers a challenge list that contains any non-MD5 `algorithm` with ENOSYS
 *   ("Register: Function not implemented"): the registrar must offer MD5 only.
 * - `-s` prints every SIP message, which the tests keep for failure reports.
 */
export const BARESIP_BIN = '/usr/bin/baresip';

export function baresipAvailable(): boolean {
  return spawnSync(BARESIP_BIN, ['-h']).error === undefined;
}

export interface BaresipOptions {
  /** the accounts line, e.g. `<sip:alice@127.0.0.1>;auth_pass=pw;outbound="sip:127.0.0.1:5060"` */
  account: string;
  /** WAV file played as the microphone (8 kHz mono 16-bit); silence source otherwise */
  audioSource?: string;
  /** `-e` commands run at start, e.g. `/dial sip:bob@127.0.0.1` */
  commands?: string[];
  /** extra config lines */
  extraConfig?: string[];
  /** more files in the config directory, e.g. `{ contacts: '<sip:dave@127.0.0.1>\n' }` (module contact) */
  files?: Record<string, string>;
  /** load the UDP console (module cons) so the test can type keys and commands while it runs */
  console?: boolean;
}

export interface BaresipPhone {
  child: ChildProcess;
  dir: string;
  sipPort: number;
  /** everything printed so far */
  output(): string;
  /** resolves when the output matches, rejects after timeoutMs with the output */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** received-audio recordings written by the sndfile module */
  decodedRecordings(): string[];
  /** SIGTERM (baresip hangs up its calls then exits), SIGKILL after a while; removes the dir */
  stop(): Promise<void>;
  /** type into the console (needs `console: true`): a key such as 'x' (hold) or a command such as '/transfer sip:carol@host' */
  type(input: string): Promise<void>;
}

async function udpFree(port: number): Promise<boolean> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

async function tcpFree(port: number): Promise<boolean> {
  const srv = net.createServer();
  return new Promise((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** a port P with P (UDP+TCP) and P+1 (TCP, for TLS) free on 127.0.0.1 */
export async function freeSipPortPair(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 15000);
    if ((await udpFree(p)) && (await tcpFree(p)) && (await tcpFree(p + 1)) && (await udpFree(p + 1))) return p;
  }
  throw new Error('no free SIP port pair found on 127.0.0.1');
}

export async function startBaresip(opts: BaresipOptions): Promise<BaresipPhone> {
  if (!baresipAvailable()) throw new Error(`${BARESIP_BIN} not found: install Debian baresip (apt-get install baresip); these tests do not skip`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencx-baresip-'));
  const sipPort = await freeSipPortPair();
  const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
  const consPort = opts.console === true ? await freeSipPortPair() : undefined;
  const config = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'net_interface 127.0.0.1',
    `rtp_ports ${rtpBase}-${rtpBase + 200}`,
    'audio_player aubridge,nil',
    opts.audioSource !== undefined ? `audio_source aufile,${opts.audioSource}` : 'audio_source aubridge,nil',
    'audio_alert aubridge,nil',
    'audio_path /usr/share/baresip',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aubridge.so',
    'module aufile.so',
    'module sndfile.so',
    'module_app account.so',
    'module_app menu.so',
    `snd_path ${dir}/`,
    ...(consPort !== undefined ? ['module cons.so', `cons_listen 127.0.0.1:${consPort}`] : []),
    ...(opts.extraConfig ?? []),
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'config'), config);
  writeFileSync(path.join(dir, 'accounts'), opts.account + '\n');
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(path.join(dir, name), text);
  const args = ['-f', dir, '-s', ...(opts.commands ?? []).flatMap((c) => ['-e', c])];
  const child = spawn(BARESIP_BIN, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  // baresip colours errors and SIP traces with ANSI escapes
  const output = watchOutput('baresip', child, (chunk) => chunk.replace(/\x1b\[[0-9;]*m/g, ''));
  const phone: BaresipPhone = {
    child,
    dir,
    sipPort,
    output: () => output.text(),
    waitFor: (re, timeoutMs) => output.waitFor(re, timeoutMs),
    async type(input: string): Promise<void> {
      if (consPort === undefined) throw new Error('start the phone with console: true to type into it');
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => sock.send(Buffer.from(input.startsWith('/') ? `${input}\n` : input), consPort, '127.0.0.1', () => resolve()));
      sock.close();
    },
    decodedRecordings: () =>
      readdirSync(dir)
        .filter((f) => f.startsWith('dump-') && f.endsWith('-dec.wav'))
        .map((f) => path.join(dir, f)),
    async stop() {
      if (!output.exited()) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return phone;
}

/** size in bytes of a file, 0 when missing */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** a 16-bit mono PCM WAV file holding a sine tone */
export function toneWav(freqHz: number, seconds: number, rate = 8000, amplitude = 0.5): Buffer {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freqHz * i) / rate)), 44 + i * 2);
  return buf;
}

/** the samples and rate of a 16-bit PCM WAV (walks the chunks: libsndfile may add some) */
export function readWav(data: Buffer): { rate: number; samples: Int16Array } {
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let rate = 0;
  let bits = 0;
  let channels = 0;
  let off = 12;
  while (off + 8 <= data.length) {
    const id = data.toString('latin1', off, off + 4);
    let size = data.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = data.readUInt16LE(body + 2);
      rate = data.readUInt32LE(body + 4);
      bits = data.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16 || channels !== 1) throw new Error(`expected 16-bit mono PCM, got ${bits}-bit ${channels} channels`);
      // a recording cut short may carry a size larger than the file (or 0 / 0xffffffff)
      if (size === 0 || body + size > data.length) size = data.length - body;
      const samples = new Int16Array(Math.floor(size / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(body + 2 * i);
      return { rate, samples };
    }
    off = body + size + (size % 2);
  }
  throw new Error('no data chunk in WAV');
}

/** Goertzel power of one frequency over the samples */
export function tonePower(samples: Int16Array, rate: number, freqHz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * freqHz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** the strongest frequency among candidates, scanning 100..3500 Hz in 20 Hz steps (dominant tone) */
export function dominantFrequency(samples: Int16Array, rate: number): { freq: number; power: number; second: number } {
  let best = { freq: 0, power: -1 };
  let second = 0;
  for (let f = 100; f <= 3500; f += 20) {
    const p = tonePower(samples, rate, f);
    if (p > best.power) {
      second = Math.max(second, best.power);
      best = { freq: f, power: p };
    } else if (p > second) second = p;
  }
  return { ...best, second };
}
