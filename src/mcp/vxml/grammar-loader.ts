/**
 * Turning <grammar>, <option>, field types and <choice>s into compiled grammars (VoiceXML 2.0
 * §3.1, §2.2, §2.3.1.2), with a per-session cache. A grammar that cannot be fetched or
 * compiled is error.badfetch; a srcexpr that does not evaluate is error.semantic.
 */
import type { Grammar, GrammarMode } from '../grammar/types.js';
import { attr, childElements } from './dom.js';
import type { XmlElement } from './dom.js';
import { resolveUri } from './documents.js';
import { inlineGrammarText } from './executable.js';
import type { GrammarFactory } from './grammar-port.js';
import type { ActiveGrammar } from './input-collector.js';
import { VxmlEvent } from './signals.js';
import type { VoiceXmlSession } from './session.js';

const grammarCache = new WeakMap<VoiceXmlSession, Map<string, Grammar>>();

/**
 * Inline grammars that needed nothing fetched, compiled once for every session (per grammar
 * factory): each call of an application would otherwise parse and compile the same <grammar>
 * again. A compiled grammar is only read when matching, so sessions can share it.
 */
const SHARED_INLINE_ENTRIES = 256;
const sharedInline = new WeakMap<GrammarFactory, Map<string, Grammar>>();

function sharedInlineCache(factory: GrammarFactory): Map<string, Grammar> {
  let c = sharedInline.get(factory);
  if (c === undefined) {
    c = new Map();
    sharedInline.set(factory, c);
  }
  return c;
}

export interface MenuChoice {
  el: XmlElement;
  phrase: string;
  dtmf: string | undefined;
}

export class GrammarLoader {
  private readonly cache: Map<string, Grammar>;

  constructor(private readonly s: VoiceXmlSession) {
    let c = grammarCache.get(s);
    if (c === undefined) {
      c = new Map();
      grammarCache.set(s, c);
    }
    this.cache = c;
  }

  async load(g: XmlElement): Promise<Grammar> {
    const src = this.s.executor.attrOrExpr(g, 'src', 'srcexpr');
    const modeAttr = attr(g, 'mode');
    const mode: GrammarMode | undefined = modeAttr === 'dtmf' || modeAttr === 'voice' ? modeAttr : undefined;
    const weight = Number(attr(g, 'weight') ?? '1');
    const type = attr(g, 'type');
    if (src !== undefined && src.startsWith('builtin:')) return this.builtin(src, mode ?? 'voice');
    const key = src !== undefined ? `src:${resolveUri(src, this.s.baseUri())}:${mode ?? ''}` : `inline:${this.s.baseUri()}:${inlineGrammarText(g, this.s.language())}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const shared = src === undefined ? sharedInlineCache(this.s.grammars) : undefined;
    const sharedKey = `${key}\u0000${type ?? ''}\u0000${mode ?? ''}\u0000${weight}`;
    const sharedHit = shared?.get(sharedKey);
    if (sharedHit !== undefined) {
      this.cache.set(key, sharedHit);
      return sharedHit;
    }
    let fetched = false;
    let text: string;
    let baseUri = this.s.baseUri();
    let contentType = type;
    if (src !== undefined) {
      const res = await this.s.loader.fetchText(resolveUri(src, this.s.baseUri()), { accept: 'application/srgs+xml, application/srgs', kind: 'grammar' });
      text = res.text;
      baseUri = res.url;
      contentType = type ?? (res.contentType.includes('srgs') ? res.contentType : undefined);
    } else {
      text = inlineGrammarText(g, this.s.language());
    }
    try {
      const grammar = await this.s.grammars.loadGrammar(
        { text, baseUri, ...(contentType !== undefined ? { contentType } : {}), ...(mode !== undefined ? { mode } : {}), ...(Number.isFinite(weight) ? { weight } : {}) },
        {
          fetch: async (uri) => {
            fetched = true;
            const r = await this.s.loader.fetchText(uri, { kind: 'grammar' });
            return { text: r.text, contentType: r.contentType };
          },
        },
      );
      this.cache.set(key, grammar);
      // a grammar with external rulerefs depends on what this session's fetch saw: not shared
      if (shared !== undefined && !fetched) {
        if (shared.size >= SHARED_INLINE_ENTRIES) {
          const oldest = shared.keys().next();
          if (oldest.done !== true) shared.delete(oldest.value);
        }
        shared.set(sharedKey, grammar);
      }
      return grammar;
    } catch (err) {
      if (err instanceof VxmlEvent) throw err;
      throw new VxmlEvent('error.badfetch', `grammar ${src ?? 'inline'} does not compile: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private builtin(uri: string, mode: GrammarMode): Grammar {
    try {
      return this.s.grammars.builtinGrammar(uri, mode);
    } catch (err) {
      throw new VxmlEvent('error.unsupported.builtin', err instanceof Error ? err.message : String(err));
    }
  }

  /** field type="digits?length=3": the builtin in both modes */
  builtinFor(type: string): Grammar[] {
    return [this.builtin(`builtin:dtmf/${type}`, 'dtmf'), this.builtin(`builtin:voice/${type}`, 'voice')];
  }

  /** <option>s of a field (§2.3.1.3) */
  optionGrammars(field: XmlElement): Grammar[] {
    const options = childElements(field, 'option');
    if (options.length === 0) return [];
    const choices = options.map((o) => {
      const phrase = (o.textContent ?? '').trim();
      const dtmf = attr(o, 'dtmf');
      return { ...(phrase !== '' ? { phrase } : {}), ...(dtmf !== undefined ? { dtmf } : {}), value: attr(o, 'value') ?? phrase };
    });
    const accept = attr(field, 'accept') === 'approximate' ? 'approximate' : 'exact';
    const out: Grammar[] = [];
    if (choices.some((c) => c.dtmf !== undefined)) out.push(this.s.grammars.choiceGrammar(choices.filter((c) => c.dtmf !== undefined), 'dtmf', accept));
    if (choices.some((c) => c.phrase !== undefined)) out.push(this.s.grammars.choiceGrammar(choices.filter((c) => c.phrase !== undefined), 'voice', accept));
    return out;
  }

  /** the universal grammars (§6.3.6): `all`, or a list of help, exit, cancel */
  universals(property: string): ActiveGrammar[] {
    const words = property.trim() === 'all' ? ['help', 'exit', 'cancel'] : property.split(/\s+/).filter((w) => w === 'help' || w === 'exit' || w === 'cancel');
    if (words.length === 0) return [];
    const grammar = this.s.grammars.choiceGrammar(words.map((w) => ({ phrase: w, value: w })), 'voice', 'exact');
    return [{ grammar, level: 'universal', tag: undefined }];
  }

  /** a menu's choices with dtmf="true" auto-numbering (§2.2.3) */
  menuChoices(menu: XmlElement): MenuChoice[] {
    const auto = attr(menu, 'dtmf') === 'true';
    let n = 0;
    return childElements(menu, 'choice').map((c) => {
      n++;
      const dtmf = attr(c, 'dtmf') ?? (auto && n <= 9 ? String(n) : undefined);
      return { el: c, phrase: (c.textContent ?? '').replace(/\s+/g, ' ').trim(), dtmf };
    });
  }

  /** the grammars of a menu: one choice grammar per mode; a <choice> with its own <grammar> uses that */
  async menuGrammars(menu: XmlElement): Promise<ActiveGrammar[]> {
    const choices = this.menuChoices(menu);
    const accept = attr(menu, 'accept') === 'approximate' ? 'approximate' : 'exact';
    const out: ActiveGrammar[] = [];
    const plain = choices.map((c, i) => ({ c, i })).filter(({ c }) => childElements(c.el, 'grammar').length === 0);
    for (const { c, i } of choices.map((c, i) => ({ c, i }))) {
      for (const g of childElements(c.el, 'grammar')) {
        const grammar = await this.load(g);
        out.push({ grammar: withValue(grammar, String(i)), level: 'field', tag: menu });
      }
    }
    const dtmf = plain.filter(({ c }) => c.dtmf !== undefined).map(({ c, i }) => ({ dtmf: c.dtmf ?? '', value: String(i) }));
    const voice = plain.filter(({ c }) => c.phrase !== '').map(({ c, i }) => ({ phrase: c.phrase, value: String(i) }));
    if (dtmf.length > 0) out.push({ grammar: this.s.grammars.choiceGrammar(dtmf, 'dtmf', accept), level: 'field', tag: menu });
    if (voice.length > 0) out.push({ grammar: this.s.grammars.choiceGrammar(voice, 'voice', accept), level: 'field', tag: menu });
    return out;
  }
}

/** a grammar whose matches report a fixed interpretation (which <choice> it belongs to) */
function withValue(g: Grammar, value: string): Grammar {
  return {
    mode: g.mode,
    id: g.id,
    weight: g.weight,
    match: async (tokens, confidence) => {
      const m = await g.match(tokens, confidence);
      return m.status === 'complete' ? { ...m, interpretation: value } : m;
    },
  };
}
