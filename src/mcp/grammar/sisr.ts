import type { QuickJSWASMModule } from 'quickjs-emscripten';
import { GrammarError } from './grammar-error.js';
import type { ParseEvent, RuleNode } from './earley.js';
import type { RuleSet } from './types.js';

/**
 * SISR 1.0 (W3C Semantic Interpretation for Speech Recognition) over a parse tree. Every rule
 * has its own `out`; `rules.<id>` / `rules.latest()` hold the out of the rules it referenced so
 * far, `meta.<id>.text` / `meta.current().text` / `meta.latest()` their text (§3.3, §6).
 * A rule in which no tag ran yields its matched text. Tags run in QuickJS (sandboxed, with a
 * memory limit and a deadline) in the order the tokens matched.
 */

const MEMORY_LIMIT_BYTES = 8 * 1024 * 1024;
const STACK_LIMIT_BYTES = 262144;
/** wall-clock budget of one interpretation: generous on a loaded machine, short for `while(true){}` */
export const SISR_BUDGET_MS = 1000;

let quickJs: Promise<QuickJSWASMModule> | undefined;

/** One WASM module for all grammars, loaded on first use (and again after it aborted). */
function loadQuickJs(): Promise<QuickJSWASMModule> {
  quickJs ??= import('quickjs-emscripten').then((m) => m.newQuickJSWASMModule());
  return quickJs;
}

/**
 * QuickJS can abort while freeing a runtime that a script left in a bad state (a stack
 * overflow leaks objects); that WASM instance is then unusable, so the next match loads a new one.
 */
function disposeSafely(dispose: () => void): void {
  try {
    dispose();
  } catch {
    quickJs = undefined;
  }
}

/** Runs inside QuickJS: walks the tree (compact JSON) and runs each rule's tags as one function. */
const DRIVER = `
var __sisr = function (tree, sep) {
  function collect(node, parts) {
    var e = node.e;
    for (var i = 0; i < e.length; i++) {
      if (e[i].w !== undefined) parts.push(e[i].w);
      else if (e[i].r !== undefined) collect(e[i].r, parts);
    }
    return parts;
  }
  function textOf(node) { return collect(node, []).join(sep); }
  function evalRule(node) {
    var text = textOf(node);
    var e = node.e;
    var body = 'var out = {};\\n';
    var tags = 0;
    for (var i = 0; i < e.length; i++) {
      if (e[i].r !== undefined) body += '__child(' + i + ');\\n';
      else if (e[i].t !== undefined) { body += e[i].t + '\\n;\\n'; tags++; }
    }
    if (tags === 0) return text;
    var rules = {};
    var meta = {};
    var latestOut, latestMeta;
    Object.defineProperty(rules, 'latest', { value: function () { return latestOut; }, enumerable: false, writable: true });
    Object.defineProperty(meta, 'latest', { value: function () { return latestMeta; }, enumerable: false, writable: true });
    Object.defineProperty(meta, 'current', { value: function () { return { text: text, score: 1 }; }, enumerable: false, writable: true });
    function child(index) {
      var sub = e[index].r;
      var value = evalRule(sub);
      latestOut = value;
      latestMeta = { text: textOf(sub), score: 1 };
      rules[sub.i] = value;
      meta[sub.i] = latestMeta;
    }
    var fn = new Function('__child', 'rules', 'meta', body + 'return out;');
    return fn(child, rules, meta);
  }
  var value = evalRule(tree);
  return JSON.stringify({ v: value });
};
`;

const STRING_LITERAL = /^\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*;?\s*$/;

/** The script a tag runs: literal tags (and bare string-literal script tags) assign out. */
function tagScript(text: string, format: RuleSet['tagFormat']): string {
  if (format === 'semantics/1.0-literals') {
    const literal = STRING_LITERAL.exec(text);
    return `out = ${literal !== null ? literal[1] : JSON.stringify(text.trim())};`;
  }
  // Older VoiceXML grammars write <tag>'foo'</tag> meaning "the result is foo".
  if (STRING_LITERAL.test(text)) return `out = ${text.trim().replace(/;$/, '')};`;
  return text;
}

interface CompactNode {
  i: string;
  e: Array<{ w: string } | { t: string } | { r: CompactNode }>;
}

function compact(node: RuleNode, format: RuleSet['tagFormat']): CompactNode {
  return {
    i: node.id,
    e: node.events.map((event: ParseEvent) =>
      'word' in event ? { w: event.word } : 'tag' in event ? { t: tagScript(event.tag, format) } : { r: compact(event.rule, format) },
    ),
  };
}

/** A tag that only assigns a plain string literal to out (no escapes), e.g. `out = 'message';`. */
const LITERAL_ASSIGNMENT = /^\s*out\s*=\s*(?:'([^'\\\n]*)'|"([^"\\\n]*)")\s*;?\s*$/;

/** Every tag in the tree is a LITERAL_ASSIGNMENT. */
function onlyLiteralTags(node: CompactNode): boolean {
  for (const e of node.e) {
    if ('t' in e && !LITERAL_ASSIGNMENT.test(e.t)) return false;
    if ('r' in e && !onlyLiteralTags(e.r)) return false;
  }
  return true;
}

function matchedText(node: CompactNode, separator: string): string {
  const words: string[] = [];
  const collect = (n: CompactNode): void => {
    for (const e of n.e) {
      if ('w' in e) words.push(e.w);
      else if ('r' in e) collect(e.r);
    }
  };
  collect(node);
  return words.join(separator);
}

/**
 * What the driver computes for a tree whose tags all assign string literals, without QuickJS: the
 * root's last assignment (its children's outs cannot reach it without a tag reading them), or its
 * text when it has no tag. A keypad menu's `<tag>out = 'message';</tag>` is the common case, and
 * a QuickJS runtime per match cost every key press a millisecond or more of main-thread time.
 */
function literalInterpretation(tree: CompactNode, separator: string): string {
  let out: string | undefined;
  for (const e of tree.e) {
    if (!('t' in e)) continue;
    const m = LITERAL_ASSIGNMENT.exec(e.t);
    out = m?.[1] ?? m?.[2] ?? '';
  }
  return out ?? matchedText(tree, separator);
}

export async function interpret(
  tree: RuleNode,
  options: { format: RuleSet['tagFormat']; headerTags: readonly string[]; separator: string; grammarId: string },
): Promise<unknown> {
  const compacted = compact(tree, options.format);
  if (options.headerTags.length === 0 && onlyLiteralTags(compacted)) return literalInterpretation(compacted, options.separator);
  const quick = await loadQuickJs();
  const deadline = Date.now() + SISR_BUDGET_MS;
  const runtime = quick.newRuntime({
    memoryLimitBytes: MEMORY_LIMIT_BYTES,
    maxStackSizeBytes: STACK_LIMIT_BYTES,
    interruptHandler: () => Date.now() > deadline,
  });
  try {
    const context = runtime.newContext();
    try {
      const header = options.headerTags.length > 0 ? `(0, eval)(${JSON.stringify(options.headerTags.join('\n;\n'))});\n` : '';
      const code = `${DRIVER}\n${header}__sisr(${JSON.stringify(compacted)}, ${JSON.stringify(options.separator)});`;
      let result: ReturnType<typeof context.evalCode>;
      try {
        result = context.evalCode(code, 'sisr.js');
      } catch (err) {
        // the host itself failed (WASM stack or memory): this instance cannot be trusted again
        quickJs = undefined;
        throw new GrammarError(`semantic interpretation failed: ${err instanceof Error ? err.message : String(err)}`, { grammarId: options.grammarId, cause: err });
      }
      if (result.error !== undefined) {
        const failure: unknown = context.dump(result.error);
        result.error.dispose();
        throw new GrammarError(`semantic interpretation failed: ${describeJsError(failure)}`, { grammarId: options.grammarId });
      }
      const json: unknown = context.dump(result.value);
      result.value.dispose();
      if (typeof json !== 'string') return undefined;
      return (JSON.parse(json) as { v?: unknown }).v;
    } finally {
      disposeSafely(() => context.dispose());
    }
  } finally {
    disposeSafely(() => runtime.dispose());
  }
}

function describeJsError(failure: unknown): string {
  if (typeof failure === 'object' && failure !== null) {
    const { name, message } = failure as { name?: unknown; message?: unknown };
    if (typeof message === 'string') return typeof name === 'string' ? `${name}: ${message}` : message;
  }
  return String(failure);
}
