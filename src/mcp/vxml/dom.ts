/**
 * The document model: VoiceXML documents stay @xmldom/xmldom trees, read through these helpers
 * by local name, so a missing or foreign namespace prefix does not matter.
 */
import type { Element as XmlElement, Node as XmlNode } from '@xmldom/xmldom';

export type { XmlElement, XmlNode };

export const VXML_NS = 'http://www.w3.org/2001/vxml';

export function nameOf(node: XmlNode): string {
  const el = node as XmlElement;
  return el.localName ?? node.nodeName;
}

export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (let n: XmlNode | null = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (name === undefined || nameOf(n) === name)) out.push(n as XmlElement);
  }
  return out;
}

export function childNodes(el: XmlElement): XmlNode[] {
  const out: XmlNode[] = [];
  for (let n: XmlNode | null = el.firstChild; n !== null; n = n.nextSibling) out.push(n);
  return out;
}

/** the attribute's value, or undefined when absent */
export function attr(el: XmlElement, name: string): string | undefined {
  return el.hasAttribute(name) ? (el.getAttribute(name) ?? undefined) : undefined;
}

export function parentElement(el: XmlElement): XmlElement | undefined {
  const p = el.parentNode;
  return p !== null && p.nodeType === 1 ? (p as XmlElement) : undefined;
}

export function textOf(node: XmlNode): string {
  return node.textContent ?? '';
}


/** serializes a DOM node to the JSON form the script sandbox builds a read-only DOM from */
export interface DomJson {
  t: number;
  n: string;
  v?: string;
  a?: Record<string, string>;
  c?: DomJson[];
}

export function domToJson(node: XmlNode): DomJson {
  if (node.nodeType === 3 || node.nodeType === 4) return { t: 3, n: '#text', v: node.nodeValue ?? '' };
  if (node.nodeType === 8) return { t: 8, n: '#comment', v: node.nodeValue ?? '' };
  const out: DomJson = { t: node.nodeType, n: node.nodeType === 9 ? '#document' : node.nodeName, c: [] };
  if (node.nodeType === 1) {
    const el = node as XmlElement;
    const a: Record<string, string> = {};
    for (let i = 0; i < el.attributes.length; i++) {
      const at = el.attributes.item(i);
      if (at !== null) a[at.name] = at.value;
    }
    out.a = a;
  }
  for (let n: XmlNode | null = node.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 || n.nodeType === 3 || n.nodeType === 4 || n.nodeType === 8) out.c?.push(domToJson(n));
  }
  return out;
}
