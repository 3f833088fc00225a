import { GrammarError } from './grammar-error.js';
import { parseGrammarText } from './grammar-source.js';
import type { ParsedGrammar } from './parsed-grammar.js';
import type { Expansion, GrammarLoadOptions, GrammarMode, GrammarRule, RuleSet } from './types.js';

/**
 * Resolves a parsed grammar's rulerefs (SRGS §2.2): local `#id`, external `uri#id` and `uri`
 * (the external grammar's root). External grammars are fetched once each through
 * options.fetch, so cycles between documents terminate; every rule lands in one table keyed
 * `id` (the main grammar) or `<absolute uri>#id`.
 */

const MAX_DOCUMENTS = 64;

interface Document {
  uri: string;
  parsed: ParsedGrammar;
}

function stripFragment(uri: string): string {
  const hash = uri.indexOf('#');
  return hash < 0 ? uri : uri.slice(0, hash);
}

function resolveUri(reference: string, base: string | undefined): string {
  try {
    return new URL(reference, base).href;
  } catch {
    return reference;
  }
}

function forEachRef(expansion: Expansion, visit: (ref: string) => void): void {
  switch (expansion.kind) {
    case 'ruleref':
      if (expansion.special === undefined) visit(expansion.rule);
      return;
    case 'sequence':
      for (const item of expansion.items) forEachRef(item, visit);
      return;
    case 'alternatives':
      for (const item of expansion.items) forEachRef(item.expansion, visit);
      return;
    case 'repeat':
      forEachRef(expansion.expansion, visit);
      return;
    default:
      return;
  }
}

function mapRefs(expansion: Expansion, map: (ref: string) => string): Expansion {
  switch (expansion.kind) {
    case 'ruleref':
      return expansion.special === undefined ? { kind: 'ruleref', rule: map(expansion.rule) } : expansion;
    case 'sequence':
      return { kind: 'sequence', items: expansion.items.map((item) => mapRefs(item, map)) };
    case 'alternatives':
      return { kind: 'alternatives', items: expansion.items.map((item) => ({ expansion: mapRefs(item.expansion, map), weight: item.weight })) };
    case 'repeat':
      return { ...expansion, expansion: mapRefs(expansion.expansion, map) };
    default:
      return expansion;
  }
}

function tagFormatOf(raw: string | undefined): RuleSet['tagFormat'] {
  if (raw === undefined) return 'none';
  const format = raw.trim().toLowerCase();
  if (format === 'semantics/1.0-literals' || format === 'swi-semantics/1.0-literals') return 'semantics/1.0-literals';
  if (format.startsWith('semantics/1.0') || format.startsWith('swi-semantics/1.0')) return 'semantics/1.0';
  return 'none';
}

export interface ResolvedGrammar {
  rules: RuleSet;
  headerTags: string[];
}

export async function resolveGrammar(
  main: ParsedGrammar,
  mainUri: string | undefined,
  grammarId: string,
  options: GrammarLoadOptions,
  defaultMode: GrammarMode | undefined,
): Promise<ResolvedGrammar> {
  const mainKey = mainUri === undefined ? '' : stripFragment(mainUri);
  const documents = new Map<string, Document>([[mainKey, { uri: mainKey, parsed: main }]]);
  const baseOf = (doc: Document): string | undefined =>
    doc.parsed.base !== undefined ? resolveUri(doc.parsed.base, doc.uri === '' ? undefined : doc.uri) : doc.uri === '' ? undefined : doc.uri;

  /** Splits a raw reference into (document key, rule id or undefined for the root). */
  const target = (ref: string, doc: Document): { docKey: string; ruleId: string | undefined } => {
    if (ref.startsWith('#')) return { docKey: doc.uri, ruleId: ref.slice(1) };
    const absolute = resolveUri(ref, baseOf(doc));
    const hash = absolute.indexOf('#');
    const docKey = stripFragment(absolute);
    return { docKey, ruleId: hash < 0 ? undefined : decodeURIComponent(absolute.slice(hash + 1)) };
  };

  // Fetch every external grammar reachable from the main one, breadth first.
  const queue: Document[] = [documents.get(mainKey)!];
  for (let doc = queue.shift(); doc !== undefined; doc = queue.shift()) {
    const wanted: string[] = [];
    for (const rule of doc.parsed.rules.values()) {
      forEachRef(rule.expansion, (ref) => {
        const { docKey } = target(ref, doc);
        if (!documents.has(docKey) && !wanted.includes(docKey)) wanted.push(docKey);
      });
    }
    for (const uri of wanted) {
      if (documents.size >= MAX_DOCUMENTS) throw new GrammarError(`more than ${MAX_DOCUMENTS} external grammars`, { grammarId });
      if (options.fetch === undefined) throw new GrammarError(`cannot fetch external grammar ${uri}: no fetcher`, { grammarId });
      let fetched: { text: string; contentType?: string };
      try {
        fetched = await options.fetch(uri);
      } catch (err) {
        throw new GrammarError(`cannot fetch external grammar ${uri}: ${err instanceof Error ? err.message : String(err)}`, { grammarId, cause: err });
      }
      const parsed = parseGrammarText(fetched.text, fetched.contentType, uri, main.mode ?? defaultMode);
      const external: Document = { uri, parsed };
      documents.set(uri, external);
      queue.push(external);
    }
  }

  const keyOf = (docKey: string, ruleId: string): string => (docKey === mainKey ? ruleId : `${docKey}#${ruleId}`);
  const rules = new Map<string, GrammarRule>();
  for (const doc of documents.values()) {
    for (const rule of doc.parsed.rules.values()) {
      const key = keyOf(doc.uri, rule.id);
      const expansion = mapRefs(rule.expansion, (ref) => {
        const { docKey, ruleId } = target(ref, doc);
        const targetDoc = documents.get(docKey)!;
        const id = ruleId ?? rootOf(targetDoc, grammarId, `rule reference "${ref}" in rule "${rule.id}"`);
        if (!targetDoc.parsed.rules.has(id)) {
          throw new GrammarError(`rule "${rule.id}" refers to unknown rule "${ref}"`, { grammarId: doc.uri === mainKey ? grammarId : doc.uri, ...(rule.line !== undefined ? { line: rule.line } : {}) });
        }
        return keyOf(docKey, id);
      });
      rules.set(key, { key, id: rule.id, scope: rule.scope, expansion });
    }
  }
  const root = rootOf(documents.get(mainKey)!, grammarId, 'the grammar');
  const ruleSet: RuleSet = {
    mode: main.mode ?? defaultMode ?? 'voice',
    root,
    rules,
    tagFormat: tagFormatOf(main.tagFormat),
    ...(main.language !== undefined ? { language: main.language } : {}),
  };
  return { rules: ruleSet, headerTags: main.headerTags };
}

function rootOf(doc: Document, grammarId: string, what: string): string {
  const parsed = doc.parsed;
  const id = doc.uri === '' ? grammarId : doc.uri;
  if (parsed.root !== undefined) {
    if (!parsed.rules.has(parsed.root)) throw new GrammarError(`root rule "${parsed.root}" is not defined`, { grammarId: id });
    return parsed.root;
  }
  if (parsed.rules.size === 1) return parsed.rules.keys().next().value!;
  throw new GrammarError(`${what} needs a root rule but the grammar declares none`, { grammarId: id });
}
