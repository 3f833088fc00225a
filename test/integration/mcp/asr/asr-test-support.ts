/** Shared by the ASR integration tests: synthetic speech, 20 ms framing, a stub Grammar, child-process checks. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResampler, parseWav } from '../../../../src/media/index.js';
import type { Grammar, RuleSet } from '../../../../src/mcp/grammar/types.js';
import { childPids as childrenOf } from '../../../helpers/proc.js';

/** the path of a command, or an Error naming the Debian package to install */
export function requireTool(command: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path.length === 0) throw new Error(`${command} is not installed: apt-get install -y ${debianPackage}`);
  return path;
}

/** speech from the espeak-ng CLI (en-us voice), resampled to `rate` */
export function synthesize(text: string, rate: number): Int16Array {
  requireTool('espeak-ng', 'espeak-ng');
  const dir = mkdtempSync(join(tmpdir(), 'opencx-asr-tts-'));
  try {
    const file = join(dir, 'say.wav');
    execFileSync('espeak-ng', ['-v', 'en-us', '-w', file, text]);
    const wav = parseWav(readFileSync(file));
    if (!wav.ok) throw new Error(`espeak-ng wrote an unreadable WAV for "${text}"`);
    return createResampler(wav.format.sampleRate, rate).process(wav.samples);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 20 ms frames: leading silence, the speech, trailing silence */
export function framed(speech: Int16Array, rate: number, leadMs: number, tailMs: number): Int16Array[] {
  const frame = rate / 50;
  const all = new Int16Array(((leadMs + tailMs) * rate) / 1000 + Math.ceil(speech.length / frame) * frame);
  all.set(speech, (leadMs * rate) / 1000);
  const out: Int16Array[] = [];
  for (let at = 0; at < all.length; at += frame) out.push(all.slice(at, at + frame));
  return out;
}

export function stubGrammar(rules: RuleSet, id = 'inline:test', weight = 1): Grammar {
  return {
    mode: 'voice',
    id,
    weight,
    rules,
    match: () => Promise.resolve({ status: 'nomatch', canExtend: false, utterance: '', confidence: 0 }),
  };
}

/** pids of this process's children running `name`, zombies included (a child killed but not reaped still counts) */
export function childPids(name: string): number[] {
  return childrenOf(process.pid, { name, zombies: true });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
