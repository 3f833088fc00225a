/**
 * The conformance runner over the W3C VoiceXML implementation-report documents: serves the
 * folder over HTTP, runs every manifest entry as a session on a ScriptedPlatform and reports
 * PASS/FAIL per entry.
 */
import { readFile } from 'node:fs/promises';
import { TimeoutError } from '../../../lib/index.js';
import type { Fetcher } from '../../fetch/types.js';
import type { GrammarFactory } from '../grammar-port.js';
import { VoiceXmlSession } from '../session.js';
import type { SessionResult } from '../session.js';
import { ScaledScheduler } from './scaled-scheduler.js';
import { ScriptedPlatform } from './scripted-platform.js';
import { HttpFetcher } from '../../fetch/index.js';
import { serveFolder } from './static-server.js';

export interface ManifestEntry {
  document: string;
  assertion: string;
  input: string;
}

export interface ConformanceResult {
  entry: ManifestEntry;
  pass: boolean;
  reason: string;
}

export interface ConformanceOptions {
  dir: string;
  manifest: string;
  /** substring of the entry document or the assertion number */
  filter?: string;
  timeoutMs?: number;
  /** how much faster than real time the timers run (default 10) */
  timeScale?: number;
  out?: (line: string) => void;
  fetcher?: Fetcher;
  grammars?: GrammarFactory;
}

export interface ConformanceSummary {
  results: ConformanceResult[];
  passed: number;
  failed: number;
}

export function parseManifest(text: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [document, assertion, input] = line.split('\t');
    if (document === undefined || document.trim() === '') continue;
    out.push({ document: document.trim(), assertion: (assertion ?? '').trim(), input: (input ?? 'none').trim() });
  }
  return out;
}

export async function runConformance(options: ConformanceOptions): Promise<ConformanceSummary> {
  const entries = parseManifest(await readFile(options.manifest, 'utf8')).filter(
    (e) => options.filter === undefined || e.assertion === options.filter || e.document.includes(options.filter),
  );
  const server = await serveFolder(options.dir);
  const results: ConformanceResult[] = [];
  try {
    for (const entry of entries) {
      const r = await runEntry(entry, server.baseUrl, options);
      results.push(r);
      options.out?.(r.pass ? `PASS ${entry.document} (${entry.assertion})` : `FAIL ${entry.document} (${entry.assertion}): ${r.reason}`);
    }
  } finally {
    await server.close();
  }
  const passed = results.filter((r) => r.pass).length;
  options.out?.(`${passed} passed, ${results.length - passed} failed`);
  return { results, passed, failed: results.length - passed };
}

async function runEntry(entry: ManifestEntry, baseUrl: string, options: ConformanceOptions): Promise<ConformanceResult> {
  const platform = new ScriptedPlatform();
  const session = new VoiceXmlSession({
    platform,
    fetcher: options.fetcher ?? new HttpFetcher(),
    scheduler: new ScaledScheduler(options.timeScale ?? 10),
    ...(options.grammars !== undefined ? { grammars: options.grammars } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no end after ${timeoutMs} ms`)), timeoutMs);
  });
  let result: SessionResult | undefined;
  let failure: string | undefined;
  try {
    result = await Promise.race([session.run(new URL(entry.document, baseUrl).href), timeout]);
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
    session.close();
  }
  const v = platform.verdict;
  if (v?.pass === true) return { entry, pass: true, reason: '' };
  if (v !== undefined) return { entry, pass: false, reason: `fail: ${platform.failReason() || 'no reason given'}` };
  if (failure !== undefined) return { entry, pass: false, reason: failure };
  const end = result === undefined ? 'unknown' : `${result.reason}${result.event !== undefined ? ` ${result.event}` : ''}${result.message !== undefined ? ` (${result.message})` : ''}`;
  return { entry, pass: false, reason: `no verdict; session ended: ${end}; last: ${platform.transcript.slice(-3).join(' | ')}` };
}
