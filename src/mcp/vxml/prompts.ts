/**
 * Rendering prompts (VoiceXML 2.0 §4.1): the SSML <speak> document and the plain text of one
 * prompt, with <value> evaluated, <audio> made absolute (its content is the fallback), and
 * <enumerate> expanded over the choices of the enclosing menu or field.
 */
import { attr, childNodes, nameOf } from './dom.js';
import type { XmlElement, XmlNode } from './dom.js';

export interface PromptContext {
  /** the expression's value as a string (ECMAScript ToString) */
  evaluate(expr: string): string;
  resolve(uri: string): string;
  /** the choices an <enumerate> iterates: prompt and dtmf of each <choice>/<option> */
  enumerateItems(): Array<{ prompt: string; dtmf: string }>;
  /** <foreach> inside a prompt: runs body for each item with the variable declared */
  foreach(el: XmlElement, body: () => void): void;
  /** runs body with variables declared in a fresh anonymous scope (_prompt and _dtmf of <enumerate>) */
  withVariables(vars: Record<string, string>, body: () => void): void;
}

export interface RenderedPrompt {
  ssml: string;
  text: string;
}

const SSML_ELEMENTS = new Set(['break', 'emphasis', 'prosody', 'say-as', 'mark', 'p', 's', 'sub', 'voice', 'phoneme', 'lang', 'paragraph', 'sentence']);

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function stringOf(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? v.map(stringOf).join(',') : '[object Object]';
  return String(v);
}

class Renderer {
  ssml = '';
  text = '';
  constructor(private readonly ctx: PromptContext) {}

  words(s: string): void {
    this.ssml += escapeXml(s);
    this.text += s;
  }

  nodes(nodes: XmlNode[]): void {
    for (const n of nodes) this.node(n);
  }

  node(n: XmlNode): void {
    if (n.nodeType === 3 || n.nodeType === 4) {
      this.words(n.nodeValue ?? '');
      return;
    }
    if (n.nodeType !== 1) return;
    const el = n as XmlElement;
    const name = nameOf(el);
    if (name === 'value') {
      const expr = attr(el, 'expr');
      this.words(expr === undefined ? '' : this.ctx.evaluate(expr));
    } else if (name === 'audio') {
      this.audio(el);
    } else if (name === 'enumerate') {
      this.enumerate(el);
    } else if (name === 'foreach') {
      this.ctx.foreach(el, () => this.nodes(childNodes(el)));
    } else if (name === 'mark') {
      const markName = attr(el, 'name') ?? this.ctx.evaluate(attr(el, 'nameexpr') ?? "''");
      this.ssml += `<mark name="${escapeXml(markName)}"/>`;
    } else if (name === 'break') {
      this.ssml += `<break${attrsOf(el)}/>`;
      this.text += ' ';
    } else if (SSML_ELEMENTS.has(name)) {
      this.ssml += `<${name}${attrsOf(el)}>`;
      this.nodes(childNodes(el));
      this.ssml += `</${name}>`;
    } else {
      this.nodes(childNodes(el));
    }
  }

  audio(el: XmlElement): void {
    const expr = attr(el, 'expr');
    const src = attr(el, 'src') ?? (expr !== undefined ? this.ctx.evaluate(expr) : undefined);
    const fallback = new Renderer(this.ctx);
    fallback.nodes(childNodes(el));
    if (src === undefined || src === '' || src === 'undefined') {
      this.ssml += fallback.ssml;
    } else {
      this.ssml += `<audio src="${escapeXml(this.ctx.resolve(src))}">${fallback.ssml}</audio>`;
    }
    this.text += fallback.text;
  }

  /** §2.2.4: the content is a template run once per choice with _prompt and _dtmf set */
  enumerate(el: XmlElement): void {
    const items = this.ctx.enumerateItems();
    const template = childNodes(el).filter((c) => c.nodeType === 1 || (c.nodeValue ?? '').trim() !== '');
    for (const item of items) {
      if (template.length === 0) {
        this.words(` ${item.prompt} `);
        continue;
      }
      this.ctx.withVariables({ _prompt: item.prompt, _dtmf: item.dtmf }, () => this.nodes(template));
      this.words(' ');
    }
  }
}

function attrsOf(el: XmlElement): string {
  let out = '';
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i);
    if (a !== null && !a.name.startsWith('xmlns')) out += ` ${a.name}="${escapeXml(a.value)}"`;
  }
  return out;
}

/** renders the content of a <prompt> (or of an implicit prompt: text, <value>, <audio> in executable content) */
export function renderPrompt(nodes: XmlNode[], ctx: PromptContext, lang: string): RenderedPrompt {
  const r = new Renderer(ctx);
  r.nodes(nodes);
  const text = r.text.replace(/\s+/g, ' ').trim();
  const ssml = `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${escapeXml(lang)}">${r.ssml}</speak>`;
  return { ssml, text };
}
