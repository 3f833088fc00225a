/**
 * Fetching what documents refer to (VoiceXML 2.0 §6.1): documents, scripts, grammars and data,
 * relative to the current document; every failure becomes error.badfetch (.http.<status>).
 */
import { FetchError } from '../fetch/types.js';
import type { Fetcher, FetchRequest, SubmitBody } from '../fetch/types.js';
import { parseVoiceXml } from './parse-document.js';
import type { XmlElement } from './dom.js';
import { VxmlEvent } from './signals.js';

export interface LoadedDocument {
  url: string;
  root: XmlElement;
  /** its application root document, fetched with it (so a failure is the referrer's error.badfetch) */
  applicationRoot?: LoadedDocument;
}

export function resolveUri(uri: string, base: string): string {
  try {
    return new URL(uri, base).href;
  } catch {
    throw new VxmlEvent('error.badfetch', `bad URI ${uri}`);
  }
}

export function splitFragment(url: string): { doc: string; fragment: string | undefined } {
  const i = url.indexOf('#');
  if (i < 0) return { doc: url, fragment: undefined };
  return { doc: url.slice(0, i), fragment: url.slice(i + 1) || undefined };
}

/** what is fetched: decides the maxage/maxstale properties that apply (§6.3.5) */
export type ResourceKind = 'document' | 'script' | 'grammar' | 'data' | 'audio';

export interface FetchOptions {
  method?: 'GET' | 'POST';
  body?: SubmitBody;
  accept?: string;
  kind?: ResourceKind;
}

export class DocumentLoader {
  constructor(
    private readonly fetcher: Fetcher,
    private readonly maxDocumentBytes: number,
    private readonly timeoutMs: () => number,
    private readonly signal: AbortSignal,
    /** the <kind>maxage / <kind>maxstale properties in effect, in seconds */
    private readonly cacheProperty: (name: string) => number | undefined = () => undefined,
  ) {}

  async fetchText(url: string, options: FetchOptions = {}): Promise<{ url: string; text: string; contentType: string }> {
    const { kind = 'document', ...extra } = options;
    const request: FetchRequest = { url, timeoutMs: this.timeoutMs(), signal: this.signal, ...extra };
    const maxage = this.cacheProperty(`${kind}maxage`);
    const maxstale = this.cacheProperty(`${kind}maxstale`);
    if (maxage !== undefined) request.maxageS = maxage;
    if (maxstale !== undefined) request.maxstaleS = maxstale;
    try {
      const res = await this.fetcher.fetch(request);
      if (res.status >= 400) throw new VxmlEvent(`error.badfetch.http.${res.status}`, `fetching ${url}: HTTP ${res.status}`);
      if (res.body.byteLength > this.maxDocumentBytes) throw new VxmlEvent('error.badfetch', `${url} is larger than ${this.maxDocumentBytes} bytes`);
      return { url: res.url, text: res.text(), contentType: res.contentType };
    } catch (err) {
      if (err instanceof VxmlEvent) throw err;
      if (err instanceof FetchError && err.reason === 'http' && err.status !== undefined) {
        throw new VxmlEvent(`error.badfetch.http.${err.status}`, err.message);
      }
      throw new VxmlEvent('error.badfetch', `fetching ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async loadDocument(url: string, extra: { method?: 'GET' | 'POST'; body?: SubmitBody } = {}): Promise<LoadedDocument> {
    const res = await this.fetchText(url, { ...extra, kind: 'document', accept: 'application/voicexml+xml, text/xml, application/xml' });
    const parsed = parseVoiceXml(res.text);
    if ('error' in parsed) throw new VxmlEvent('error.badfetch', `${url}: ${parsed.error}`);
    return { url: splitFragment(res.url).doc, root: parsed.root };
  }
}
