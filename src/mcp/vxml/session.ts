/**
 * A VoiceXML session: documents, application roots, dialogs and transitions (VoiceXML 2.0
 * §1.5, §5.1), event handling (§5.2) and the end of the session. The Form Interpretation
 * Algorithm itself lives in fia.ts; executable content in executable.ts.
 */
import type { Scheduler } from '../../lib/index.js';
import type { Logger } from '../../lib/index.js';
import { silentLogger } from '../../lib/index.js';
import type { Fetcher, SubmitBody } from '../fetch/types.js';
import { ScriptSandbox } from '../script/index.js';
import type { GrammarFactory } from './grammar-port.js';
import { defaultGrammars } from './grammars.js';
import type { Platform, QueuedPrompt } from './platform.js';
import { attr, childElements, childNodes, nameOf } from './dom.js';
import type { XmlElement } from './dom.js';
import { DocumentLoader, resolveUri, splitFragment } from './documents.js';
import type { LoadedDocument } from './documents.js';
import { candidateCatches, selectCatch } from './events.js';
import { Executor, semantic } from './executable.js';
import type { ExecHost } from './executable.js';
import { InputCollector } from './input-collector.js';
import { PropertyScope } from './properties.js';
import { stringOf } from './prompts.js';
import { SessionEndSignal, ExitSignal, ReturnSignal, TransitionSignal, VxmlEvent } from './signals.js';
import type { SubmitSpec } from './signals.js';
import { FormRunner } from './fia.js';

export interface SessionLimits {
  scriptMemoryBytes?: number;
  scriptTimeMs?: number;
  maxDocumentBytes?: number;
  /** transitions and FIA iterations without input before error.semantic (default 10,000) */
  maxTransitions?: number;
}

export interface SessionOptions {
  platform: Platform;
  fetcher: Fetcher;
  scheduler: Scheduler;
  logger?: Logger;
  limits?: SessionLimits;
  grammars?: GrammarFactory;
  /**
   * where the session's script sandbox comes from (default: a new one with the limits above);
   * the MCP hands out one made ahead of time (SpareSandbox). The session closes it.
   */
  sandbox?: () => Promise<ScriptSandbox>;
}

export interface SessionResult {
  reason: 'exit' | 'disconnect' | 'hangup' | 'error' | 'transferred';
  event?: string;
  message?: string;
  exitValue?: unknown;
  namelist?: Record<string, unknown>;
}

/** the outcome of running one execution context (the main one or a subdialog's) */
type ContextEnd = { kind: 'end' } | { kind: 'return'; signal: ReturnSignal };

export class VoiceXmlSession implements ExecHost {
  sandboxOrUndefined: ScriptSandbox | undefined;
  readonly loader: DocumentLoader;
  readonly collector: InputCollector;
  readonly executor: Executor;
  readonly grammars: GrammarFactory;
  readonly platform: Platform;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  doc: LoadedDocument | undefined;
  appRoot: LoadedDocument | undefined;
  properties = new PropertyScope(undefined);
  form: FormRunner | undefined;
  promptQueue: QueuedPrompt[] = [];
  /** iterations without input; reset whenever the caller gives input */
  steps = 0;
  limitHits = 0;
  disconnected = false;
  transferred = false;
  private readonly abort = new AbortController();
  private readonly maxTransitions: number;
  private readonly limits: SessionLimits;
  private readonly makeSandbox: (() => Promise<ScriptSandbox>) | undefined;
  private closed = false;
  readonly recordings = new Map<string, { data: Uint8Array; type: string }>();

  constructor(options: SessionOptions) {
    this.platform = options.platform;
    this.scheduler = options.scheduler;
    this.logger = options.logger ?? silentLogger;
    this.grammars = options.grammars ?? defaultGrammars;
    this.limits = options.limits ?? {};
    this.maxTransitions = this.limits.maxTransitions ?? 10_000;
    this.makeSandbox = options.sandbox;
    this.loader = new DocumentLoader(
      options.fetcher,
      this.limits.maxDocumentBytes ?? 4 * 1024 * 1024,
      () => this.properties.timeMs('fetchtimeout', this.form?.el ?? this.doc?.root),
      this.abort.signal,
      (name) => {
        const v = this.properties.get(name, this.form?.el ?? this.doc?.root);
        const n = v === '' ? NaN : Number(v);
        return Number.isFinite(n) && n >= 0 ? n : undefined;
      },
    );
    this.collector = new InputCollector(options.platform, options.scheduler);
    this.executor = new Executor(this);
  }

  get sandbox(): ScriptSandbox {
    if (this.sandboxOrUndefined === undefined) throw new SessionEndSignal('connection.disconnect.hangup', 'the session was closed');
    return this.sandboxOrUndefined;
  }

  /** runs the application at startUrl to its end; never rejects for a bad document */
  async run(startUrl: string, params: { sessionVariables?: Record<string, unknown> } = {}): Promise<SessionResult> {
    let result: SessionResult;
    try {
      const sandbox = await (this.makeSandbox?.() ??
        ScriptSandbox.create({
          ...(this.limits.scriptMemoryBytes !== undefined ? { memoryBytes: this.limits.scriptMemoryBytes } : {}),
          ...(this.limits.scriptTimeMs !== undefined ? { timeMs: this.limits.scriptTimeMs } : {}),
        }));
      if (this.closed) {
        // closed (the caller gone) while the sandbox was being made: close() could not free it
        sandbox.close();
        throw new SessionEndSignal('connection.disconnect.hangup', 'the session was closed');
      }
      this.sandboxOrUndefined = sandbox;
      this.initSessionScope(params.sessionVariables ?? {});
      result = await this.runStart(startUrl);
    } catch (err) {
      result = this.resultOf(err);
    }
    try {
      await this.collector.playOnly(this.takePrompts());
    } catch {
      // the platform failed to play the last prompts: the session ends anyway
    }
    if (!this.disconnected && !this.transferred) {
      this.disconnected = true;
      await this.platform.disconnect().catch(() => undefined);
    }
    this.close();
    if (this.disconnectNamelist !== undefined && result.namelist === undefined) result.namelist = this.disconnectNamelist;
    return result;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.collector.close();
    this.sandboxOrUndefined?.close();
    this.sandboxOrUndefined = undefined;
  }

  private async runStart(startUrl: string): Promise<SessionResult> {
    let first: LoadedDocument;
    try {
      first = await this.loader.loadDocument(splitFragment(startUrl).doc);
    } catch (err) {
      return this.resultOf(err);
    }
    const end = await this.runContext(new TransitionSignal(first.url, splitFragment(startUrl).fragment), first, undefined);
    if (end.kind === 'return') return { reason: 'error', event: 'error.semantic', message: '<return> outside a subdialog' };
    return { reason: 'exit' };
  }

  private resultOf(err: unknown): SessionResult {
    if (err instanceof ExitSignal) {
      const r: SessionResult = { reason: this.transferred ? 'transferred' : this.disconnected ? 'disconnect' : this.collector.hungUp ? 'hangup' : 'exit' };
      if (err.exitValue !== undefined) r.exitValue = err.exitValue;
      if (err.namelist !== undefined) r.namelist = err.namelist;
      return r;
    }
    if (err instanceof SessionEndSignal) return { reason: err.event.startsWith('connection.disconnect.hangup') ? 'hangup' : err.event === 'connection.disconnect.transfer' ? 'transferred' : 'error', event: err.event, message: err.message };
    if (err instanceof VxmlEvent) return { reason: 'error', event: err.event, ...(err.eventMessage !== undefined ? { message: err.eventMessage } : {}) };
    this.logger.error({ err }, 'VoiceXML interpreter failure');
    return { reason: 'error', event: 'error.semantic', message: err instanceof Error ? err.message : String(err) };
  }

  private initSessionScope(extra: Record<string, unknown>): void {
    const c = this.platform.connection;
    this.sandbox.declareValue('connection', {
      local: { uri: c.local.uri },
      remote: { uri: c.remote.uri },
      protocol: { ...c.protocol, name: c.protocol.name, version: c.protocol.version },
      redirect: c.redirect,
      aai: c.aai,
      originator: c.originator,
    }, 'session');
    for (const [k, v] of Object.entries(extra)) this.sandbox.declareValue(k, v, 'session');
  }

  /**
   * One execution context (§1.5.3): documents and dialogs until the context exits or a
   * subdialog returns. `loaded` is the already fetched target document.
   */
  async runContext(target: TransitionSignal, loaded: LoadedDocument | undefined, params: Record<string, unknown> | undefined): Promise<ContextEnd> {
    let next: TransitionSignal = target;
    let nextDoc = loaded;
    let pendingParams = params;
    for (;;) {
      this.countStep();
      try {
        if (nextDoc !== undefined) {
          const entering = nextDoc;
          nextDoc = undefined;
          await this.enterDocument(entering);
        }
        const doc = this.doc;
        if (doc === undefined) throw new VxmlEvent('error.badfetch', 'no document');
        const dialog = this.findDialog(doc.root, next.dialog);
        if (dialog === undefined) {
          await this.handleOutsideDialog(new VxmlEvent('error.badfetch', `no dialog ${next.dialog ?? ''} in ${doc.url}`), doc.root);
          return { kind: 'end' };
        }
        const runner = new FormRunner(this, dialog, pendingParams, params !== undefined);
        pendingParams = undefined;
        this.form = runner;
        const outcome = await runner.run(next.item);
        this.form = undefined;
        if (outcome === 'end') return { kind: 'end' };
        next = outcome;
      } catch (err) {
        this.form = undefined;
        if (err instanceof ReturnSignal && params !== undefined) return { kind: 'return', signal: err };
        // a handler of an event in document initialisation made the transition
        if (!(err instanceof TransitionSignal)) throw err;
        next = err;
      }
      if (next.url !== undefined || next.submit !== undefined) {
        nextDoc = (next.loaded as LoadedDocument | undefined) ?? (await this.fetchTarget(next));
      }
    }
  }

  /** fetches the application root a document names, unless it is the current one (§1.5.2) */
  async prefetchRoot(doc: LoadedDocument): Promise<void> {
    const rootAttr = attr(doc.root, 'application');
    if (rootAttr === undefined) return;
    const rootUrl = resolveUri(rootAttr, doc.url);
    if (this.appRoot?.url === rootUrl || rootUrl === doc.url) return;
    doc.applicationRoot = await this.loader.loadDocument(rootUrl);
  }

  /** fetches the document of a transition; failures are thrown in the dialog that asked (so it can catch error.badfetch) */
  async fetchTarget(t: TransitionSignal): Promise<LoadedDocument> {
    const url = t.url ?? this.doc?.url ?? '';
    if (t.submit === undefined) return this.loader.loadDocument(url);
    const body = this.submitBody(t.submit);
    if (t.submit.method === 'GET') {
      const q = body.kind === 'urlencoded' ? new URLSearchParams(body.fields).toString() : '';
      return this.loader.loadDocument(q === '' ? url : `${url}${url.includes('?') ? '&' : '?'}${q}`);
    }
    return this.loader.loadDocument(url, { method: 'POST', body });
  }

  submitBody(s: SubmitSpec): SubmitBody {
    if (s.enctype === 'multipart/form-data') {
      return {
        kind: 'multipart',
        parts: s.fields.map((f) => {
          const audio = this.audioFor(f.value);
          return audio === undefined ? { name: f.name, value: stringOf(f.value) } : { name: f.name, filename: `${f.name}.wav`, contentType: audio.type, data: audio.data };
        }),
      };
    }
    return { kind: 'urlencoded', fields: s.fields.flatMap((f) => flatten(f.name, f.value)) };
  }

  inputItemNames(): string[] {
    return this.form?.inputItemNames() ?? [];
  }

  audioFor(value: unknown): { data: Uint8Array; type: string } | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    const ref = (value as { audioRef?: unknown }).audioRef;
    return typeof ref === 'string' ? this.recordings.get(ref) : undefined;
  }

  /** enters a document: its application root (§1.5.2), the document scope and its variables */
  private async enterDocument(doc: LoadedDocument): Promise<void> {
    const rootAttr = attr(doc.root, 'application');
    const rootUrl = rootAttr === undefined ? undefined : resolveUri(rootAttr, doc.url);
    const sameDocAsRoot = rootUrl === undefined && this.appRoot !== undefined && this.appRoot.url === doc.url;
    if (rootUrl === undefined) {
      if (!sameDocAsRoot) {
        this.appRoot = undefined;
        this.sandbox.resetScope('application');
      }
    } else if (this.appRoot?.url !== rootUrl) {
      const root = doc.applicationRoot?.url === rootUrl ? doc.applicationRoot : await this.loader.loadDocument(rootUrl);
      this.appRoot = root;
      this.sandbox.resetScope('application');
      this.properties = new PropertyScope(root.root);
      this.doc = root;
      this.sandbox.resetScope('document');
      await this.initDocumentVariables(root.root, 'application');
    }
    this.doc = doc;
    this.properties = new PropertyScope(this.appRoot?.root);
    if (sameDocAsRoot) {
      // the root document itself is the leaf now: its variables live in the application scope
      this.sandbox.useApplicationAsDocument();
      return;
    }
    this.sandbox.resetScope('document');
    this.sandbox.resetScope('nodialog');
    await this.initDocumentVariables(doc.root, rootUrl === undefined ? 'both' : 'document');
  }

  /** document-level <var> and <script> in document order; a root's land in the application scope */
  private async initDocumentVariables(root: XmlElement, target: 'application' | 'document' | 'both'): Promise<void> {
    const nodes = childElements(root).filter((e) => nameOf(e) === 'var' || nameOf(e) === 'script');
    try {
      if (target === 'application') {
        // the root document's scope object is the application scope
        this.sandbox.useApplicationAsDocument();
        await this.executor.run(nodes);
      } else {
        await this.executor.run(nodes);
      }
    } catch (err) {
      if (err instanceof VxmlEvent || err instanceof Error) {
        await this.handleOutsideDialog(semantic(err), root);
        return;
      }
      throw err;
    }
  }

  findDialog(root: XmlElement, id: string | undefined): XmlElement | undefined {
    const dialogs = childElements(root).filter((e) => nameOf(e) === 'form' || nameOf(e) === 'menu');
    if (id === undefined) return dialogs[0];
    return dialogs.find((d) => attr(d, 'id') === id);
  }

  /** an event outside any dialog (document initialisation): document catches, then the default */
  private async handleOutsideDialog(ev: VxmlEvent, root: XmlElement): Promise<void> {
    const counts = new Map<string, number>();
    await this.handleEvent(ev, root, counts);
  }

  /**
   * Throws an event into `from` (§5.2.4): selects a catch, runs it in a fresh anonymous scope
   * with _event/_message; events thrown by the handler are handled the same way. Returns when
   * the handler fell through (the FIA goes on); transitions propagate as signals.
   */
  async handleEvent(first: VxmlEvent, from: XmlElement, counts: Map<string, number>): Promise<{ reprompt: boolean }> {
    let ev = first;
    for (let depth = 0; ; depth++) {
      this.countStep();
      if (ev.limit !== undefined) {
        this.limitHits++;
        if (this.limitHits > 1) throw new SessionEndSignal('error.semantic', ev.eventMessage ?? 'script limit exceeded');
      }
      if (ev.event.startsWith('connection.disconnect')) this.collector.hungUp = this.collector.hungUp || ev.event === 'connection.disconnect.hangup';
      const count = (counts.get(ev.event) ?? 0) + 1;
      counts.set(ev.event, count);
      const handler = selectCatch(candidateCatches(from, this.appRoot?.root), ev.event, count, (c) => this.condTrue(c));
      if (handler === undefined) return this.defaultHandler(ev);
      const depthBefore = this.sandbox.anonymousDepth;
      this.sandbox.pushAnonymous();
      try {
        this.sandbox.declareValue('_event', ev.event);
        this.sandbox.declareValue('_message', ev.eventMessage);
        await this.executor.run(childNodes(handler));
        return { reprompt: this.takeReprompt() };
      } catch (err) {
        // a <reprompt> before a transition or another event does not carry over
        this.takeReprompt();
        if (err instanceof VxmlEvent && depth < 20) {
          ev = err;
          continue;
        }
        if (err instanceof Error && !(err instanceof VxmlEvent) && depth < 20) {
          ev = semantic(err);
          continue;
        }
        throw err;
      } finally {
        if (this.sandboxOrUndefined !== undefined) this.sandbox.truncateAnonymous(depthBefore);
      }
    }
  }

  private repromptFlag = false;
  /** <disconnect namelist> (VoiceXML 2.1 §5): reported in the session result */
  private disconnectNamelist: Record<string, unknown> | undefined;

  reprompt(): void {
    this.repromptFlag = true;
  }

  private takeReprompt(): boolean {
    const r = this.repromptFlag;
    this.repromptFlag = false;
    return r;
  }

  /** §5.2.5 default catch handlers */
  private defaultHandler(ev: VxmlEvent): { reprompt: boolean } {
    const e = ev.event;
    if (e === 'noinput' || e === 'nomatch' || e === 'help' || e === 'maxspeechtimeout' || e.startsWith('help.') || e.startsWith('noinput.') || e.startsWith('nomatch.')) return { reprompt: true };
    if (e === 'cancel' || e.startsWith('cancel.')) return { reprompt: false };
    if (e === 'exit' || e.startsWith('exit.')) throw new ExitSignal(undefined, undefined);
    this.logger.info({ event: e, message: ev.eventMessage }, 'uncaught VoiceXML event ends the session');
    throw new SessionEndSignal(e, ev.eventMessage ?? `uncaught event ${e}`);
  }

  condTrue(expr: string): boolean {
    try {
      return this.sandbox.evaluateBoolean(expr);
    } catch {
      return false;
    }
  }

  countStep(): void {
    this.steps++;
    if (this.steps > this.maxTransitions) throw new SessionEndSignal('error.semantic', 'too many transitions without input');
  }

  // ExecHost
  /** the document's URI, or its xml:base (VoiceXML 2.0 §1.5.1) */
  baseUri(): string {
    const doc = this.doc;
    if (doc === undefined) return 'about:blank';
    const base = attr(doc.root, 'xml:base');
    if (base === undefined) return doc.url;
    try {
      return new URL(base, doc.url).href;
    } catch {
      return doc.url;
    }
  }

  language(): string {
    return attr(this.doc?.root ?? ({} as XmlElement), 'xml:lang') ?? 'en-US';
  }

  queuePrompt(p: QueuedPrompt): void {
    this.promptQueue.push(p);
  }

  takePrompts(): QueuedPrompt[] {
    return this.promptQueue.splice(0);
  }

  log(label: string | undefined, text: string): void {
    this.platform.log(label, text);
  }

  clearItems(names: string[] | undefined): void {
    if (this.form !== undefined) this.form.clear(names);
    else for (const n of names ?? []) this.sandbox.assignValue(n, undefined);
  }

  bargein(el: XmlElement): boolean {
    const b = attr(el, 'bargein');
    if (b !== undefined) return b !== 'false';
    return this.properties.get('bargein', el) !== 'false';
  }

  bargeinType(el: XmlElement): 'speech' | 'hotword' {
    return (attr(el, 'bargeintype') ?? this.properties.get('bargeintype', el)) === 'hotword' ? 'hotword' : 'speech';
  }

  enumerateItems(from: XmlElement): Array<{ prompt: string; dtmf: string }> {
    return this.form?.enumerateItems(from) ?? [];
  }

  /** a <choice> of a menu matched (§2.2): its next/expr or event/eventexpr */
  async menuChoice(form: FormRunner, menu: XmlElement, interpretation: unknown): Promise<void> {
    const choice = form.grammarLoader.menuChoices(menu)[Number(interpretation)];
    if (choice === undefined) throw new VxmlEvent('nomatch');
    const ev = this.executor.attrOrExpr(choice.el, 'event', 'eventexpr');
    if (ev !== undefined) throw new VxmlEvent(ev, this.executor.attrOrExpr(choice.el, 'message', 'messageexpr'));
    const next = this.executor.attrOrExpr(choice.el, 'next', 'expr');
    if (next === undefined) throw new VxmlEvent('error.badfetch', '<choice> without a target');
    throw await this.executor.transitionTo(next);
  }

  async disconnect(namelist?: Record<string, unknown>): Promise<void> {
    if (namelist !== undefined) this.disconnectNamelist = namelist;
    await this.collector.playOnly(this.takePrompts());
    if (!this.disconnected) {
      this.disconnected = true;
      this.collector.hungUp = true;
      await this.platform.disconnect().catch(() => undefined);
    }
  }
}

/** §5.3.8: an object is submitted as its properties, name.prop=value */
function flatten(name: string, value: unknown, depth = 0): Array<[string, string]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 8) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(`${name}.${k}`, v, depth + 1));
  }
  return [[name, stringOf(value)]];
}

export type { ContextEnd };
