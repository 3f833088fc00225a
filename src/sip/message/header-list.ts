/**
 * An ordered list of header fields (RFC 3261 §7.3). Values are kept as raw strings (folding
 * already collapsed to single spaces); typed views are built by the message on demand. Every
 * edit bumps `version`, which is how a message knows its cached typed views are stale.
 */
import { headerKey, headerNameInfo, isListHeader } from './header-names.js';
import { splitList } from './syntax.js';
import type { SipHeaderList } from './types.js';

/** one header field: canonical name, lower-case comparison key, raw value */
export interface HeaderField {
  name: string;
  key: string;
  value: string;
}
type Field = HeaderField;

export class HeaderList implements SipHeaderList {
  #fields: Field[] = [];
  /** incremented on every edit */
  version = 0;

  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries !== undefined) for (const [name, value] of entries) this.append(name, value);
  }

  /** Fast path for the parser: takes ownership of fields built with headerField(). */
  static adopt(fields: HeaderField[]): HeaderList {
    const list = new HeaderList();
    list.#fields = fields;
    return list;
  }

  /** the fields themselves, in wire order (read-only use) */
  fields(): readonly HeaderField[] {
    return this.#fields;
  }

  get size(): number {
    return this.#fields.length;
  }

  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.#fields) if (f.key === key) return f.value;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (const f of this.#fields) {
      if (f.key !== key) continue;
      if (list) for (const v of splitList(f.value)) out.push(v);
      else out.push(f.value);
    }
    return out;
  }

  /** raw field values without list splitting */
  getFields(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const f of this.#fields) if (f.key === key) out.push(f.value);
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.#fields.some((f) => f.key === key);
  }

  set(name: string, value: string): void {
    const info = headerNameInfo(name);
    const key = info.key;
    const idx = this.#fields.findIndex((f) => f.key === key);
    const field = { name: info.name, key, value: cleanValue(value) };
    if (idx === -1) this.#fields.push(field);
    else {
      this.#fields[idx] = field;
      this.#fields = this.#fields.filter((f, i) => i <= idx || f.key !== key);
    }
    this.version++;
  }

  append(name: string, value: string): void {
    const info = headerNameInfo(name);
    this.#fields.push({ name: info.name, key: info.key, value: cleanValue(value) });
    this.version++;
  }

  prepend(name: string, value: string): void {
    const info = headerNameInfo(name);
    const key = info.key;
    const idx = this.#fields.findIndex((f) => f.key === key);
    const field = { name: info.name, key, value: cleanValue(value) };
    // with no field of that name yet, a prepended Via/Record-Route still goes first
    this.#fields.splice(idx === -1 ? 0 : idx, 0, field);
    this.version++;
  }

  remove(name: string): number {
    const key = headerKey(name);
    const before = this.#fields.length;
    this.#fields = this.#fields.filter((f) => f.key !== key);
    const removed = before - this.#fields.length;
    if (removed > 0) this.version++;
    return removed;
  }

  removeFirst(name: string): string | undefined {
    const key = headerKey(name);
    const idx = this.#fields.findIndex((f) => f.key === key);
    if (idx === -1) return undefined;
    const field = this.#fields[idx] as Field;
    this.version++;
    if (isListHeader(key)) {
      const parts = splitList(field.value);
      if (parts.length > 1) {
        field.value = parts.slice(1).join(', ');
        return parts[0];
      }
    }
    this.#fields.splice(idx, 1);
    return field.value;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const f of this.#fields) yield [f.name, f.value];
  }

  clone(): HeaderList {
    const copy = new HeaderList();
    // field by field rather than a spread: one object shape for every field (a proxy clones per forward)
    copy.#fields = this.#fields.map((f) => ({ name: f.name, key: f.key, value: f.value }));
    return copy;
  }
}

/**
 * Values set from code must not smuggle a line break into the serialized message (header
 * injection): CR/LF become spaces.
 */
export function cleanValue(value: string): string {
  // indexOf instead of a regex: this runs for every header a response or a forwarded request gets
  if (value.indexOf('\r') !== -1 || value.indexOf('\n') !== -1) return value.replace(/\r\n?|\n/g, ' ').trim();
  const n = value.length;
  // most values come already trimmed (parser output, formatted values): skip the copy
  if (n === 0 || (isVisibleAscii(value.charCodeAt(0)) && isVisibleAscii(value.charCodeAt(n - 1)))) return value;
  return value.trim();
}

/** a printable ASCII character: String.prototype.trim() never removes one */
function isVisibleAscii(c: number): boolean {
  return c > 32 && c < 127;
}

/** a field for HeaderList.adopt (name trimmed, value unfolded and trimmed by the caller) */
export function headerField(rawName: string, value: string): HeaderField {
  const info = headerNameInfo(rawName);
  return { name: info.name, key: info.key, value };
}
