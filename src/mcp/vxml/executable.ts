/**
 * Executable content (VoiceXML 2.0 §5.3, 2.1 §5-6): what runs inside <block>, <filled>,
 * catch handlers and document/dialog initialisation. Transitions and events unwind as the
 * throwables of signals.ts.
 */
import { XMLSerializer } from '@xmldom/xmldom';
import type { QueuedPrompt } from './platform.js';
import { VXML_NS, attr, childElements, childNodes, domToJson, nameOf, parentElement } from './dom.js';
import type { XmlElement, XmlNode } from './dom.js';
import { renderPrompt, stringOf } from './prompts.js';
import type { PromptContext } from './prompts.js';
import { ExitSignal, ReturnSignal, TransitionSignal, VxmlEvent } from './signals.js';
import type { SubmitSpec } from './signals.js';
import type { ScriptSandbox } from '../script/index.js';
import { ScriptError } from '../script/index.js';
import { resolveUri, splitFragment } from './documents.js';
import type { DocumentLoader } from './documents.js';
import { parseVoiceXml } from './parse-document.js';
import { DOMParser } from '@xmldom/xmldom';

/** what executable content needs from the interpreter */
export interface ExecHost {
  readonly sandbox: ScriptSandbox;
  readonly loader: DocumentLoader;
  /** the current document's URI: relative references resolve against it */
  baseUri(): string;
  language(): string;
  queuePrompt(prompt: QueuedPrompt): void;
  log(label: string | undefined, text: string): void;
  /** <clear>: the form item variables of the current form (all when names is undefined) */
  clearItems(names: string[] | undefined): void;
  /** <reprompt> */
  reprompt(): void;
  bargein(el: XmlElement): boolean;
  bargeinType(el: XmlElement): 'speech' | 'hotword';
  enumerateItems(from: XmlElement): Array<{ prompt: string; dtmf: string }>;
  disconnect(namelist?: Record<string, unknown>): Promise<void>;
  /** the names of the current form's named input items (what <submit> sends without a namelist) */
  inputItemNames(): string[];
  /** the anonymous `_prompt`/`_dtmf` of <enumerate>, and recordings for submit */
  audioFor(value: unknown): { data: Uint8Array; type: string } | undefined;
}

/** turns a script failure into error.semantic; limits keep their kind for the session */
export function semantic(err: unknown): VxmlEvent {
  if (err instanceof VxmlEvent) return err;
  if (err instanceof ScriptError) {
    const e = new VxmlEvent('error.semantic', err.message);
    if (err.kind === 'time-limit' || err.kind === 'memory-limit') e.limit = err.kind;
    return e;
  }
  return new VxmlEvent('error.semantic', err instanceof Error ? err.message : String(err));
}

export class Executor {
  constructor(private readonly host: ExecHost) {}

  evaluate(expr: string): unknown {
    try {
      return this.host.sandbox.evaluate(expr);
    } catch (err) {
      throw semantic(err);
    }
  }

  cond(el: XmlElement, name = 'cond'): boolean {
    const c = attr(el, name);
    if (c === undefined) return true;
    try {
      return this.host.sandbox.evaluateBoolean(c);
    } catch (err) {
      throw semantic(err);
    }
  }

  /** an expression's value as ECMAScript would print it */
  evaluateString(expr: string): string {
    try {
      return this.host.sandbox.evaluateString(expr);
    } catch (err) {
      throw semantic(err);
    }
  }

  /** the value of an attribute or of its *expr twin (src/srcexpr, next/expr, event/eventexpr) */
  attrOrExpr(el: XmlElement, name: string, exprName: string): string | undefined {
    const v = attr(el, name);
    if (v !== undefined) return v;
    const e = attr(el, exprName);
    return e === undefined ? undefined : this.evaluateString(e);
  }

  promptContext(from: XmlElement): PromptContext {
    return {
      evaluate: (expr) => this.evaluateString(expr),
      resolve: (uri) => resolveUri(uri, this.host.baseUri()),
      enumerateItems: () => this.host.enumerateItems(from),
      foreach: (el, body) => this.foreachLoop(el, body),
      withVariables: (vars, body) => {
        const sb = this.host.sandbox;
        const depth = sb.anonymousDepth;
        sb.pushAnonymous();
        try {
          for (const [k, v] of Object.entries(vars)) sb.declareValue(k, v);
          body();
        } finally {
          sb.truncateAnonymous(depth);
        }
      },
    };
  }

  foreachLoop(el: XmlElement, body: () => void): void {
    const array = attr(el, 'array');
    const item = attr(el, 'item');
    if (array === undefined || item === undefined) throw new VxmlEvent('error.badfetch', '<foreach> needs array and item');
    const length = this.evaluate(`(${array}).length`);
    if (typeof length !== 'number' || !Array.isArray(this.evaluate(array))) throw new VxmlEvent('error.semantic', `<foreach array="${array}"> is not an array`);
    for (let i = 0; i < length; i++) {
      try {
        this.host.sandbox.declare(item, `(${array})[${i}]`);
      } catch (err) {
        throw semantic(err);
      }
      body();
    }
  }

  queuePrompt(el: XmlElement): void {
    if (!this.cond(el)) return;
    const r = renderPrompt(childNodes(el), this.promptContext(el), attr(el, 'xml:lang') ?? this.host.language());
    const timeout = attr(el, 'timeout');
    const p: QueuedPrompt = { ssml: r.ssml, text: r.text, bargein: this.host.bargein(el), bargeinType: this.host.bargeinType(el) };
    const ms = timeout === undefined ? undefined : parseTimeAttr(timeout);
    if (ms !== undefined) p.timeoutMs = ms;
    this.host.queuePrompt(p);
  }

  /** runs a sequence of executable content; adjacent text, <value>, <audio> and <enumerate> form one implicit prompt */
  async run(nodes: XmlNode[]): Promise<void> {
    let pending: XmlNode[] = [];
    for (const n of nodes) {
      if (n.nodeType === 3 || n.nodeType === 4 || (n.nodeType === 1 && IMPLICIT_PROMPT.has(nameOf(n)))) {
        pending.push(n);
        continue;
      }
      if (pending.length > 0) {
        this.implicitPrompt(pending);
        pending = [];
      }
      if (n.nodeType === 1) await this.element(n as XmlElement);
    }
    if (pending.length > 0) this.implicitPrompt(pending);
  }

  private implicitPrompt(nodes: XmlNode[]): void {
    const first = nodes[0];
    if (first === undefined) return;
    const parent = (first.parentNode ?? undefined) as XmlElement | undefined;
    const r = renderPrompt(nodes, this.promptContext(parent ?? (first as XmlElement)), this.host.language());
    if (r.text === '' && !r.ssml.includes('<audio')) return;
    this.host.queuePrompt({ ssml: r.ssml, text: r.text, bargein: parent === undefined ? true : this.host.bargein(parent), bargeinType: 'speech' });
  }

  private async element(el: XmlElement): Promise<void> {
    const name = nameOf(el);
    const sb = this.host.sandbox;
    try {
      switch (name) {
        case 'var': {
          const n = attr(el, 'name');
          if (n === undefined) throw new VxmlEvent('error.badfetch', '<var> without name');
          sb.declare(n, attr(el, 'expr'));
          return;
        }
        case 'assign': {
          const n = attr(el, 'name');
          const e = attr(el, 'expr');
          if (n === undefined || e === undefined) throw new VxmlEvent('error.badfetch', '<assign> needs name and expr');
          sb.assign(n, e);
          return;
        }
        case 'clear': {
          const nl = attr(el, 'namelist');
          this.host.clearItems(nl === undefined ? undefined : nl.split(/\s+/).filter((x) => x !== ''));
          return;
        }
        case 'if':
          return await this.ifElement(el);
        case 'prompt':
          this.queuePrompt(el);
          return;
        case 'reprompt':
          this.host.reprompt();
          return;
        case 'goto':
          return await this.gotoElement(el);
        case 'submit':
          return await this.submitElement(el);
        case 'exit':
          return this.exitElement(el);
        case 'return':
          return this.returnElement(el);
        case 'disconnect':
          // §5.3.11: the interpreter disconnects, then throws connection.disconnect.hangup (2.1: with a namelist)
          await this.host.disconnect(attr(el, 'namelist') === undefined ? undefined : this.namelistValues(attr(el, 'namelist')));
          throw new VxmlEvent('connection.disconnect.hangup', 'the interpreter disconnected');
        case 'script':
          return await this.scriptElement(el);
        case 'log':
          return this.logElement(el);
        case 'throw': {
          const ev = this.attrOrExpr(el, 'event', 'eventexpr');
          if (ev === undefined || ev === '') throw new VxmlEvent('error.badfetch', '<throw> without event');
          throw new VxmlEvent(ev, this.attrOrExpr(el, 'message', 'messageexpr'));
        }
        case 'foreach':
          return await this.foreachElement(el);
        case 'data':
          return await this.dataElement(el);
        case 'mark':
        case 'property':
        case 'meta':
        case 'metadata':
        case 'catch':
        case 'error':
        case 'help':
        case 'noinput':
        case 'nomatch':
          return;
        default:
          // elements of other namespaces are extensions this platform does not know: ignored
          if (el.namespaceURI !== null && el.namespaceURI !== VXML_NS) return;
          throw new VxmlEvent('error.badfetch', `unknown element <${name}> in executable content`);
      }
    } catch (err) {
      if (err instanceof ScriptError) throw semantic(err);
      throw err;
    }
  }

  private async ifElement(el: XmlElement): Promise<void> {
    let active = this.cond(el);
    let taken = active;
    const body: XmlNode[] = [];
    for (const n of childNodes(el)) {
      if (n.nodeType === 1 && (nameOf(n) === 'elseif' || nameOf(n) === 'else')) {
        if (taken) {
          active = false;
          continue;
        }
        active = nameOf(n) === 'else' || this.cond(n as XmlElement);
        taken = active;
        continue;
      }
      if (active) body.push(n);
    }
    await this.run(body);
  }

  private async foreachElement(el: XmlElement): Promise<void> {
    const array = attr(el, 'array');
    const item = attr(el, 'item');
    if (array === undefined || item === undefined) throw new VxmlEvent('error.badfetch', '<foreach> needs array and item');
    const value = this.evaluate(array);
    if (!Array.isArray(value)) throw new VxmlEvent('error.semantic', `<foreach array="${array}"> is not an array`);
    for (let i = 0; i < value.length; i++) {
      this.host.sandbox.declare(item, `(${array})[${i}]`);
      await this.run(childNodes(el));
    }
  }

  /** <goto next|expr|nextitem|expritem> (VoiceXML 2.0 §5.3.7) */
  private async gotoElement(el: XmlElement): Promise<void> {
    const item = this.attrOrExpr(el, 'nextitem', 'expritem');
    if (item !== undefined) throw new TransitionSignal(undefined, undefined, item);
    const next = this.attrOrExpr(el, 'next', 'expr');
    if (next === undefined) throw new VxmlEvent('error.badfetch', '<goto> without a target');
    throw await this.transitionTo(next);
  }

  async transitionTo(next: string, submit?: SubmitSpec): Promise<TransitionSignal> {
    if (next.startsWith('#') && submit === undefined) return new TransitionSignal(undefined, next.slice(1));
    const abs = resolveUri(next, this.host.baseUri());
    const { doc, fragment } = splitFragment(abs);
    await Promise.resolve();
    return new TransitionSignal(doc, fragment, undefined, submit);
  }

  private async submitElement(el: XmlElement): Promise<void> {
    const next = this.attrOrExpr(el, 'next', 'expr');
    if (next === undefined) throw new VxmlEvent('error.badfetch', '<submit> without a target');
    const method = (attr(el, 'method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
    const namelist = attr(el, 'namelist');
    // §5.3.8: without a namelist, the named input item variables of the form are submitted
    const fields = this.namelistValues(namelist ?? this.host.inputItemNames().join(' '));
    throw await this.transitionTo(next, { method, enctype: attr(el, 'enctype') ?? 'application/x-www-form-urlencoded', fields: Object.entries(fields).map(([name, value]) => ({ name, value })) });
  }

  /** a namelist's values; undefined namelist gives the form item variables in some callers */
  namelistValues(namelist: string | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (namelist === undefined) return out;
    for (const n of namelist.split(/\s+/).filter((x) => x !== '')) out[n] = this.evaluate(n);
    return out;
  }

  private exitElement(el: XmlElement): void {
    const expr = attr(el, 'expr');
    const namelist = attr(el, 'namelist');
    throw new ExitSignal(expr === undefined ? undefined : this.evaluate(expr), namelist === undefined ? undefined : this.namelistValues(namelist));
  }

  private returnElement(el: XmlElement): void {
    const ev = this.attrOrExpr(el, 'event', 'eventexpr');
    if (ev !== undefined) throw new ReturnSignal({}, ev, this.attrOrExpr(el, 'message', 'messageexpr'));
    throw new ReturnSignal(this.namelistValues(attr(el, 'namelist')));
  }

  private async scriptElement(el: XmlElement): Promise<void> {
    const src = this.attrOrExpr(el, 'src', 'srcexpr');
    let text = el.textContent ?? '';
    if (src !== undefined) text = (await this.host.loader.fetchText(resolveUri(src, this.host.baseUri()), { kind: 'script' })).text;
    this.host.sandbox.execute(text);
  }

  private logElement(el: XmlElement): void {
    let text = '';
    for (const n of childNodes(el)) {
      if (n.nodeType === 3 || n.nodeType === 4) text += n.nodeValue ?? '';
      else if (n.nodeType === 1 && nameOf(n) === 'value') text += this.evaluateString(attr(n as XmlElement, 'expr') ?? 'undefined');
    }
    const expr = attr(el, 'expr');
    if (expr !== undefined) text = `${this.evaluateString(expr)}${text}`;
    const label = this.attrOrExpr(el, 'label', 'labelexpr');
    this.host.log(label, text.replace(/\s+/g, ' ').trim());
  }

  /** <data> (VoiceXML 2.1 §5): fetch XML and expose it read-only under `name` */
  private async dataElement(el: XmlElement): Promise<void> {
    const src = this.attrOrExpr(el, 'src', 'srcexpr');
    if (src === undefined) throw new VxmlEvent('error.badfetch', '<data> without src');
    const method = (attr(el, 'method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
    const fields = this.namelistValues(attr(el, 'namelist'));
    let url = resolveUri(src, this.host.baseUri());
    const pairs: Array<[string, string]> = Object.entries(fields).map(([k, v]) => [k, stringOf(v)]);
    if (method === 'GET' && pairs.length > 0) url += (url.includes('?') ? '&' : '?') + new URLSearchParams(pairs).toString();
    const res = await this.host.loader.fetchText(url, method === 'POST' ? { method, body: { kind: 'urlencoded', fields: pairs }, kind: 'data' } : { kind: 'data' });
    const problems: string[] = [];
    const doc = new DOMParser({ onError: (level, msg) => (level === 'warning' ? undefined : problems.push(msg)) }).parseFromString(res.text, 'text/xml');
    if (problems.length > 0 || doc.documentElement === null) throw new VxmlEvent('error.badfetch', `<data> ${url} is not well-formed XML`);
    const name = attr(el, 'name');
    if (name !== undefined) this.host.sandbox.declareDom(name, domToJson(doc));
  }
}

const IMPLICIT_PROMPT = new Set(['value', 'audio', 'enumerate']);

function parseTimeAttr(v: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$/.exec(v);
  if (m === null) return undefined;
  return m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]);
}

/** serializes an inline <grammar> for the grammar loader, in the SRGS namespace */
export function inlineGrammarText(el: XmlElement, lang: string): string {
  if (childElements(el).length === 0) return el.textContent ?? '';
  let text = new XMLSerializer().serializeToString(el);
  text = text.replace(/xmlns="http:\/\/www\.w3\.org\/2001\/vxml"/g, 'xmlns="http://www.w3.org/2001/06/grammar"');
  if (!/^<[^>]*xmlns=/.test(text)) text = text.replace(/^<grammar/, '<grammar xmlns="http://www.w3.org/2001/06/grammar"');
  if (!/^<[^>]*xml:lang=/.test(text)) text = text.replace(/^<grammar/, `<grammar xml:lang="${lang}"`);
  if (!/^<[^>]*version=/.test(text)) text = text.replace(/^<grammar/, '<grammar version="1.0"');
  return text;
}

export { parentElement, parseVoiceXml };
