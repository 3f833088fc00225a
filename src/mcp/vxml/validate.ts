/**
 * The checks of the VoiceXML schema that decide whether a document can run: mutually exclusive
 * attributes (VoiceXML 2.0 §5.3.7 "exactly one of next, expr, nextitem or expritem", 2.1 §2-4
 * for src/srcexpr) and required ones. A document that fails is not loaded: error.badfetch is
 * thrown where the transition to it was made.
 */
import { attr, childElements, nameOf } from './dom.js';
import type { XmlElement } from './dom.js';

interface Rule {
  /** exactly one (or, with optional, at most one) of these may be present */
  oneOf?: string[];
  optional?: boolean;
  /** attributes that must be present */
  required?: string[];
  /** at most one of these */
  atMostOne?: string[][];
  /** inline content counts as one of oneOf */
  content?: boolean;
}

const RULES: Record<string, Rule> = {
  goto: { oneOf: ['next', 'expr', 'nextitem', 'expritem'] },
  submit: { oneOf: ['next', 'expr'] },
  subdialog: { oneOf: ['src', 'srcexpr'], optional: true },
  choice: { oneOf: ['next', 'expr', 'event', 'eventexpr'], optional: true, atMostOne: [['message', 'messageexpr']] },
  link: { oneOf: ['next', 'expr', 'event', 'eventexpr'], atMostOne: [['message', 'messageexpr']] },
  throw: { oneOf: ['event', 'eventexpr'], atMostOne: [['message', 'messageexpr']] },
  return: { oneOf: ['event', 'eventexpr', 'namelist'], optional: true, atMostOne: [['message', 'messageexpr']] },
  exit: { oneOf: ['expr', 'namelist'], optional: true },
  audio: { oneOf: ['src', 'expr'] },
  data: { oneOf: ['src', 'srcexpr'] },
  transfer: { oneOf: ['dest', 'destexpr'], optional: true, atMostOne: [['aai', 'aaiexpr']] },
  grammar: { oneOf: ['src', 'srcexpr'], content: true },
  script: { oneOf: ['src', 'srcexpr'], content: true, optional: true },
  var: { required: ['name'] },
  assign: { required: ['name', 'expr'] },
  foreach: { required: ['array', 'item'] },
  mark: { oneOf: ['name', 'nameexpr'] },
  log: { atMostOne: [['label', 'labelexpr']] },
  param: { required: ['name'], atMostOne: [['expr', 'value']] },
};

function hasContent(el: XmlElement): boolean {
  if (childElements(el).length > 0) return true;
  return (el.textContent ?? '').trim() !== '';
}

function checkElement(el: XmlElement): string | undefined {
  const name = nameOf(el);
  const rule = RULES[name];
  if (rule === undefined) return undefined;
  for (const r of rule.required ?? []) if (attr(el, r) === undefined) return `<${name}> needs ${r}`;
  for (const group of rule.atMostOne ?? []) if (group.filter((a) => attr(el, a) !== undefined).length > 1) return `<${name}> may have only one of ${group.join(', ')}`;
  if (rule.oneOf !== undefined) {
    let n = rule.oneOf.filter((a) => attr(el, a) !== undefined).length;
    if (rule.content === true && hasContent(el)) n++;
    if (n > 1) return `<${name}> may have only one of ${rule.oneOf.join(', ')}${rule.content === true ? ' or content' : ''}`;
    if (n === 0 && rule.optional !== true) return `<${name}> needs one of ${rule.oneOf.join(', ')}${rule.content === true ? ' or content' : ''}`;
  }
  return undefined;
}

/** the first problem of the document, or undefined when it may run */
export function validateDocument(root: XmlElement): string | undefined {
  const stack: XmlElement[] = [root];
  while (stack.length > 0) {
    const el = stack.pop();
    if (el === undefined) break;
    // grammars' own contents are SRGS, checked by the grammar compiler
    if (nameOf(el) !== 'grammar') for (const c of childElements(el)) stack.push(c);
    const problem = checkElement(el);
    if (problem !== undefined) return problem;
    if (nameOf(el) === 'form') {
      const seen = new Set<string>();
      for (const item of childElements(el)) {
        const n = attr(item, 'name');
        if (n === undefined || !['field', 'block', 'initial', 'subdialog', 'object', 'record', 'transfer'].includes(nameOf(item))) continue;
        if (seen.has(n)) return `form item name ${n} is used twice`;
        seen.add(n);
      }
    }
  }
  return undefined;
}
