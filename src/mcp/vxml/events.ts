/**
 * Catch selection (VoiceXML 2.0 §5.2.4): catches of the current element and every enclosing
 * one (form item, form, document, application root), filtered by event-name prefix matching on
 * whole dot-separated tokens and by cond, then the highest count not above the event counter.
 */
import { attr, childElements, nameOf, parentElement } from './dom.js';
import type { XmlElement } from './dom.js';

const SHORTHANDS: Record<string, string> = { error: 'error', help: 'help', noinput: 'noinput', nomatch: 'nomatch' };

/** the event names a catch element (or shorthand) listens to; [] means every event */
export function catchEvents(el: XmlElement): string[] {
  const name = nameOf(el);
  const short = SHORTHANDS[name];
  if (short !== undefined) return [short];
  const ev = attr(el, 'event');
  if (ev === undefined) return [];
  return ev.split(/\s+/).filter((e) => e !== '');
}

/** §5.2.4: a catch for "error.badfetch" catches error.badfetch.http.404; "." or "" catches all */
export function eventMatches(catchName: string, event: string): boolean {
  const c = catchName.replace(/\.+$/, '');
  if (c === '' || c === '.') return true;
  return event === c || event.startsWith(`${c}.`);
}

export function isCatchElement(el: XmlElement): boolean {
  const n = nameOf(el);
  return n === 'catch' || SHORTHANDS[n] !== undefined;
}

/** the candidate catch elements from `from` outwards, then the application root's */
export function candidateCatches(from: XmlElement | undefined, rootDocument: XmlElement | undefined): XmlElement[] {
  const out: XmlElement[] = [];
  for (let el = from; el !== undefined; el = parentElement(el)) {
    for (const c of childElements(el)) if (isCatchElement(c)) out.push(c);
  }
  if (rootDocument !== undefined) for (const c of childElements(rootDocument)) if (isCatchElement(c)) out.push(c);
  return out;
}

export function selectCatch(
  candidates: XmlElement[],
  event: string,
  count: number,
  condTrue: (expr: string) => boolean,
): XmlElement | undefined {
  const list = candidates.filter((c) => {
    const names = catchEvents(c);
    if (names.length > 0 && !names.some((n) => eventMatches(n, event))) return false;
    const cond = attr(c, 'cond');
    return cond === undefined || condTrue(cond);
  });
  let correct = -1;
  for (const c of list) {
    const n = countOf(c);
    if (n <= count && n > correct) correct = n;
  }
  return list.find((c) => countOf(c) === correct);
}

export function countOf(el: XmlElement): number {
  const n = Number(attr(el, 'count') ?? '1');
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
}
