/**
 * Properties (VoiceXML 2.0 §6.3): looked up from the innermost element outwards, through the
 * document and the application root; time designations such as "5s" or "250ms".
 */
import { attr, childElements, parentElement } from './dom.js';
import type { XmlElement } from './dom.js';

export const PROPERTY_DEFAULTS: Record<string, string> = {
  timeout: '5s',
  interdigittimeout: '3s',
  termtimeout: '0s',
  termchar: '#',
  completetimeout: '1s',
  incompletetimeout: '2s',
  maxspeechtimeout: '20s',
  confidencelevel: '0.5',
  sensitivity: '0.5',
  speedvsaccuracy: '0.5',
  bargein: 'true',
  bargeintype: 'speech',
  inputmodes: 'dtmf voice',
  fetchtimeout: '30s',
  universals: 'none',
  maxnbest: '1',
};

/** "5s", "250ms", "1.5s" to ms; undefined when it is not a time designation */
export function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)\s*$/.exec(value);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : n;
}

export class PropertyScope {
  constructor(private readonly rootDocument: XmlElement | undefined) {}

  /** the value in effect at `from` (a form item, form, or the document element) */
  get(name: string, from: XmlElement | undefined): string {
    for (let el = from; el !== undefined; el = parentElement(el)) {
      const v = ownProperty(el, name);
      if (v !== undefined) return v;
    }
    if (this.rootDocument !== undefined) {
      const v = ownProperty(this.rootDocument, name);
      if (v !== undefined) return v;
    }
    return PROPERTY_DEFAULTS[name] ?? '';
  }

  timeMs(name: string, from: XmlElement | undefined): number {
    return parseTime(this.get(name, from)) ?? parseTime(PROPERTY_DEFAULTS[name]) ?? 0;
  }

  number(name: string, from: XmlElement | undefined): number {
    const n = Number(this.get(name, from));
    return Number.isFinite(n) ? n : Number(PROPERTY_DEFAULTS[name] ?? 0);
  }
}

function ownProperty(el: XmlElement, name: string): string | undefined {
  let found: string | undefined;
  for (const p of childElements(el, 'property')) if (attr(p, 'name') === name) found = attr(p, 'value');
  return found;
}
