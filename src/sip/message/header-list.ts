/**
 * An ordered list of header fields (RFC 3261 §7.3). Values are kept as raw strings (folding
 * already collapsed to single spaces); typed views are built by the message on demand. Every
 * edit bumps `version`, which is how a message knows its cached typed views are stale.
 */
import { headerKey, headerNameInfo, isListHeader } from './header-names.js';
import { flatString } from './detached-string.js';
import { splitList } from './syntax.js';
import type { SipHeaderList } from './types.js';

/** one header field: canonical name, lower-case comparison key, raw value */
export interface HeaderField {
  name: string;
  key: string;
  value: string;
}
type Field = HeaderField;

/** the fields of a packed list: never written to (every access unpacks first) */
const NO_FIELDS: Field[] = [];

export class HeaderList implements SipHeaderList {
  #fields: Field[] = [];
  /**
   * The fields as one flat string while the list is packed (see pack()), else undefined. A
   * packed list reads and edits as before: the first access unpacks it.
   */
  #packed: string | undefined;
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
    return this.#list();
  }

  get size(): number {
    return this.#list().length;
  }

  /** the fields, unpacked first when the list is packed */
  #list(): Field[] {
    if (this.#packed !== undefined) this.#unpack();
    return this.#fields;
  }

  /**
   * Keep the fields as one flat string: "name LF value LF" per field (neither a name nor a value
   * holds a LF: the parser splits lines on it and cleanValue() removes it). A message a
   * transaction only keeps to resend or to match for 32 s (Timers J, L, M) then costs the garbage
   * collector one string instead of an object and a substring per field, and no longer pins the
   * text of the datagram it was parsed from. Reading or editing unpacks it (same fields, same
   * order). A list with a field that would not round-trip stays as it is.
   */
  pack(): void {
    if (this.#packed !== undefined) return;
    const fields = this.#fields;
    if (fields.length === 0) return;
    let packed = '';
    for (const f of fields) {
      if (f.name.indexOf('\n') !== -1 || f.value.indexOf('\n') !== -1) return;
      packed += f.name + '\n' + f.value + '\n';
    }
    this.#packed = flatString(packed);
    this.#fields = NO_FIELDS;
  }

  #unpack(): void {
    const packed = this.#packed as string;
    const fields: Field[] = [];
    let pos = 0;
    while (pos < packed.length) {
      const nameEnd = packed.indexOf('\n', pos);
      const valueEnd = packed.indexOf('\n', nameEnd + 1);
      const info = headerNameInfo(packed.slice(pos, nameEnd));
      fields.push({ name: info.name, key: info.key, value: packed.slice(nameEnd + 1, valueEnd) });
      pos = valueEnd + 1;
    }
    this.#fields = fields;
    this.#packed = undefined;
  }

  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.#list()) if (f.key === key) return f.value;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (const f of this.#list()) {
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
    for (const f of this.#list()) if (f.key === key) out.push(f.value);
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.#list().some((f) => f.key === key);
  }

  set(name: string, value: string): void {
    const info = headerNameInfo(name);
    const key = info.key;
    const idx = this.#list().findIndex((f) => f.key === key);
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
    this.#list().push({ name: info.name, key: info.key, value: cleanValue(value) });
    this.version++;
  }

  prepend(name: string, value: string): void {
    const info = headerNameInfo(name);
    const key = info.key;
    const idx = this.#list().findIndex((f) => f.key === key);
    const field = { name: info.name, key, value: cleanValue(value) };
    // with no field of that name yet, a prepended Via/Record-Route still goes first
    this.#fields.splice(idx === -1 ? 0 : idx, 0, field);
    this.version++;
  }

  remove(name: string): number {
    const key = headerKey(name);
    const before = this.#list().length;
    this.#fields = this.#fields.filter((f) => f.key !== key);
    const removed = before - this.#fields.length;
    if (removed > 0) this.version++;
    return removed;
  }

  removeFirst(name: string): string | undefined {
    const key = headerKey(name);
    const idx = this.#list().findIndex((f) => f.key === key);
    if (idx === -1) return undefined;
    const field = this.#fields[idx] as Field;
    this.version++;
    // a value without a comma holds one element: nothing to split (the usual top Via or Route)
    if (isListHeader(key) && field.value.indexOf(',') !== -1) {
      const parts = splitList(field.value);
      if (parts.length > 1) {
        field.value = parts.slice(1).join(', ');
        return parts[0];
      }
    }
    this.#fields.splice(idx, 1);
    return field.value;
  }

  /**
   * Replace the first field of that name in place when it holds a single value (no comma), as
   * removeFirst() then prepend() would, without moving fields around; false (and nothing done)
   * when there is no such field or it holds a comma-joined list.
   */
  replaceFirstSingle(name: string, value: string): boolean {
    const key = headerKey(name);
    const field = this.#list().find((f) => f.key === key);
    if (field === undefined || field.value.indexOf(',') !== -1) return false;
    field.value = cleanValue(value);
    this.version++;
    return true;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const f of this.#list()) yield [f.name, f.value];
  }

  clone(): HeaderList {
    const copy = new HeaderList();
    // field by field rather than a spread: one object shape for every field (a proxy clones per forward)
    copy.#fields = this.#list().map((f) => ({ name: f.name, key: f.key, value: f.value }));
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
