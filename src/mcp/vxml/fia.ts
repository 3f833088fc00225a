/**
 * The Form Interpretation Algorithm (VoiceXML 2.0 Appendix C) for one <form> or <menu>:
 * initialisation, then select / collect / process until a transition or the end of the form.
 */
import type { Grammar } from '../grammar/types.js';
import { attr, childElements, childNodes, nameOf } from './dom.js';
import type { XmlElement, XmlNode } from './dom.js';
import { countOf } from './events.js';
import { semantic } from './executable.js';
import type { ActiveGrammar, CollectResult } from './input-collector.js';
import { GrammarLoader } from './grammar-loader.js';
import { stringOf } from './prompts.js';
import { SessionEndSignal, ReturnSignal, TransitionSignal, VxmlEvent } from './signals.js';
import type { VoiceXmlSession } from './session.js';
import { runRecord, runSubdialog, runTransfer } from './form-items.js';

const LEVEL_RANK: Record<ActiveGrammar['level'], number> = { field: 0, form: 1, document: 2, link: 2, universal: 3 };

const INPUT_ITEMS = new Set(['field', 'record', 'transfer', 'subdialog', 'object', 'initial']);
const FORM_ITEMS = new Set([...INPUT_ITEMS, 'block']);

export class FormRunner {
  readonly items: XmlElement[];
  readonly names = new Map<XmlElement, string>();
  readonly promptCounts = new Map<XmlElement, number>();
  readonly eventCounts = new Map<string, number>();
  readonly justFilled = new Set<string>();
  private suppressPrompts = false;
  private hangupDelivered = false;
  readonly isMenu: boolean;
  readonly grammarLoader: GrammarLoader;

  constructor(
    readonly s: VoiceXmlSession,
    readonly el: XmlElement,
    private readonly params: Record<string, unknown> | undefined,
    /** in a subdialog's execution context <return> is allowed */
    private readonly inSubdialog = false,
  ) {
    this.isMenu = nameOf(el) === 'menu';
    this.items = this.isMenu ? [el] : childElements(el).filter((c) => FORM_ITEMS.has(nameOf(c)));
    this.items.forEach((item, i) => this.names.set(item, attr(item, 'name') ?? `$item${i}$${nameOf(item)}`));
    this.grammarLoader = new GrammarLoader(s);
  }

  inputItemNames(): string[] {
    return this.items.filter((i) => INPUT_ITEMS.has(nameOf(i)) && nameOf(i) !== 'initial' && attr(i, 'name') !== undefined).map((i) => this.nameOfItem(i));
  }

  nameOfItem(item: XmlElement): string {
    return this.names.get(item) ?? '';
  }

  /** Appendix C: initialisation, then the main loop */
  async run(startItem: string | undefined): Promise<TransitionSignal | 'end'> {
    const sb = this.s.sandbox;
    sb.resetScope('dialog');
    const early = await this.fetched(this.el, await this.guarded(this.el, async () => {
      await this.initialise();
    }));
    if (early !== undefined) return early;
    let gotoItem = startItem;
    for (;;) {
      this.s.countStep();
      let item: XmlElement | undefined;
      if (gotoItem !== undefined) {
        const wanted = gotoItem;
        item = this.items.find((i) => this.nameOfItem(i) === wanted);
        gotoItem = undefined;
        if (item === undefined) {
          const t = await this.guarded(this.el, () => Promise.reject(new VxmlEvent('error.badfetch', `no form item ${wanted}`)));
          if (t !== undefined) return t;
          continue;
        }
      } else {
        item = this.select();
      }
      if (item === undefined) return 'end';
      const t = await this.fetched(item, await this.guarded(item, () => this.execute(item)));
      if (t === undefined) continue;
      if (t.url === undefined && t.submit === undefined && t.dialog !== undefined && this.s.doc !== undefined && this.s.findDialog(this.s.doc.root, t.dialog) === undefined) {
        // §5.3.7: a goto to a dialog that does not exist is error.badfetch where it was made
        const wanted = t.dialog;
        const handled = await this.fetched(item, await this.guarded(item, () => Promise.reject(new VxmlEvent('error.badfetch', `no dialog ${wanted}`))));
        if (handled === undefined) continue;
        return handled;
      }
      if (t.url === undefined && t.dialog === undefined && t.item !== undefined && t.submit === undefined) {
        gotoItem = t.item;
        continue;
      }
      return t;
    }
  }

  /** fetches a transition's document here, so error.badfetch is thrown in the dialog that asked (§5.3.7) */
  private async fetched(item: XmlElement, first: TransitionSignal | undefined): Promise<TransitionSignal | undefined> {
    let t = first;
    for (let i = 0; t !== undefined && (t.url !== undefined || t.submit !== undefined) && t.loaded === undefined; i++) {
      const current: TransitionSignal = t;
      if (i > 20) throw new SessionEndSignal('error.semantic', 'too many failing transitions');
      const next = await this.guarded(item, async () => {
        const loaded = await this.s.fetchTarget(current);
        await this.s.prefetchRoot(loaded);
        if (current.dialog !== undefined && this.s.findDialog(loaded.root, current.dialog) === undefined) {
          throw new VxmlEvent('error.badfetch', `no dialog ${current.dialog} in ${loaded.url}`);
        }
        current.loaded = loaded;
      });
      if (next === undefined) return current.loaded === undefined ? undefined : current;
      t = next;
    }
    return t;
  }

  /** runs fn; an event is handled from `scope` outwards; a transition is returned */
  async guarded(scope: XmlElement, fn: () => Promise<void>): Promise<TransitionSignal | undefined> {
    try {
      await fn();
      return undefined;
    } catch (err) {
      if (err instanceof TransitionSignal) return err;
      if (err instanceof ReturnSignal && !this.inSubdialog) return this.guarded(scope, () => Promise.reject(new VxmlEvent('error.semantic', '<return> outside a subdialog')));
      if (!(err instanceof VxmlEvent) && !(err instanceof Error && !(err instanceof SessionEndSignal))) throw err;
      if (!(err instanceof VxmlEvent)) this.s.logger.warn({ err }, 'unexpected failure in the FIA, thrown as error.semantic');
      const ev = err instanceof VxmlEvent ? err : semantic(err);
      try {
        const r = await this.s.handleEvent(ev, scope, this.eventCounts);
        this.suppressPrompts = !r.reprompt;
        return undefined;
      } catch (inner) {
        if (inner instanceof TransitionSignal) return inner;
        throw inner;
      }
    }
  }

  private async initialise(): Promise<void> {
    const sb = this.s.sandbox;
    for (const c of childElements(this.el)) {
      const n = nameOf(c);
      if (n === 'var') {
        const name = attr(c, 'name') ?? '';
        if (this.params !== undefined && Object.prototype.hasOwnProperty.call(this.params, name)) sb.declareValue(name, this.params[name]);
        else sb.declare(name, attr(c, 'expr'));
      } else if (n === 'script') {
        await this.s.executor.run([c]);
      } else if (FORM_ITEMS.has(n) && !this.isMenu) {
        const expr = attr(c, 'expr');
        sb.declareValue(this.nameOfItem(c), expr === undefined ? undefined : this.s.executor.evaluate(expr), 'dialog');
        this.promptCounts.set(c, 0);
      }
    }
    // §2.3.4.1: every <param> of the calling <subdialog> must match a <var> of the form
    if (this.params !== undefined) {
      const declared = new Set(childElements(this.el, 'var').map((v) => attr(v, 'name')));
      const stray = Object.keys(this.params).filter((p) => !declared.has(p));
      if (stray.length > 0) throw new VxmlEvent('error.semantic', `subdialog parameter ${stray.join(', ')} has no <var> in the form`);
    }
  }

  /** select phase: the first form item whose variable is undefined and whose cond is true */
  private select(): XmlElement | undefined {
    if (this.isMenu) return this.el;
    for (const item of this.items) {
      if (this.itemValue(item) !== undefined) continue;
      if (this.s.executor.cond(item)) return item;
    }
    return undefined;
  }

  itemValue(item: XmlElement): unknown {
    return this.s.executor.evaluate(`dialog[${JSON.stringify(this.nameOfItem(item))}]`);
  }

  setItem(name: string, value: unknown): void {
    this.s.sandbox.declareValue(name, value, 'dialog');
  }

  /** <clear> (VoiceXML 2.0 §5.3.3): variables to undefined; form items also get their counters reset */
  clear(names: string[] | undefined): void {
    const targets = names ?? this.items.map((i) => this.nameOfItem(i));
    for (const n of targets) {
      const item = this.items.find((i) => this.nameOfItem(i) === n);
      if (item !== undefined) {
        this.setItem(n, undefined);
        this.promptCounts.set(item, 0);
        this.eventCounts.clear();
      } else {
        try {
          this.s.sandbox.assignValue(n, undefined);
        } catch (err) {
          throw semantic(err);
        }
      }
    }
  }

  private async execute(item: XmlElement): Promise<void> {
    const kind = nameOf(item);
    if (kind === 'block') {
      this.setItem(this.nameOfItem(item), true);
      await this.inAnonymous(() => this.s.executor.run(childNodes(item)));
      return;
    }
    const count = (this.promptCounts.get(item) ?? 0) + 1;
    this.promptCounts.set(item, count);
    if (kind === 'object') throw new VxmlEvent('error.unsupported.objecttype', `<object type="${attr(item, 'type') ?? ''}"> is not supported`);
    if (!this.suppressPrompts || kind === 'subdialog') this.queuePrompts(item, count);
    this.suppressPrompts = false;
    if (kind === 'subdialog') return runSubdialog(this, item);
    if (kind === 'record') return runRecord(this, item);
    if (kind === 'transfer') return runTransfer(this, item);
    const result = await this.collect(item);
    await this.process(item, result);
  }

  async inAnonymous(fn: () => Promise<void>): Promise<void> {
    const sb = this.s.sandbox;
    const depth = sb.anonymousDepth;
    sb.pushAnonymous();
    try {
      await fn();
    } finally {
      if (this.s.sandboxOrUndefined !== undefined) sb.truncateAnonymous(depth);
    }
  }

  /** prompts with the highest count not above the item's prompt counter (§4.1.6) */
  queuePrompts(item: XmlElement, count: number): void {
    const prompts = childElements(item, 'prompt').filter((p) => this.s.executor.cond(p));
    let correct = 0;
    for (const p of prompts) {
      const c = countOf(p);
      if (c <= count && c > correct) correct = c;
    }
    for (const p of prompts) if (countOf(p) === correct) this.s.executor.queuePrompt(p);
  }

  /** collect phase: activate grammars and wait for input */
  private async collect(item: XmlElement): Promise<CollectResult> {
    if (this.s.collector.hungUp) {
      if (this.hangupDelivered) throw new SessionEndSignal('connection.disconnect.hangup', 'the caller hung up');
      this.hangupDelivered = true;
      return { kind: 'hangup' };
    }
    const grammars = await this.activeGrammars(item);
    const p = this.s.properties;
    const prompts = this.s.takePrompts();
    const lastTimeout = [...prompts].reverse().find((q) => q.timeoutMs !== undefined)?.timeoutMs;
    const modes = p.get('inputmodes', item).split(/\s+/);
    const result = await this.s.collector.collect({
      grammars,
      prompts,
      noinputMs: lastTimeout ?? p.timeMs('timeout', item),
      interdigitMs: p.timeMs('interdigittimeout', item),
      termtimeoutMs: p.timeMs('termtimeout', item),
      termchar: p.get('termchar', item),
      confidencelevel: p.number('confidencelevel', item),
      maxnbest: p.number('maxnbest', item),
      dtmfEnabled: modes.includes('dtmf'),
      voiceEnabled: modes.includes('voice'),
      recognition: {
        completetimeoutMs: p.timeMs('completetimeout', item),
        incompletetimeoutMs: p.timeMs('incompletetimeout', item),
        maxspeechtimeoutMs: p.timeMs('maxspeechtimeout', item),
        confidencelevel: p.number('confidencelevel', item),
        sensitivity: p.number('sensitivity', item),
        speedvsaccuracy: p.number('speedvsaccuracy', item),
        language: this.s.language(),
      },
    });
    if (result.kind === 'hangup') this.hangupDelivered = true;
    return result;
  }

  /**
   * Grammars in precedence order (§3.1.3): the item's and its links, then (unless modal) the
   * form's and its links, document-scoped grammars of other dialogs, the document's links, the
   * application root's links, and the universal grammars the `universals` property enables.
   */
  async activeGrammars(item: XmlElement): Promise<ActiveGrammar[]> {
    const out: ActiveGrammar[] = [];
    const loader = this.grammarLoader;
    if (this.isMenu) out.push(...(await loader.menuGrammars(this.el)), ...(await this.linkGrammars(this.el)));
    else {
      for (const g of childElements(item, 'grammar')) out.push({ grammar: await loader.load(g), level: 'field', tag: item });
      out.push(...loader.optionGrammars(item).map((grammar) => ({ grammar, level: 'field' as const, tag: item })));
      const type = attr(item, 'type');
      if (type !== undefined) out.push(...loader.builtinFor(type).map((grammar) => ({ grammar, level: 'field' as const, tag: item })));
      out.push(...(await this.linkGrammars(item)));
    }
    if (attr(item, 'modal') === 'true') return out;
    if (!this.isMenu) {
      for (const g of childElements(this.el, 'grammar')) out.push({ grammar: await loader.load(g), level: 'form', tag: this.el });
      out.push(...(await this.linkGrammars(this.el)));
    }
    const doc = this.s.doc?.root;
    if (doc !== undefined) {
      for (const f of childElements(doc)) {
        if (f === this.el || (nameOf(f) !== 'form' && nameOf(f) !== 'menu')) continue;
        if (nameOf(f) === 'menu' && attr(f, 'scope') === 'document') {
          for (const g of await loader.menuGrammars(f)) out.push({ ...g, level: 'document', tag: f });
          continue;
        }
        for (const g of childElements(f, 'grammar')) {
          if (attr(g, 'scope') === 'document' || (attr(f, 'scope') === 'document' && attr(g, 'scope') !== 'dialog')) out.push({ grammar: await loader.load(g), level: 'document', tag: f });
        }
      }
      out.push(...(await this.linkGrammars(doc)));
    }
    const root = this.s.appRoot?.root;
    if (root !== undefined && root !== doc) out.push(...(await this.linkGrammars(root)));
    out.push(...loader.universals(this.s.properties.get('universals', item)));
    // within one scope level, a higher weight goes first (the sort is stable: document order otherwise)
    const rank = (g: ActiveGrammar): number => LEVEL_RANK[g.level];
    return out.sort((a, b) => rank(a) - rank(b) || b.grammar.weight - a.grammar.weight);
  }

  private async linkGrammars(owner: XmlElement): Promise<ActiveGrammar[]> {
    const out: ActiveGrammar[] = [];
    for (const link of childElements(owner, 'link')) {
      for (const g of childElements(link, 'grammar')) out.push({ grammar: await this.grammarLoader.load(g), level: 'link', tag: link });
      const dtmf = attr(link, 'dtmf');
      if (dtmf !== undefined) out.push({ grammar: this.s.grammars.choiceGrammar([{ dtmf, value: dtmf }], 'dtmf', 'exact'), level: 'link', tag: link });
    }
    return out;
  }

  /** a <link> matched (§2.5): its event, or a transition */
  private async followLink(link: XmlElement): Promise<never> {
    const ex = this.s.executor;
    const ev = ex.attrOrExpr(link, 'event', 'eventexpr');
    if (ev !== undefined) throw new VxmlEvent(ev, ex.attrOrExpr(link, 'message', 'messageexpr'));
    const next = ex.attrOrExpr(link, 'next', 'expr');
    if (next === undefined) throw new VxmlEvent('error.badfetch', '<link> without a target');
    throw await ex.transitionTo(next);
  }

  /** process phase after a collection (Appendix C "process input") */
  private async process(item: XmlElement, result: CollectResult): Promise<void> {
    switch (result.kind) {
      case 'noinput':
        throw new VxmlEvent('noinput');
      case 'maxspeechtimeout':
        throw new VxmlEvent('maxspeechtimeout', 'the utterance was longer than maxspeechtimeout');
      case 'nomatch':
        this.s.steps = 0;
        this.setLastResult([{ confidence: 0, utterance: result.utterance, inputmode: result.inputmode, interpretation: undefined }]);
        throw new VxmlEvent('nomatch');
      case 'hangup':
        throw new VxmlEvent('connection.disconnect.hangup', 'the caller hung up');
      case 'error':
        throw new VxmlEvent('error.noresource', result.message);
      case 'match':
        break;
    }
    this.s.steps = 0;
    const m = result.match;
    const nbest = result.nbest ?? [{ active: result.active, match: m }];
    this.setLastResult(nbest.map((r) => ({ confidence: r.match.confidence, utterance: r.match.utterance, inputmode: result.inputmode, interpretation: r.match.interpretation })));
    if (result.active.level === 'link') await this.followLink(result.active.tag as XmlElement);
    if (result.active.level === 'universal') throw new VxmlEvent(String(m.interpretation));
    if (result.active.level === 'document' && result.active.tag !== this.el) {
      const other = result.active.tag as XmlElement;
      // a choice of a document-scoped menu is taken at once; a document-scoped form is entered
      if (nameOf(other) === 'menu') await this.s.menuChoice(this, other, m.interpretation);
      throw new TransitionSignal(undefined, attr(other, 'id'));
    }
    if (this.isMenu) {
      await this.s.menuChoice(this, this.el, m.interpretation);
      return;
    }
    const shadow = { utterance: m.utterance, inputmode: result.inputmode, confidence: m.confidence, interpretation: m.interpretation };
    if (result.active.level === 'field') {
      const name = this.nameOfItem(item);
      this.setItem(name, slotValue(m.interpretation, attr(item, 'slot') ?? name));
      this.s.sandbox.declareValue(`${name}$`, shadow, 'dialog');
      this.justFilled.add(name);
    } else {
      this.fillFromForm(item, m.interpretation, shadow);
    }
    await this.runFilled();
  }

  /** §5.1.5: application.lastresult$ is the n-best array, and also carries the properties of its first entry */
  private setLastResult(results: Array<Record<string, unknown>>): void {
    const sb = this.s.sandbox;
    sb.setPath('application.lastresult$', results.map((r) => ({ markname: undefined, marktime: undefined, ...r })));
    sb.execute('(function (a) { if (a && a[0]) for (var k in a[0]) a[k] = a[0][k]; })(application.lastresult$);');
  }

  private fillFromForm(current: XmlElement, interp: unknown, shadow: Record<string, unknown>): void {
    const isObject = interp !== null && typeof interp === 'object' && !Array.isArray(interp);
    for (const item of this.items) {
      if (nameOf(item) !== 'field') continue;
      const name = this.nameOfItem(item);
      const slot = attr(item, 'slot') ?? name;
      if (isObject && Object.prototype.hasOwnProperty.call(interp, slot)) {
        this.setItem(name, (interp as Record<string, unknown>)[slot]);
        this.s.sandbox.declareValue(`${name}$`, shadow, 'dialog');
        this.justFilled.add(name);
      }
    }
    if (this.justFilled.size === 0 && nameOf(current) === 'field') {
      const name = this.nameOfItem(current);
      this.setItem(name, interp);
      this.justFilled.add(name);
    }
    if (this.justFilled.size > 0) for (const item of this.items) if (nameOf(item) === 'initial') this.setItem(this.nameOfItem(item), true);
  }

  /** <filled> of the just-filled items, then the form's (§2.4 mode any/all, namelist) */
  async runFilled(): Promise<void> {
    const filled = new Set(this.justFilled);
    this.justFilled.clear();
    for (const item of this.items) {
      if (!filled.has(this.nameOfItem(item))) continue;
      for (const f of childElements(item, 'filled')) await this.inAnonymous(() => this.s.executor.run(childNodes(f)));
    }
    for (const f of childElements(this.el, 'filled')) {
      const nl = attr(f, 'namelist');
      const names = nl !== undefined ? nl.split(/\s+/).filter((x) => x !== '') : this.items.filter((i) => INPUT_ITEMS.has(nameOf(i)) && nameOf(i) !== 'initial').map((i) => this.nameOfItem(i));
      if (!names.some((n) => filled.has(n))) continue;
      const all = names.every((n) => this.s.executor.evaluate(`dialog[${JSON.stringify(n)}]`) !== undefined);
      if (attr(f, 'mode') === 'any' || all) await this.inAnonymous(() => this.s.executor.run(childNodes(f)));
    }
  }

  /** the choices an <enumerate> lists: the menu's <choice>s or the field's <option>s */
  enumerateItems(from: XmlElement): Array<{ prompt: string; dtmf: string }> {
    let el: XmlElement | undefined = from;
    while (el !== undefined && nameOf(el) !== 'menu' && nameOf(el) !== 'field') el = (el.parentNode ?? undefined) as XmlElement | undefined;
    if (el === undefined) return [];
    if (nameOf(el) === 'menu') return this.grammarLoader.menuChoices(el).map((c) => ({ prompt: c.phrase, dtmf: c.dtmf ?? '' }));
    return childElements(el, 'option').map((o) => ({ prompt: (o.textContent ?? '').trim(), dtmf: attr(o, 'dtmf') ?? '' }));
  }
}

export function slotValue(interp: unknown, slot: string): unknown {
  if (interp !== null && typeof interp === 'object' && !Array.isArray(interp) && Object.prototype.hasOwnProperty.call(interp, slot)) {
    return (interp as Record<string, unknown>)[slot];
  }
  return interp;
}

export type { Grammar, XmlNode };
export { stringOf };
